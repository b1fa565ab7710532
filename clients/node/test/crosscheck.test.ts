/** crosscheck.mjs (clients/crosscheck/README.md) against the live server: its JSON, and what the scenario must give. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { Status } from "../src";
import { REPO_ROOT, useLiveServer } from "./fixture";

const live = useLiveServer();
const PACKAGE = resolve(__dirname, "..", "..");
const run = promisify(execFile);

test("crosscheck.mjs prints the scenario's JSON", async () => {
  const collection = live.collectionName();
  const { stdout } = await run(process.execPath, [join(PACKAGE, "crosscheck.mjs"), live.address, collection], { cwd: REPO_ROOT });
  const out = JSON.parse(stdout);
  assert.deepEqual(Object.keys(out), ["embed", "classify", "ingested", "search"]);
  assert.equal(out.embed.text.length, 64);
  assert.equal(out.embed.image.length, 64);
  assert.deepEqual(out.classify.map((c: { label: string }) => c.label).sort(), ["blue circle", "green hexagon", "red star"]);
  assert.equal(out.classify[0].label, "red star");
  assert.deepEqual(Object.keys(out.classify[0]), ["label", "probability", "cosine"]);
  assert.ok(out.classify[0].probability > 0.5 && out.classify[0].cosine > out.classify[1].cosine);
  assert.equal(out.ingested, 500);
  assert.equal(out.search.length, 10);
  for (const hit of out.search as { id: string; score: number }[]) {
    const n = Number(hit.id.replace("item-", ""));
    assert.ok(n % 8 === 2 && n >= 100, `${hit.id} is blue and from 100`);
  }
  const scores = out.search.map((h: { score: number }) => h.score);
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
  await assert.rejects(live.client.getCollection(collection), { code: Status.NOT_FOUND }); // deleted at the end
});
