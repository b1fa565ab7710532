/**
 * What the client does on the wire, against a small in-process server (no Jointspace server):
 * the retry policy (idempotent methods are retried on UNAVAILABLE and RESOURCE_EXHAUSTED,
 * creating things never), ingest's flow control on the server's commits, and the API key.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, status, type ServerDuplexStream } from "@grpc/grpc-js";
import { Client, Status } from "../src";
import {
  Collection,
  CollectionServiceService,
  type UpsertStreamRequest,
  type UpsertStreamResponse,
} from "../src/gen/jointspace/v1/collection_service";
import { EmbeddingServiceService } from "../src/gen/jointspace/v1/embedding_service";

/** Answers each unary method with `failures` errors of `code` first, and counts the calls. */
class Fake {
  readonly calls = new Map<string, number>();
  mostAhead = 0;

  constructor(private readonly failures = 0, private readonly code: status = status.UNAVAILABLE) {}

  unary(method: string, answer: () => unknown) {
    return (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const n = (this.calls.get(method) ?? 0) + 1;
      this.calls.set(method, n);
      if (n <= this.failures) callback({ code: this.code, details: `${method} attempt ${n} fails` });
      else callback(null, answer());
    };
  }

  /** Commits each message after 20 ms, while it takes in whatever the client sends meanwhile. */
  upsertStream(call: ServerDuplexStream<UpsertStreamRequest, UpsertStreamResponse>) {
    let arrived = 0;
    let answered = 0;
    let total = 0;
    let chain = Promise.resolve();
    call.on("data", (message: UpsertStreamRequest) => {
      arrived++;
      chain = chain.then(async () => {
        await sleep(20);
        this.mostAhead = Math.max(this.mostAhead, arrived - answered);
        total += message.items.length;
        call.write({ committedCount: message.items.length, totalCommitted: total, messageIndex: answered++, consistencyToken: "" });
      });
    });
    call.on("end", () => void chain.then(() => call.end()));
  }
}

const servers: Server[] = [];
after(() => servers.forEach((s) => s.forceShutdown()));

async function serve(fake: Fake): Promise<string> {
  const server = new Server();
  server.addService(EmbeddingServiceService, {
    embed: fake.unary("Embed", () => ({ dimension: 1, embeddings: [{ values: [1] }] })),
  });
  server.addService(CollectionServiceService, {
    upsert: fake.unary("Upsert", () => ({ upsertedCount: 1 })),
    createCollection: fake.unary("CreateCollection", () => Collection.fromPartial({ name: "c" })),
    upsertStream: (call: ServerDuplexStream<UpsertStreamRequest, UpsertStreamResponse>) => fake.upsertStream(call),
  });
  const port = await new Promise<number>((done, fail) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : done(p))));
  servers.push(server);
  return `127.0.0.1:${port}`;
}

const fast = { initialBackoffMs: 10, maxBackoffMs: 50 };

for (const code of [status.UNAVAILABLE, status.RESOURCE_EXHAUSTED]) {
  test(`idempotent calls are retried on ${Status[code]}`, async () => {
    const fake = new Fake(2, code);
    const client = new Client(await serve(fake), fast);
    assert.deepEqual(await client.embed({ texts: ["x"] }), [[1]]);
    assert.equal(fake.calls.get("Embed"), 3);
    assert.equal(await client.upsert("c", [{ id: "a", text: "x" }]), 1); // a write by id: the same state however often
    assert.equal(fake.calls.get("Upsert"), 3);
    client.close();
  });
}

test("creating things is not retried", async () => {
  const fake = new Fake(1);
  const client = new Client(await serve(fake), fast);
  await assert.rejects(client.createCollection("c"), { code: Status.UNAVAILABLE });
  assert.equal(fake.calls.get("CreateCollection"), 1);
  assert.equal((await client.createCollection("c")).name, "c");
  client.close();
});

test("retries give up after the attempts, and can be turned off", async () => {
  const fake = new Fake(10, status.RESOURCE_EXHAUSTED);
  const client = new Client(await serve(fake), { ...fast, retryAttempts: 3 });
  await assert.rejects(client.embed({ texts: ["x"] }), { code: Status.RESOURCE_EXHAUSTED, retryable: true });
  assert.equal(fake.calls.get("Embed"), 3);
  client.close();

  const once = new Fake(1);
  const noRetries = new Client(await serve(once), { retryAttempts: 1 });
  await assert.rejects(noRetries.embed({ texts: ["x"] }), { code: Status.UNAVAILABLE });
  assert.equal(once.calls.get("Embed"), 1);
  noRetries.close();
});

for (const maxAhead of [1, 3]) {
  test(`ingest sends at most ${maxAhead} messages before their commit`, async () => {
    const fake = new Fake();
    const client = new Client(await serve(fake));
    const items = Array.from({ length: 200 }, (_, n) => ({ id: `i${n}`, text: "x" }));
    const result = await client.ingest("c", items, { batchSize: 10, maxAhead });
    assert.deepEqual([result.committed, result.messages], [200, 20]);
    assert.equal(fake.mostAhead, maxAhead);
    client.close();
  });
}

test("an apiKey is sent as authorization: Bearer on every call, over plaintext", async () => {
  const seen: string[] = [];
  const server = new Server();
  server.addService(EmbeddingServiceService, {
    embed: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      seen.push(`Embed ${call.metadata.get("authorization").join(",")}`);
      callback(null, { dimension: 1, embeddings: [{ values: [1] }] });
    },
  });
  server.addService(CollectionServiceService, {
    upsertStream: (call: ServerDuplexStream<UpsertStreamRequest, UpsertStreamResponse>) => {
      seen.push(`UpsertStream ${call.metadata.get("authorization").join(",")}`);
      new Fake().upsertStream(call);
    },
  });
  const port = await new Promise<number>((done, fail) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : done(p))));
  servers.push(server);
  const keyed = new Client(`127.0.0.1:${port}`, { apiKey: "js_0123456789abcdef_secret" });
  await keyed.embed({ texts: ["x"] });
  await keyed.ingest("c", [{ id: "a", text: "x" }]);
  keyed.close();
  const anonymous = new Client(`127.0.0.1:${port}`);
  await anonymous.embed({ texts: ["x"] });
  anonymous.close();
  assert.deepEqual(seen, ["Embed Bearer js_0123456789abcdef_secret", "UpsertStream Bearer js_0123456789abcdef_secret",
    "Embed "]);
});
