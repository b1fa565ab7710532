/**
 * Runs the tests (dist/test/*.test.js) with `node --test` against one server for the whole run:
 * the one JOINTSPACE_TEST_ADDRESS names, else one started here (test/server.ts) and stopped
 * with SIGTERM at the end.
 *
 *   node dist/test/run.js                      every test file
 *   node dist/test/run.js ingest errors        the files whose names contain these words
 *   node dist/test/run.js --test-name-pattern=resume   options go to node
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { LiveServer } from "./server";

async function main(args: string[]): Promise<number> {
  const words = args.filter((a) => !a.startsWith("-"));
  const nodeOptions = args.filter((a) => a.startsWith("-"));
  // the compiled test files whose source is still there (dist/ may hold a removed one's)
  const sources = join(__dirname, "..", "..", "test");
  const files = readdirSync(__dirname).filter((f) => f.endsWith(".test.js")).sort()
    .filter((f) => existsSync(join(sources, f.replace(/\.js$/, ".ts"))))
    .filter((f) => words.length === 0 || words.some((w) => f.includes(w)));
  if (files.length === 0) {
    console.error(`no test file matches ${words.join(", ")}`);
    return 2;
  }
  let server: LiveServer | undefined;
  let address = process.env.JOINTSPACE_TEST_ADDRESS;
  if (!address) {
    const started = Date.now();
    server = await LiveServer.start();
    address = server.address;
    // interrupted: stop the server before leaving
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => void server?.stop().finally(() => process.exit(130)));
    }
    console.error(`jointspace serving on ${address} (started in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  let code: number;
  try {
    code = await new Promise<number>((done) => {
      const child = spawn(process.execPath, ["--test", ...nodeOptions, ...files.map((f) => join(__dirname, f))], {
        stdio: "inherit",
        env: { ...process.env, JOINTSPACE_TEST_ADDRESS: address },
      });
      child.on("exit", (status, signal) => done(status ?? (signal ? 1 : 0)));
    });
  } finally {
    if (server) await server.stop();
  }
  return code;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (error) => {
  console.error(error);
  process.exit(1);
});
