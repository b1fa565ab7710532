import type { MethodDefinition } from "@grpc/grpc-js";
import { CollectionCalls } from "./collections";
import { type CallOptions, streamError } from "./connection";
import {
  type Evaluation,
  type Rollout,
  type RolloutRequest,
  RolloutServiceService as Rollouts,
  Rollout_State as RolloutState,
  UnembeddablePolicy,
} from "./gen/jointspace/v1/rollout_service";
import { duration, enumValue, type InputLike, modelSpec, toInput } from "./inputs";

export { RolloutState };

/** States after which a rollout changes no more. */
const ENDED = new Set([RolloutState.FINALIZED, RolloutState.ABORTED, RolloutState.FAILED]);

export interface StartRolloutOptions extends CallOptions {
  /** The target: a version, a label, or neither for the newest available version. */
  version?: number;
  label?: string;
  /** The model; by default the collection's. */
  model?: string;
  /** Items without a source: "FAIL" (default), "DROP" or "KEEP_IN_OLD". */
  unembeddable?: "FAIL" | "DROP" | "KEEP_IN_OLD" | UnembeddablePolicy;
  /** Items per second over all servers; 0 (default): no limit. */
  rateLimit?: number;
  /** Finalize by itself this many seconds after the promote. */
  finalizeAfterSeconds?: number;
  /** Only check and report (total, unembeddable count, target dimension). */
  dryRun?: boolean;
}

/** Names the rollout: 0 (default) is the collection's open one, else its newest. */
export interface RolloutOptions extends CallOptions {
  rolloutId?: number;
}

export interface EvaluateOptions extends RolloutOptions {
  /** Stored items sampled (0: 200) and neighbours compared per item (0: 10). */
  sampleSize?: number;
  k?: number;
  /** Queries with the ids a good answer holds, for recall@k: a query is an InputLike. */
  queries?: readonly { query: InputLike; expectedIds: readonly string[] }[];
  /** A metadata key holding each item's class, for zero-shot accuracy, and its template. */
  classKey?: string;
  classTemplate?: string;
}

/** RolloutService: moving a collection to another model version. */
export class RolloutCalls extends CollectionCalls {
  /**
   * Starts re-embedding a collection with another version of its model. Never retried: a
   * retry after a lost answer would meet the rollout it started.
   */
  async startRollout(collection: string, options: StartRolloutOptions = {}): Promise<Rollout> {
    const model = options.model ?? (await this.getCollection(collection, options)).model?.name ?? "";
    const request = {
      collection,
      target: modelSpec({ model, version: options.version, label: options.label }),
      unembeddable: enumValue(UnembeddablePolicy, options.unembeddable, "unembeddable", "UNEMBEDDABLE_"),
      rateLimit: options.rateLimit ?? 0,
      finalizeAfter: options.finalizeAfterSeconds === undefined ? undefined : duration(options.finalizeAfterSeconds),
      dryRun: options.dryRun ?? false,
    };
    return this.unary(Rollouts.startRollout, request, options);
  }

  /** The collection's open rollout, else its newest (or the one `rolloutId` names). */
  async getRollout(collection: string, options: RolloutOptions = {}): Promise<Rollout> {
    return this.unary(Rollouts.getRollout, { collection, rolloutId: options.rolloutId ?? 0 }, options);
  }

  /** Every rollout of a collection (or of all, with ""), newest first. */
  async listRollouts(collection = "", options: CallOptions = {}): Promise<Rollout[]> {
    return (await this.unary(Rollouts.listRollouts, { collection }, options)).rollouts;
  }

