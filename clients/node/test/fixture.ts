/**
 * The server a test file talks to: the one JOINTSPACE_TEST_ADDRESS names (test/run.ts starts
 * one for the whole run and sets it), else one this file starts for itself.
 */
import { after, before } from "node:test";
import { Client, JointspaceError } from "../src";
import { LiveServer } from "./server";

export { REPO_ROOT, SAMPLES } from "./server";

export interface Live {
  /** host:port of a serving server. */
  readonly address: string;
  /** A client with a generous deadline, closed after the file's tests. */
  readonly client: Client;
  /** A fresh collection name, dropped after the file's tests if a test made it. */
  collectionName(): string;
}

let names = 0;

/** Registers the file's setup and teardown; use the result inside tests. */
export function useLiveServer(): Live {
  let server: LiveServer | undefined;
  let address: string | undefined;
  let client: Client | undefined;
  const made: string[] = [];
  before(async () => {
    address = process.env.JOINTSPACE_TEST_ADDRESS;
    if (!address) {
      server = await LiveServer.start();
      address = server.address;
    }
    client = new Client(address, { timeoutMs: 60_000 });
  });
  after(async () => {
    for (const name of made) await client?.deleteCollection(name).catch((e) => ignoreNotFound(e));
    client?.close();
    await server?.stop();
  });
  return {
    get address() {
      if (address === undefined) throw new Error("the server is not started yet");
      return address;
    },
    get client() {
      if (client === undefined) throw new Error("the server is not started yet");
      return client;
    },
    collectionName() {
      const name = `node_${process.pid}_${names++}`;
      made.push(name);
      return name;
    },
  };
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof JointspaceError && error.code === 5)) throw error;
}
