import type {
  Hit as HitMessage,
  Item as ItemMessage,
  StoredItem as StoredItemMessage,
} from "./gen/jointspace/v1/collection_service";
import type { Tensor } from "./gen/jointspace/v1/types";
import { describe, imageInput, type ImageSource, tensorInput, textInput } from "./inputs";

/** JSON metadata, as stored with an item. */
export type Metadata = { [key: string]: unknown };

/**
 * An item to store: its id, exactly one of `text`, `image` (bytes or a file path), `tensor`
 * or `vector` (precomputed, of the collection's dimension), and optional metadata.
 */
export interface Item {
  id: string;
  text?: string;
  image?: ImageSource;
  tensor?: Tensor;
  vector?: readonly number[];
  metadata?: Metadata;
}

/** An item as stored; `vector` and the source (`text` or `image`) when asked for. */
export interface StoredItem {
  id: string;
  metadata: Metadata;
  vector?: number[];
  text?: string;
  image?: Buffer;
  createdAt?: Date;
  updatedAt?: Date;
}

/** A search result: higher `score` is closer. */
export interface Hit {
  id: string;
  score: number;
  metadata: Metadata;
  vector?: number[];
}

/** One label of a classification: softmax `probability` and `cosine` similarity. */
export interface LabelScore {
  label: string;
  probability: number;
  cosine: number;
}

/**
 * Cosine similarity of each query (row) to each candidate (column), and the softmax over the
 * candidates when it was asked for.
 */
export interface Scores {
  cosines: number[][];
  probabilities?: number[][];
}

/**
 * What `ingest` did: items committed, items skipped as already stored (`resume`), and stream
 * messages sent.
 */
export interface IngestResult {
  committed: number;
  skipped: number;
  messages: number;
}

/** The Item message for an Item (reads an image given as a path). */
export async function itemMessage(item: Item): Promise<ItemMessage> {
  if (typeof item !== "object" || item === null || typeof item.id !== "string") {
    throw new TypeError(`an item is an object with a string id, not ${describe(item)}`);
  }
  const given = (["text", "image", "tensor", "vector"] as const).filter((k) => item[k] !== undefined);
  if (given.length !== 1) {
    throw new TypeError(`item ${JSON.stringify(item.id)}: give exactly one of text, image, tensor, vector`);
  }
  const message: ItemMessage = { id: item.id, input: undefined, vector: undefined, metadata: item.metadata };
  if (item.text !== undefined) message.input = textInput(item.text);
  else if (item.image !== undefined) message.input = await imageInput(item.image);
  else if (item.tensor !== undefined) message.input = tensorInput(item.tensor);
  else message.vector = { values: [...item.vector!] };
  return message;
}

export function storedItem(item: StoredItemMessage): StoredItem {
  const result: StoredItem = { id: item.id, metadata: item.metadata ?? {} };
  if (item.vector) result.vector = item.vector.values;
  if (item.source?.text !== undefined) result.text = item.source.text;
  if (item.source?.image !== undefined) result.image = item.source.image;
  if (item.createdAt) result.createdAt = item.createdAt;
  if (item.updatedAt) result.updatedAt = item.updatedAt;
  return result;
}

export function hit(message: HitMessage): Hit {
  const result: Hit = { id: message.id, score: message.score, metadata: message.metadata ?? {} };
  if (message.vector) result.vector = message.vector.values;
  return result;
}
