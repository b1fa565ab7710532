/** EmbeddingService through the client: embed, classify, score. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { tensor } from "../src";
import { SAMPLES, useLiveServer } from "./fixture";

const live = useLiveServer();
const RED_STAR = join(SAMPLES, "red-star.png");
const BLUE_CIRCLE = join(SAMPLES, "blue-circle.png");

const norm = (v: number[]) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));

test("embed a text and an image into one space", async () => {
  const [text, image] = await live.client.embed({ texts: ["a small red star"], images: [RED_STAR], version: 2 });
  assert.equal(text.length, 64);
  assert.equal(image.length, 64);
  assert.ok(Math.abs(norm(image) - 1) < 1e-4, "normalized");
  const [v1] = await live.client.embed({ texts: ["a red star"], version: 1 });
  assert.equal(v1.length, 32);
});

test("an image as bytes and as a path, by label and by version, embeds the same", async () => {
  await live.client.setLabel("shapes-clip", "node_embed", 2);
  const [fromPath] = await live.client.embed({ images: [RED_STAR], label: "node_embed" });
  const [fromBytes] = await live.client.embed({ images: [readFileSync(RED_STAR)], version: 2 });
  const [fromArray] = await live.client.embed({ images: [new Uint8Array(readFileSync(RED_STAR))], version: 2 });
  fromPath.forEach((x, i) => assert.ok(Math.abs(x - fromBytes[i]) < 1e-6 && Math.abs(x - fromArray[i]) < 1e-6));
});

test("raw tensors go to the signature (model example: tanh(x W), 4 -> 3)", async () => {
  const vectors = await live.client.embed({
    model: "example",
    tensors: [tensor("FP32", [1, 2, 3, 4]), tensor("FP32", [0, 0, 0, 0], { shape: [4] })],
  });
  assert.equal(vectors.length, 2);
  assert.equal(vectors[0].length, 3);
  assert.ok(vectors[0].every((x) => x > -1 && x < 1));
  assert.deepEqual(vectors[1], [0, 0, 0]);
});

test("classify the red star and the blue circle", async () => {
  const labels = ["red star", "red circle", "blue star", "blue circle", "green hexagon"];
  const [star, circle] = await live.client.classify(labels, { images: [RED_STAR, BLUE_CIRCLE], topK: 2, version: 2 });
  assert.equal(star[0].label, "red star");
  assert.ok(star[0].probability > 0.5);
  assert.equal(star.length, 2);
  assert.ok(star[0].probability >= star[1].probability);
  assert.equal(circle[0].label, "blue circle");
});

test("score ranks captions for an image, with the softmax", async () => {
  const captions = ["a small blue circle on the right", "a small yellow triangle at the top"];
  const scores = await live.client.score([{ image: BLUE_CIRCLE }], captions, { softmax: true, version: 2 });
  const [cosines] = scores.cosines;
  assert.ok(cosines[0] > cosines[1]);
  assert.ok(Math.abs(scores.probabilities![0].reduce((a, b) => a + b, 0) - 1) < 1e-5);
  const plain = await live.client.score(["a red star"], [readFileSync(RED_STAR), "a red star"], { version: 2 });
  assert.equal(plain.probabilities, undefined);
  assert.ok(Math.abs(plain.cosines[0][1] - 1) < 1e-5, "a text is closest to itself");
});
