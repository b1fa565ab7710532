#!/usr/bin/env node
// The cross-language scenario (clients/crosscheck/README.md) through the Node client's public
// API. From the repository root, with the package built (clients/node/test.sh, or
// `npm ci && npm run build` in clients/node):
//
//   node clients/node/crosscheck.mjs ADDRESS COLLECTION
//
// Prints one JSON object on stdout; on a failure, the error on stderr and exit status 1.
import { Client, Filter, JointspaceError, Status } from "@jointspace/client";

const COLORS = ["red", "green", "blue", "yellow", "purple", "orange", "white", "black"];
const SHAPES = ["circle", "square", "triangle", "star", "hexagon", "cross"];
const SIZES = ["small", "large"];
const NOUNS = ["photo", "picture", "image", "rendering", "drawing"];
const IMAGE = "docs/samples/red-star.png";

function* items() {
  for (let i = 0; i < 500; i++) {
    const color = COLORS[i % 8];
    const shape = SHAPES[Math.floor(i / 8) % 6];
    const size = SIZES[Math.floor(i / 48) % 2];
    const noun = NOUNS[Math.floor(i / 96) % 5];
    yield {
      id: `item-${String(i).padStart(3, "0")}`,
      text: `a ${noun} of a ${size} ${color} ${shape}`,
      metadata: { color, shape, n: i },
    };
  }
}

async function scenario(client, collection) {
  const [text, image] = await client.embed({ texts: ["a small red star"], images: [IMAGE] });
  const [labels] = await client.classify(["red star", "blue circle", "green hexagon"], { images: [IMAGE] });

  try {
    await client.deleteCollection(collection);
  } catch (error) {
    if (!(error instanceof JointspaceError && error.code === Status.NOT_FOUND)) throw error;
  }
  await client.createCollection(collection, { model: "shapes-clip" });
  const { committed } = await client.ingest(collection, items());
  const hits = await client.search(collection, {
    text: "a blue star",
    filter: Filter.eq("color", "blue").and(Filter.gte("n", 100)),
    topK: 10,
    efSearch: 400,
  });
  await client.deleteCollection(collection);

  return {
    embed: { text, image },
    classify: labels.map(({ label, probability, cosine }) => ({ label, probability, cosine })),
    ingested: committed,
    search: hits.map(({ id, score }) => ({ id, score })),
  };
}

const [address, collection] = process.argv.slice(2);
if (!address || !collection) {
  console.error("usage: crosscheck.mjs ADDRESS COLLECTION");
  process.exit(2);
}
const client = new Client(address);
try {
  process.stdout.write(JSON.stringify(await scenario(client, collection)) + "\n");
} catch (error) {
  console.error(error instanceof JointspaceError ? error.message : error);
  process.exitCode = 1;
} finally {
  client.close();
}
