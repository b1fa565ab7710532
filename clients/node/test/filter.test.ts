/** Filters as messages (no server). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Filter } from "../src";

test("conditions", () => {
  assert.deepEqual(Filter.eq("color", "blue").toJSON(), { equals: { key: "color", value: "blue" } });
  assert.deepEqual(Filter.eq("draft", null).toJSON(), { equals: { key: "draft", value: null } });
  assert.deepEqual(Filter.in("n", [1, 2]).toJSON(), { in: { key: "n", values: [1, 2] } });
  assert.deepEqual(Filter.range("n", { gte: 10, lt: "z" }).toJSON(), { range: { key: "n", gte: 10, lt: "z" } });
  assert.deepEqual(Filter.between("n", 1, 5).toJSON(), { range: { key: "n", gte: 1, lte: 5 } });
  assert.deepEqual(Filter.exists("info.author").toJSON(), { exists: "info.author" });
});

test("and, or and not flatten", () => {
  const a = Filter.eq("a", 1), b = Filter.eq("b", 2), c = Filter.eq("c", 3);
  assert.deepEqual(a.and(b).and(c).toJSON(), Filter.all(a, b, c).toJSON());
  assert.deepEqual(a.or(b.or(c)).toJSON(), { or: { filters: [a.toJSON(), b.toJSON(), c.toJSON()] } });
  assert.deepEqual(a.and(b.or(c)).toJSON(), { and: { filters: [a.toJSON(), { or: { filters: [b.toJSON(), c.toJSON()] } }] } });
  assert.deepEqual(a.not().not().toJSON(), a.toJSON());
  assert.deepEqual(Filter.ne("a", 1).toJSON(), { not: a.toJSON() });
});

test("bad conditions are refused", () => {
  assert.throws(() => Filter.range("n", {}), TypeError);
  assert.throws(() => Filter.in("n", []), TypeError);
  assert.throws(() => Filter.eq("n", Number.NaN), TypeError);
  assert.throws(() => Filter.all(), TypeError);
});
