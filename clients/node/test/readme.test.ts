/** The example in README.md runs against the live server as written. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { REPO_ROOT, useLiveServer } from "./fixture";

const live = useLiveServer();
const PACKAGE = resolve(__dirname, "..", "..");
const run = promisify(execFile);

test("the README's example", async () => {
  const blocks = [...readFileSync(join(PACKAGE, "README.md"), "utf8").matchAll(/```js\n([\s\S]*?)```/g)];
  assert.equal(blocks.length, 1, "the README has one js example");
  const example = blocks[0][1];
  assert.ok(example.includes('"localhost:8500"'));
  // inside the package, so that the example's import of "@jointspace/client" finds it
  const file = join(PACKAGE, "dist", `readme-example-${process.pid}.mjs`);
  writeFileSync(file, example.replace('"localhost:8500"', JSON.stringify(live.address)));
  try {
    // the example names the sample images from the repository root
    const { stdout } = await run(process.execPath, [file], { cwd: REPO_ROOT });
    assert.match(stdout, /^64 dimensions$/m);
    assert.match(stdout, /^red star \(\d+%\)$/m);
    const hits = stdout.split("\n").filter((line) => /^c\d /.test(line));
    assert.deepEqual(hits.map((line) => line.split(" ")[0]), ["c1", "c2"]); // blue, from n = 1, the circle first
    assert.ok(hits.every((line) => line.includes("color: 'blue'")));
  } finally {
    rmSync(file, { force: true });
  }
});
