/**
 * A live server for the tests: `./jointspace serve` from the repository root, on a free port,
 * with its own PostgreSQL under a temporary folder; stopped with SIGTERM at the end.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "../src";

/** The repository root (this file runs as clients/node/dist/test/server.js). */
export const REPO_ROOT = resolve(__dirname, "..", "..", "..", "..");
export const SAMPLES = join(REPO_ROOT, "docs", "samples");
const START_TIMEOUT_MS = 240_000;
const STOP_TIMEOUT_MS = 60_000;

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

export class LiveServer {
  private constructor(readonly address: string, private readonly process: ChildProcess,
    private readonly folder: string, private readonly log: string) {}

  /** Starts a server and waits until its gRPC health check answers SERVING. */
  static async start(): Promise<LiveServer> {
    const folder = mkdtempSync(join(tmpdir(), "jointspace-node-test-"));
    const port = await freePort();
    const log = join(folder, "serve.log");
    const out = openSync(log, "w");
    const child = spawn(join(REPO_ROOT, "jointspace"),
      ["serve", "--grpc-port", String(port), "--http-port", "-1", "--data-dir", join(folder, "pg")],
      { cwd: REPO_ROOT, stdio: ["ignore", out, out] });
    const server = new LiveServer(`127.0.0.1:${port}`, child, folder, log);
    try {
      await server.waitUntilServing();
    } catch (error) {
      await server.stop().catch(() => {});
      throw error;
    }
    return server;
  }

  private async waitUntilServing(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    const client = new Client(this.address, { timeoutMs: 2000, retryAttempts: 1 });
    try {
      while (Date.now() < deadline) {
        if (this.process.exitCode !== null || this.process.signalCode !== null) {
          throw new Error(`the server exited with ${this.process.exitCode ?? this.process.signalCode}:\n${this.tail()}`);
        }
        if (await client.serving().catch(() => false)) return;
        await sleep(500);
      }
      throw new Error(`the server was not serving within ${START_TIMEOUT_MS / 1000} s:\n${this.tail()}`);
    } finally {
      client.close();
    }
  }

  /** SIGTERM, then waits for the exit; rejects unless the server exits with 0. */
  async stop(): Promise<void> {
    const child = this.process;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((done) => child.once("exit", () => done()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    const failed = child.exitCode !== 0 ? `the server exited with ${child.exitCode ?? child.signalCode}:\n${this.tail()}` : "";
    rmSync(this.folder, { recursive: true, force: true });
    if (failed) throw new Error(failed);
  }

  private tail(): string {
    return readFileSync(this.log, "utf8").slice(-3000);
  }
}
