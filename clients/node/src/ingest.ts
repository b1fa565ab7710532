import type { ClientDuplexStream } from "@grpc/grpc-js";
import { streamError } from "./connection";
import { JointspaceError, Status } from "./errors";
import {
  CollectionServiceService as Collections,
  Item as ItemMessage,
  type UpsertStreamRequest,
  type UpsertStreamResponse,
} from "./gen/jointspace/v1/collection_service";
import { type IngestResult, type Item, itemMessage } from "./types";

/** The server's limit of items per UpsertStream message. */
export const MAX_ITEMS_PER_MESSAGE = 10_000;
/** Room left in each message for gRPC's framing and the collection name's field. */
const MESSAGE_HEADROOM = 4096;
/** Ids looked up per Get when resuming (the server's limit per call). */
const LOOKUP_BATCH = 1000;

export interface IngestOptions {
  /** Items per stream message, each message one transaction; 1..10000, default 1000. */
  batchSize?: number;
  /** Skip the items whose ids the collection holds already (looked up 1000 at a time). */
  resume?: boolean;
  /** Messages sent before the server has answered that it committed them; default 2. */
  maxAhead?: number;
  /** Called after each committed message. */
  onProgress?: (progress: IngestResult) => void;
  /** A deadline for the whole stream in milliseconds; by default it has none. */
  timeoutMs?: number;
  /** Aborting it cancels the stream; what was committed stays. */
  signal?: AbortSignal;
}

/**
 * An ingest the server refused part way: the messages answered before the refused one stay
 * committed (`committed` items). `itemId` is the id of the item the server's message names,
 * when it names one ("items[3].id is empty" in the refused message).
 */
export class IngestError extends JointspaceError {
  readonly committed: number;
  readonly itemId: string | undefined;

  constructor(error: JointspaceError, committed: number, itemId: string | undefined) {
    super(error.code, error.details, error.field, { cause: error.cause });
    this.name = "IngestError";
    this.committed = committed;
    this.itemId = itemId;
  }
}

/** What ingest needs of the client: the stream, the id lookup, the message size limit. */
export interface IngestTarget {
  readonly maxMessageBytes: number;
  openUpsertStream(options: IngestOptions): ClientDuplexStream<UpsertStreamRequest, UpsertStreamResponse>;
  storedIds(collection: string, ids: string[]): Promise<Set<string>>;
}

/** See CollectionCalls.ingest. */
export async function ingest(target: IngestTarget, collection: string,
  items: Iterable<Item> | AsyncIterable<Item>, options: IngestOptions = {}): Promise<IngestResult> {
  const { batchSize = 1000, maxAhead = 2, resume = false } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_ITEMS_PER_MESSAGE) {
    throw new RangeError(`batchSize must be 1..${MAX_ITEMS_PER_MESSAGE}, got ${batchSize}`);
  }
  if (!Number.isInteger(maxAhead) || maxAhead < 1) {
    throw new RangeError(`maxAhead must be a positive integer, got ${maxAhead}`);
  }
  const result: IngestResult = { committed: 0, skipped: 0, messages: 0 };
  let protos = converted(items);
  if (resume) protos = unstored(protos, (ids) => target.storedIds(collection, ids), result);
  const batches = messages(collection, protos, batchSize, target.maxMessageBytes);
  return new Stream(target.openUpsertStream(options), result, maxAhead, options.onProgress).run(batches);
}

/**
 * One UpsertStream: answers are read as they come while messages are written, at most
 * `maxAhead` ahead of the answers. An error from the items (or a lookup) ends the stream
 * normally, so what was sent is committed, and is thrown afterwards.
 */
class Stream {
  /** The ids of each message sent and not answered yet, oldest first. */
  private readonly unanswered: string[][] = [];
  private answered = 0;
  private ended = false;
  private failure: unknown;
  private wake: () => void = () => {};

  constructor(private readonly call: ClientDuplexStream<UpsertStreamRequest, UpsertStreamResponse>,
    private readonly result: IngestResult, private readonly maxAhead: number,
    private readonly onProgress: ((progress: IngestResult) => void) | undefined) {}

