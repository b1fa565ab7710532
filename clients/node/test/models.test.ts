/** ModelService through the client: models, versions, labels and their history; readiness. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ModelState, Status } from "../src";
import { useLiveServer } from "./fixture";

const live = useLiveServer();

test("list models, their status and metadata", async () => {
  const models = await live.client.listModels();
  assert.ok(models.some((m) => m.name === "shapes-clip"));
  const status = await live.client.modelStatus("shapes-clip");
  const versions = new Map(status.versions.map((v) => [v.version, v.state]));
  assert.equal(versions.get(1), ModelState.AVAILABLE);
  assert.equal(versions.get(2), ModelState.AVAILABLE);
  assert.equal((await live.client.modelStatus("shapes-clip", { version: 1 })).versions.length, 1);
  assert.equal((await live.client.modelMetadata("shapes-clip", { version: 2 })).embeddingDimension, 64);
  assert.equal((await live.client.modelMetadata("shapes-clip", { version: 1 })).embeddingDimension, 32);
});

test("set a label, split it, read its history, delete it", async () => {
  const label = `node_history_${process.pid}`;
  await live.client.setLabel("shapes-clip", label, 1, { changedBy: "node-test" });
  const split = await live.client.setLabel("shapes-clip", label, { 1: 90, 2: 10 }, { changedBy: "node-test" });
  assert.deepEqual(split.to?.weights, { 1: 90, 2: 10 });
  assert.equal((await live.client.modelMetadata("shapes-clip", { label: `node_history_${process.pid}` })).model?.name, "shapes-clip");
  const history = await live.client.labelHistory("shapes-clip", { label });
  assert.deepEqual(history.map((c) => c.to?.weights), [{ 1: 1 }, { 1: 90, 2: 10 }]);
  assert.equal(history.at(-1)?.changedBy, "node-test");
  assert.ok(history[0].changedAt instanceof Date);

  const removed = await live.client.deleteLabel("shapes-clip", label, { changedBy: "node-test" });
  assert.equal(removed.to, undefined);
  const labels = (await live.client.modelStatus("shapes-clip")).labels.map((l) => l.name);
  assert.ok(!labels.includes(label));
});

test("the server is ready and serving", async () => {
  assert.equal(await live.client.serverReady(), true);
  assert.equal(await live.client.serving(), true);
  await assert.rejects(live.client.serving("no.such.Service"), { code: Status.NOT_FOUND });
});