  /**
   * The rollout now, then again each time its state or progress changes, until it is
   * FINALIZED or ABORTED: `for await (const r of client.watchRollout("c")) ...`. Leaving the
   * loop ends the call. No deadline unless `timeoutMs` gives one.
   */
  async *watchRollout(collection: string, options: RolloutOptions = {}): AsyncGenerator<Rollout, void, undefined> {
    const call = this.serverStream(Rollouts.watchRollout, { collection, rolloutId: options.rolloutId ?? 0 }, options);
    try {
      for await (const rollout of call as AsyncIterable<Rollout>) yield rollout;
    } catch (error) {
      throw streamError(error, Rollouts.watchRollout);
    } finally {
      call.cancel();
    }
  }

  /**
   * Watches the rollout until it reaches one of `states` (default READY) or ends (FINALIZED,
   * ABORTED, FAILED), and returns it then: check its `state`.
   */
  async waitForRollout(collection: string,
    options: RolloutOptions & { states?: readonly (keyof typeof RolloutState | RolloutState)[] } = {}): Promise<Rollout> {
    const wanted = new Set((options.states ?? ["READY"]).map((s) => enumValue(RolloutState, s, "state")));
    let last: Rollout | undefined;
    for await (const rollout of this.watchRollout(collection, options)) {
      last = rollout;
      if (wanted.has(rollout.state) || ENDED.has(rollout.state)) break;
    }
    if (last === undefined) throw new Error(`the watch of ${collection}'s rollout ended without an answer`);
    return last;
  }

  /** Stops the backfill (PAUSED); writes still go to both versions. */
  async pauseRollout(collection: string, options: RolloutOptions = {}): Promise<Rollout> {
    return this.step(Rollouts.pauseRollout, collection, options);
  }

  /** Continues a paused backfill, or retries the failed items of a FAILED one. */
  async resumeRollout(collection: string, options: RolloutOptions = {}): Promise<Rollout> {
    return this.step(Rollouts.resumeRollout, collection, options);
  }

  /** Changes the backfill's rate limit (items per second over all servers; 0: none). */
  async setRolloutRate(collection: string, rateLimit: number, options: RolloutOptions = {}): Promise<Rollout> {
    return this.unary(Rollouts.setRolloutRate, { collection, rolloutId: options.rolloutId ?? 0, rateLimit }, options);
  }

  /** READY or ROLLED_BACK -> PROMOTED: the target becomes the collection's version. */
  async promoteRollout(collection: string, options: RolloutOptions = {}): Promise<Rollout> {
    return this.step(Rollouts.promoteRollout, collection, options);
  }

  /** PROMOTED -> ROLLED_BACK: back to the old version, with every write since. */
  async rollbackRollout(collection: string, options: RolloutOptions = {}): Promise<Rollout> {
    return this.step(Rollouts.rollbackRollout, collection, options);
  }

  /** PROMOTED -> FINALIZED: drops the old version's table. */
  async finalizeRollout(collection: string, options: RolloutOptions = {}): Promise<Rollout> {
    return this.step(Rollouts.finalizeRollout, collection, options);
  }

  /** Any open state but PROMOTED -> ABORTED: drops the target's table. */
  async abortRollout(collection: string, options: RolloutOptions = {}): Promise<Rollout> {
    return this.step(Rollouts.abortRollout, collection, options);
  }

  /** Compares the two versions of a rollout whose backfill is done. */
  async evaluateRollout(collection: string, options: EvaluateOptions = {}): Promise<Evaluation> {
    const queries = await Promise.all((options.queries ?? []).map(async (q) =>
      ({ query: await toInput(q.query), expectedIds: [...q.expectedIds] })));
    const request = {
      collection,
      rolloutId: options.rolloutId ?? 0,
      sampleSize: options.sampleSize ?? 0,
      k: options.k ?? 0,
      queries,
      classKey: options.classKey ?? "",
      classTemplate: options.classTemplate ?? "",
    };
    return this.unary(Rollouts.evaluateRollout, request, options);
  }

  private async step(method: MethodDefinition<RolloutRequest, Rollout>, collection: string,
    options: RolloutOptions): Promise<Rollout> {
    return this.unary(method, { collection, rolloutId: options.rolloutId ?? 0 }, options);
  }
}
