import type { ClientOptions } from "./connection";
import { RolloutCalls } from "./rollouts";

/**
 * A connection to a Jointspace server: `new Client("localhost:8500")`, and `close()` it when
 * done.
 *
 * Every unary call has a deadline (`timeoutMs`, 30 s by default; each method takes its own
 * `timeoutMs` and an AbortSignal too); streams (`ingest`, `watchRollout`) have none unless
 * given. Calls that can be repeated without harm (embedding, reads, searches, upserts and
 * deletes by id) are retried on UNAVAILABLE and RESOURCE_EXHAUSTED with exponential backoff,
 * by the channel's gRPC service config; creating, starting and switching things never are.
 * A failed call rejects with a JointspaceError: its gRPC `code`, the server's `details`,
 * and the request `field` the server named.
 */
export class Client extends RolloutCalls {
  constructor(address = "localhost:8500", options: ClientOptions = {}) {
    super(address, options);
  }
}