  async run(batches: AsyncIterable<UpsertStreamRequest>): Promise<IngestResult> {
    const reading = this.read();
    let itemsFailure: unknown;
    try {
      for await (const message of batches) {
        while (this.result.messages - this.answered >= this.maxAhead && !this.ended) await this.change();
        if (this.ended) break;
        this.unanswered.push(message.items.map((i) => i.id));
        this.result.messages++;
        if (!this.call.write(message)) {
          await Promise.race([new Promise((drained) => this.call.once("drain", drained)), this.change()]);
        }
      }
    } catch (error) {
      itemsFailure = error;
    } finally {
      if (!this.ended) this.call.end();
    }
    await reading;
    if (this.failure !== undefined) throw this.refused();
    if (itemsFailure !== undefined) throw itemsFailure;
    return { ...this.result };
  }

  private async read(): Promise<void> {
    try {
      for await (const response of this.call as AsyncIterable<UpsertStreamResponse>) {
        this.answered++;
        this.unanswered.shift();
        this.result.committed = Number(response.totalCommitted);
        this.onProgress?.({ ...this.result });
        this.wake();
      }
    } catch (error) {
      this.failure = error;
      this.call.cancel(); // the server's error ended it already; a throwing onProgress did not
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private change(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** The server's refusal, with what was committed and the id of the item it names. */
  private refused(): unknown {
    const error = streamError(this.failure, Collections.upsertStream);
    if (!(error instanceof JointspaceError)) return error;
    const index = /^message (\d+): /.exec(error.details);
    const message = index ? this.unanswered[Number(index[1]) - this.answered] : this.unanswered[0];
    const item = error.code !== Status.CANCELLED ? /^items\[(\d+)\]/.exec(error.field ?? "") : null;
    return new IngestError(error, this.result.committed, item && message ? message[Number(item[1])] : undefined);
  }
}

async function* converted(items: Iterable<Item> | AsyncIterable<Item>): AsyncGenerator<ItemMessage> {
  for await (const item of items) yield await itemMessage(item);
}

/** The items whose ids the collection does not hold yet (looked up in chunks). */
async function* unstored(items: AsyncIterable<ItemMessage>, lookup: (ids: string[]) => Promise<Set<string>>,
  result: IngestResult): AsyncGenerator<ItemMessage> {
  let chunk: ItemMessage[] = [];
  const flush = async function* () {
    // an id the server cannot store is not looked up: the write names it
    const stored = await lookup(chunk.map((i) => i.id).filter(storable));
    for (const item of chunk) {
      if (stored.has(item.id)) result.skipped++;
      else yield item;
    }
    chunk = [];
  };
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length === LOOKUP_BATCH) yield* flush();
  }
  if (chunk.length > 0) yield* flush();
}

function storable(id: string): boolean {
  return id.length > 0 && !id.includes("\0") && Buffer.byteLength(id) <= 512;
}

/** Stream messages of at most `batchSize` items and `maxMessageBytes` bytes. */
export async function* messages(collection: string, items: AsyncIterable<ItemMessage>, batchSize: number,
  maxMessageBytes: number): AsyncGenerator<UpsertStreamRequest> {
  const budget = maxMessageBytes - MESSAGE_HEADROOM - Buffer.byteLength(collection);
  let batch: ItemMessage[] = [];
  let size = 0;
  for await (const item of items) {
    const itemSize = fieldSize(ItemMessage.encode(item).finish().length);
    if (itemSize > budget) {
      throw new RangeError(`item ${JSON.stringify(item.id)} takes ${itemSize} bytes, more than a message may `
        + `(${maxMessageBytes})`);
    }
    if (batch.length === batchSize || size + itemSize > budget) {
      yield { collection, items: batch };
      batch = [];
      size = 0;
    }
    batch.push(item);
    size += itemSize;
  }
  if (batch.length > 0) yield { collection, items: batch };
}

/** Bytes an item of `size` bytes takes in its message: tag, length, body. */
function fieldSize(size: number): number {
  return 1 + Math.max(1, Math.ceil(Math.log2(size + 1) / 7)) + size;
}
