/** Collections: create, get, list, delete; upsert, get, delete; search by every kind of query, with filters. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Filter, Metric, Status, VectorType } from "../src";
import { SAMPLES, useLiveServer } from "./fixture";
import { captions } from "./items";

const live = useLiveServer();

test("create, get, list and delete a collection", async () => {
  const name = live.collectionName();
  const created = await live.client.createCollection(name, {
    version: 1, metric: "INNER_PRODUCT", vectorType: VectorType.HALFVEC, description: "node", m: 8, efConstruction: 32,
  });
  assert.equal(created.model?.version, 1);
  assert.equal(created.dimension, 32);
  assert.equal(created.metric, Metric.INNER_PRODUCT);
  assert.equal(created.vectorType, VectorType.HALFVEC);
  assert.deepEqual(created.index, { m: 8, efConstruction: 32 });
  assert.equal(created.keepSources, true);
  assert.equal(created.view, `public.${name}`);
  assert.equal((await live.client.getCollection(name)).description, "node");
  assert.ok((await live.client.listCollections()).some((c) => c.name === name));
  await live.client.deleteCollection(name);
  await assert.rejects(live.client.getCollection(name), { code: Status.NOT_FOUND });
});

test("indexed keys: set at creation, changed by updateCollection", async () => {
  const name = live.collectionName();
  const created = await live.client.createCollection(name, { version: 2, indexedKeys: ["lang", "info.kind"] });
  assert.deepEqual(created.indexedKeys, ["lang", "info.kind"]);
  const updated = await live.client.updateCollection(name, { indexedKeys: ["lang"] });
  assert.deepEqual(updated.indexedKeys, ["lang"]);
  assert.equal(updated.description, "");
  const described = await live.client.updateCollection(name, { description: "by language" });
  assert.equal(described.description, "by language");
  assert.deepEqual(described.indexedKeys, ["lang"]);
  await assert.rejects(live.client.updateCollection(name, { indexedKeys: ["a..b"] }), {
    code: Status.INVALID_ARGUMENT,
  });
  await live.client.deleteCollection(name);
});

test("upsert, get, delete, and search by id, vector and image", async () => {
  const name = live.collectionName();
  await live.client.createCollection(name, { version: 2 });
  const written = await live.client.upsert(name, [
    { id: "star", image: join(SAMPLES, "red-star.png"), metadata: { color: "red" } },
    { id: "circle", image: readFileSync(join(SAMPLES, "blue-circle.png")), metadata: { color: "blue" } },
    { id: "caption", text: "a small green hexagon at the top", metadata: { info: { year: 2023 } } },
  ]);
  assert.equal(written, 3);

  const items = await live.client.get(name, ["circle", "missing", "caption"], { includeVectors: true, includeSources: true });
  assert.deepEqual(items.map((i) => i.id), ["circle", "caption"]);
  assert.ok(items[0].image?.equals(readFileSync(join(SAMPLES, "blue-circle.png"))));
  assert.equal(items[0].text, undefined);
  assert.equal(items[1].text, "a small green hexagon at the top");
  assert.equal(items[1].vector?.length, 64);
  assert.deepEqual(items[1].metadata, { info: { year: 2023 } });
  assert.ok(items[1].createdAt instanceof Date);
  assert.equal((await live.client.get(name, ["star"]))[0].vector, undefined);

  let hits = await live.client.search(name, { id: "star", topK: 5 });
  assert.deepEqual(hits.map((h) => h.id).sort(), ["caption", "circle"]);
  hits = await live.client.search(name, { vector: items[0].vector!, topK: 1, includeVectors: true });
  assert.equal(hits[0].id, "circle");
  assert.ok(Math.abs(hits[0].score - 1) < 1e-4);
  assert.equal(hits[0].vector?.length, 64);
  hits = await live.client.search(name, { image: join(SAMPLES, "red-star.png"), topK: 1 });
  assert.equal(hits[0].id, "star");
  hits = await live.client.search(name, { text: "x", filter: Filter.range("info.year", { gt: 2020, lt: 2030 }) });
  assert.deepEqual(hits.map((h) => h.id), ["caption"]);

  assert.equal(await live.client.delete(name, ["star", "missing"]), 1);
  assert.equal((await live.client.getCollection(name)).itemCount, 2);
});

test("search with filters that read like TypeScript", async () => {
  const name = live.collectionName();
  await live.client.createCollection(name, { version: 2 });
  assert.equal((await live.client.ingest(name, captions(500), { batchSize: 250 })).committed, 500);

  const blueFrom100 = Filter.eq("color", "blue").and(Filter.range("n", { gte: 100 }));
  let hits = await live.client.search(name, { text: "a blue circle", topK: 5, filter: blueFrom100 });
  assert.equal(hits.length, 5);
  assert.ok(hits.every((h) => h.metadata.color === "blue" && (h.metadata.n as number) >= 100));
  assert.equal(hits[0].metadata.shape, "circle");
  assert.deepEqual(hits.map((h) => h.score), hits.map((h) => h.score).sort((a, b) => b - a));

  const either = Filter.in("shape", ["star", "hexagon"]).and(Filter.eq("color", "red").or(Filter.eq("color", "green")).not());
  hits = await live.client.search(name, { text: "a red star", topK: 50, filter: either.and(Filter.exists("n")) });
  assert.equal(hits.length, 50);
  assert.ok(hits.every((h) => ["star", "hexagon"].includes(h.metadata.shape as string)));
  assert.ok(hits.every((h) => !["red", "green"].includes(h.metadata.color as string)));

  hits = await live.client.search(name, { text: "a red star", topK: 100, filter: Filter.between("n", 10, 14).or(Filter.lt("n", 2)) });
  assert.deepEqual(hits.map((h) => h.metadata.n).sort((a, b) => (a as number) - (b as number)), [0, 1, 10, 11, 12, 13, 14]);
  hits = await live.client.search(name, { text: "a red star", filter: Filter.ne("color", "red").and(Filter.gte("n", 498)), includeMetadata: false });
  assert.deepEqual(hits.map((h) => h.id).sort(), ["item-0498", "item-0499"]);
  assert.deepEqual(hits[0].metadata, {});
});
