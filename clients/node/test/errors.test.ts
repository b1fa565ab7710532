/** Errors: the gRPC code, the server's message, the request field it names; deadlines; cancelling. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, fieldOf, JointspaceError, RolloutState, Status } from "../src";
import { useLiveServer } from "./fixture";

const live = useLiveServer();

test("an unknown collection is NOT_FOUND, naming no field", async () => {
  const error = await live.client.search("no_such_collection", { text: "a red star" }).then(() => assert.fail("no error"), (e) => e);
  assert.ok(error instanceof JointspaceError && error instanceof Error);
  assert.equal(error.code, Status.NOT_FOUND);
  assert.equal(error.codeName, "NOT_FOUND");
  assert.match(error.details, /no_such_collection/);
  assert.equal(error.message, `NOT_FOUND: ${error.details}`);
  assert.equal(error.field, undefined);
  assert.equal(error.retryable, false);
});

test("INVALID_ARGUMENT and RESOURCE_EXHAUSTED name the request field", async () => {
  const name = live.collectionName();
  await live.client.createCollection(name, { version: 2 });
  await assert.rejects(live.client.upsert(name, [{ id: "a", text: "a red star" }, { id: "", text: "x" }]),
    (e: JointspaceError) => e.code === Status.INVALID_ARGUMENT && e.field === "items[1].id" && e.details.startsWith("items[1].id "));
  await assert.rejects(live.client.embed({ texts: ["a red star", ""], version: 2 }),
    { code: Status.INVALID_ARGUMENT, field: "inputs[1].text" });
  await assert.rejects(live.client.embed({ images: [Buffer.from("not an image")], version: 2 }),
    { code: Status.INVALID_ARGUMENT, field: "inputs[0].image" });
  // a request over the limits: RESOURCE_EXHAUSTED names the field too
  await assert.rejects(live.client.search(name, { text: "x", topK: 5000 }), { code: Status.RESOURCE_EXHAUSTED, field: "top_k" });
  assert.equal((await live.client.getCollection(name)).itemCount, 0);
});

test("ALREADY_EXISTS and FAILED_PRECONDITION", async () => {
  const name = live.collectionName();
  await live.client.createCollection(name, { version: 1 });
  await assert.rejects(live.client.createCollection(name, { version: 1 }), { code: Status.ALREADY_EXISTS });
  await live.client.upsert(name, [{ id: "a", text: "a red star" }]);
  await live.client.startRollout(name, { version: 2 });
  assert.equal((await live.client.waitForRollout(name, { timeoutMs: 60_000 })).state, RolloutState.READY);
  await assert.rejects(live.client.finalizeRollout(name), (e: JointspaceError) =>
    e.code === Status.FAILED_PRECONDITION && /cannot finalize/.test(e.details));
  assert.equal((await live.client.abortRollout(name)).state, RolloutState.ABORTED);
});

test("a call past its deadline is DEADLINE_EXCEEDED; the client's default applies otherwise", async () => {
  await assert.rejects(live.client.classify(["red star", "blue circle"], { texts: ["a small red star"], timeoutMs: 1 }),
    { code: Status.DEADLINE_EXCEEDED });
  const labels = await live.client.classify(["red star", "blue circle"], { texts: ["a small red star"] });
  assert.equal(labels[0][0].label, "red star");
  assert.throws(() => new Client(live.address, { timeoutMs: 0 }), RangeError);
});

test("aborting the signal cancels the call", async () => {
  const controller = new AbortController();
  const call = live.client.embed({ texts: ["a red star"], signal: controller.signal });
  controller.abort();
  await assert.rejects(call, { code: Status.CANCELLED });
  await assert.rejects(live.client.getCollection("any", { signal: AbortSignal.abort() }), { code: Status.CANCELLED });
});

test("mistakes the client can see are thrown before any call", async () => {
  await assert.rejects(live.client.search("any", { text: "x", vector: [1] } as never), TypeError);
  await assert.rejects(live.client.embed({ texts: ["x"], version: 1, label: "stable" }), TypeError);
  await assert.rejects(live.client.embed({}), TypeError);
  await assert.rejects(live.client.upsert("any", [{ id: "a", text: "x", vector: [1] }]), TypeError);
  await assert.rejects(live.client.createCollection("any", { metric: "MANHATTAN" as never }), TypeError);
  await assert.rejects(live.client.ingest("any", [], { batchSize: 0 }), RangeError);
});

test("fieldOf keeps the path up to the last name the request type has", () => {
  const cases: [string, string, string | undefined][] = [
    ["items[3].id is empty", "jointspace.v1.UpsertRequest", "items[3].id"],
    ["items[3].input.text: too long", "jointspace.v1.UpsertRequest", "items[3].input.text"],
    ["message 2: items[0].id is empty", "jointspace.v1.UpsertStreamRequest", "items[0].id"],
    ["top_k 5000 is over the limit", "jointspace.v1.SearchRequest", "top_k"],
    ["filter.range mixes kinds", "jointspace.v1.SearchRequest", "filter.range"],
    ["filter.and.filters[2].range.key is empty", "jointspace.v1.SearchRequest", "filter.and.filters[2].range.key"],
    ["items[1].metadata.color is too big", "jointspace.v1.UpsertRequest", "items[1].metadata"],
    ["inputs[0].image is not an image", "jointspace.v1.EmbedRequest", "inputs[0].image"],
    ["unknown model 'x'", "jointspace.v1.EmbedRequest", undefined],
    ["inputs, of all things", "jointspace.v1.EmbedRequest", undefined],
    ["name", "jointspace.v1.GetCollectionRequest", "name"],
  ];
  for (const [message, type, field] of cases) assert.equal(fieldOf(message, type), field, message);
});
