/** A rollout of a small collection from shapes-clip 1 (32 dimensions) to 2 (64). */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type Item, type Rollout, RolloutState } from "../src";
import { SAMPLES, useLiveServer } from "./fixture";

const live = useLiveServer();

function* scenes(): Generator<Item> {
  const folder = join(SAMPLES, "scenes");
  for (const file of readdirSync(folder).filter((f) => f.endsWith(".png")).sort().slice(0, 24)) {
    const [number, color, shape] = file.replace(/\.png$/, "").split("-");
    yield { id: `scene-${number}`, image: join(folder, file), metadata: { color, shape } };
  }
}

test("a rollout from version 1 to 2: watch, evaluate, promote, roll back, finalize", async () => {
  const name = live.collectionName();
  const client = live.client;
  await client.createCollection(name, { version: 1 });
  assert.equal((await client.ingest(name, scenes(), { batchSize: 8 })).committed, 24);

  const dry = await client.startRollout(name, { version: 2, dryRun: true });
  assert.equal(dry.progress?.total, 24);
  assert.equal(dry.toDimension, 64);

  const started = await client.startRollout(name, { version: 2 });
  assert.equal(started.to?.version, 2);
  const states: RolloutState[] = [];
  let last: Rollout | undefined;
  for await (const rollout of client.watchRollout(name, { timeoutMs: 120_000 })) {
    states.push(rollout.state);
    last = rollout;
    if (rollout.state === RolloutState.READY) break;
  }
  assert.equal(states.at(-1), RolloutState.READY);
  assert.equal(last?.progress?.done, 24);
  assert.equal((await client.getRollout(name)).id, started.id);

  const evaluation = await client.evaluateRollout(name, {
    classKey: "shape", classTemplate: "a photo of a {}", queries: [{ query: "a red star", expectedIds: ["scene-018"] }],
  });
  assert.ok(evaluation.neighbourAgreement >= 0 && evaluation.neighbourAgreement <= 1);
  assert.notEqual(evaluation.to?.zeroShotAccuracy, undefined);
  assert.notEqual(evaluation.to?.recallAtK, undefined);

  assert.equal((await client.promoteRollout(name)).state, RolloutState.PROMOTED);
  assert.equal((await client.getCollection(name)).dimension, 64);
  await client.upsert(name, [{ id: "new", text: "a small red star", metadata: { shape: "star" } }]);
  assert.equal((await client.rollbackRollout(name)).state, RolloutState.ROLLED_BACK);
  assert.equal((await client.getCollection(name)).dimension, 32);
  assert.deepEqual((await client.get(name, ["new"])).map((i) => i.id), ["new"]); // written to both versions

  await client.promoteRollout(name, { rolloutId: started.id });
  assert.equal((await client.finalizeRollout(name)).state, RolloutState.FINALIZED);
  const hits = await client.search(name, { text: "a red star", topK: 3, includeVectors: true });
  assert.equal(hits[0].vector?.length, 64);
  assert.deepEqual((await client.listRollouts(name)).map((r) => r.id), [started.id]);
  assert.equal((await client.waitForRollout(name, { timeoutMs: 30_000 })).state, RolloutState.FINALIZED);
});
