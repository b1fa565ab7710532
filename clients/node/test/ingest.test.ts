/** Bulk ingest over UpsertStream: messages, resume after a partial run, the size limit, a refused item. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Client, IngestError, type IngestResult, JointspaceError, Status } from "../src";
import { SAMPLES, useLiveServer } from "./fixture";
import { captions, failingAfter, Interrupted } from "./items";

const live = useLiveServer();

test("ingest 500 items in messages of 100", async () => {
  const name = live.collectionName();
  await live.client.createCollection(name, { version: 2 });
  const progress: IngestResult[] = [];
  const result = await live.client.ingest(name, captions(500), { batchSize: 100, onProgress: (p) => progress.push(p) });
  assert.deepEqual(result, { committed: 500, skipped: 0, messages: 5 });
  assert.deepEqual(progress.map((p) => p.committed), [100, 200, 300, 400, 500]);
  assert.equal((await live.client.getCollection(name)).itemCount, 500);
});

test("an interrupted ingest resumes where it stopped", async () => {
  const name = live.collectionName();
  await live.client.createCollection(name, { version: 2 });
  await assert.rejects(live.client.ingest(name, failingAfter(captions(500), 250), { batchSize: 100 }), Interrupted);
  // the two full messages were sent and committed; the half-built third never left
  assert.equal((await live.client.getCollection(name)).itemCount, 200);

  const result = await live.client.ingest(name, captions(500), { batchSize: 100, resume: true });
  assert.deepEqual([result.committed, result.skipped], [300, 200]);
  assert.equal((await live.client.getCollection(name)).itemCount, 500);

  const again = await live.client.ingest(name, captions(500), { resume: true });
  assert.deepEqual(again, { committed: 0, skipped: 500, messages: 0 });
});

test("messages stay under the client's size limit", async () => {
  const name = live.collectionName();
  await live.client.createCollection(name, { version: 2 });
  const image = readFileSync(join(SAMPLES, "red-star.png"));
  const items = Array.from({ length: 20 }, (_, n) => ({ id: `img-${n}`, image }));
  const small = new Client(live.address, { maxMessageBytes: 4 * image.length + 8192 });
  try {
    const result = await small.ingest(name, items, { batchSize: 1000 });
    assert.deepEqual([result.committed, result.messages], [20, 5]);
    await assert.rejects(small.ingest(name, [{ id: "big", image: Buffer.alloc(5 * image.length) }]), RangeError);
  } finally {
    small.close();
  }
});

test("a refused item ends the ingest naming it; what came before stays committed", async () => {
  const name = live.collectionName();
  await live.client.createCollection(name, { version: 2 });
  const items = [...captions(250)];
  items[163] = { id: "bad-vector", vector: [0.5, 0.5], metadata: {} };
  const error = await live.client.ingest(name, items, { batchSize: 50 }).then(() => assert.fail("no error"), (e) => e);
  assert.ok(error instanceof IngestError && error instanceof JointspaceError);
  assert.equal(error.code, Status.INVALID_ARGUMENT);
  assert.equal(error.field, "items[13].vector.values");
  assert.equal(error.itemId, "bad-vector");
  assert.equal(error.committed, 150);
  assert.equal((await live.client.getCollection(name)).itemCount, 150);

  items[163] = { id: "", text: "an empty id" };
  const empty = await live.client.ingest(name, items, { batchSize: 50, resume: true }).then(() => assert.fail("no error"), (e) => e);
  assert.equal(empty.field, "items[13].id");
  assert.equal(empty.itemId, "");
  assert.equal(empty.committed, 0);
});
