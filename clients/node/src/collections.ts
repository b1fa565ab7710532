import type { CallOptions } from "./connection";
import { Filter } from "./filter";
import {
  type Collection,
  CollectionServiceService as Collections,
  type LabelPolicy,
  Metric,
  type SearchRequest,
  VectorType,
} from "./gen/jointspace/v1/collection_service";
import { ModelCalls } from "./models";
import { enumValue, type ImageSource, imageInput, type ModelOptions, modelSpec, textInput } from "./inputs";
import { ingest, type IngestOptions } from "./ingest";
import { hit, type Hit, type IngestResult, type Item, itemMessage, storedItem, type StoredItem } from "./types";

/** Ids per Get and Delete call (the server's limit); longer lists take several calls. */
export const MAX_IDS_PER_CALL = 1000;

export interface CreateCollectionOptions extends ModelOptions, CallOptions {
  /** "COSINE" (default), "INNER_PRODUCT" or "L2". */
  metric?: keyof typeof Metric | Metric;
  /** "VECTOR" (default, 32-bit floats) or "HALFVEC" (16-bit). */
  vectorType?: keyof typeof VectorType | VectorType;
  /** The embedding dimension; taken from the model when left out. */
  dimension?: number;
  /** Keep each item's source, so that a rollout can re-embed it; default true. */
  keepSources?: boolean;
  description?: string;
  /** HNSW connections per node (0: 16) and build candidate list (0: 64). */
  m?: number;
  efConstruction?: number;
  /** For a collection created on a label: how it moves when the label moves. */
  labelPolicy?: Partial<LabelPolicy>;
  /**
   * Metadata keys searches filter on by equality ("a.b" for a nested key): each frequent value
   * gets a partial HNSW index, so such a filtered search is about as fast as an unfiltered one.
   */
  indexedKeys?: string[];
}

export interface GetOptions extends CallOptions {
  includeVectors?: boolean;
  includeSources?: boolean;
  /** The version whose vectors to read during a rollout; 0: the collection's. */
  modelVersion?: number;
  /**
   * A write's consistency token (a server with read replicas): the read sees that write even
   * when a replica serves it. Default: none.
   */
  consistencyToken?: string;
}

/** One query, exactly one of: a text, an image (bytes or a path), a vector, a stored item's id. */
export type SearchQuery = { text: string } | { image: ImageSource } | { vector: readonly number[] } | { id: string };

export type SearchOptions = SearchQuery & CallOptions & {
  /** 1..1000; default 10. */
  topK?: number;
  /** Only items whose metadata matches. */
  filter?: Filter;
  includeVectors?: boolean;
  /** Default true. */
  includeMetadata?: boolean;
  /** HNSW candidate list size (1..1000); 0: the server's choice. */
  efSearch?: number;
  /** The version to search during a rollout; 0: the collection's. */
  modelVersion?: number;
  /**
   * A write's consistency token (a server with read replicas): the read sees that write even
   * when a replica serves it. Default: none.
   */
  consistencyToken?: string;
};

/** CollectionService: collections, items, bulk ingest, filtered search. */
export class CollectionCalls extends ModelCalls {
  /**
   * Creates a collection bound to a model version: the newest available one unless
   * `version` or `label` says (one created on a label follows it).
   */
  async createCollection(name: string, options: CreateCollectionOptions = {}): Promise<Collection> {
    const request = {
      name,
      model: modelSpec(options),
      metric: enumValue(Metric, options.metric, "metric"),
      vectorType: enumValue(VectorType, options.vectorType, "vectorType"),
      index: { m: options.m ?? 0, efConstruction: options.efConstruction ?? 0 },
      keepSources: options.keepSources,
      dimension: options.dimension ?? 0,
      description: options.description ?? "",
      labelPolicy: options.labelPolicy === undefined ? undefined : labelPolicy(options.labelPolicy),
      indexedKeys: options.indexedKeys ?? [],
    };
    return this.unary(Collections.createCollection, request, options);
  }

  /**
   * Changes a collection's description and/or indexed keys (the whole list), those given;
   * returns the collection as it is now.
   */
  async updateCollection(
    name: string,
    changes: { description?: string; indexedKeys?: string[] },
    options: CallOptions = {},
  ): Promise<Collection> {
    const paths: string[] = [];
    if (changes.description !== undefined) paths.push("description");
    if (changes.indexedKeys !== undefined) paths.push("indexed_keys");
    return this.unary(
      Collections.updateCollection,
      {
        name,
        updateMask: paths,
        description: changes.description ?? "",
        indexedKeys: changes.indexedKeys ?? [],
      },
      options,
    );
  }

  /** A collection: its model version, dimension, item count, rollout, view. */
  async getCollection(name: string, options: CallOptions = {}): Promise<Collection> {
    return this.unary(Collections.getCollection, { name, consistencyToken: "" }, options);
  }

  /** Every collection, sorted by name. */
  async listCollections(options: CallOptions = {}): Promise<Collection[]> {
    return (await this.unary(Collections.listCollections, { consistencyToken: "" }, options)).collections;
  }

  /** Drops a collection, its tables and its view. */
  async deleteCollection(name: string, options: CallOptions = {}): Promise<void> {
    await this.unary(Collections.deleteCollection, { name }, options);
  }

  /**
   * Inserts or replaces items by id in one transaction (at most 1000; for more, `ingest`).
   * Returns the number written.
   */
  async upsert(collection: string, items: readonly Item[], options: CallOptions = {}): Promise<number> {
    const request = { collection, items: await Promise.all(items.map(itemMessage)) };
    return (await this.unary(Collections.upsert, request, options)).upsertedCount;
  }

  /**
   * Writes any number of items over one UpsertStream: `batchSize` items per message (fewer
   * to stay under the client's maxMessageBytes), each message one transaction, at most
   * `maxAhead` messages ahead of the server's commits. With `resume`, ids the collection
   * holds already are skipped, so an ingest that stopped part way can run again with the same
   * items. An error from `items` ends the stream with what was sent committed, and is thrown
   * then; a message the server refuses throws an IngestError (what was committed before it
   * stays). The stream has no deadline unless `timeoutMs` gives one.
   */
  async ingest(collection: string, items: Iterable<Item> | AsyncIterable<Item>,
    options: IngestOptions = {}): Promise<IngestResult> {
    return ingest({
      maxMessageBytes: this.maxMessageBytes,
      openUpsertStream: (o) => this.bidiStream(Collections.upsertStream, o),
      storedIds: async (name, ids) => new Set((await this.get(name, ids)).map((i) => i.id)),
    }, collection, items, options);
  }

  /** Items by id, in the order asked; ids not stored are left out. */
  async get(collection: string, ids: readonly string[], options: GetOptions = {}): Promise<StoredItem[]> {
    const found: StoredItem[] = [];
    for (let from = 0; from < ids.length; from += MAX_IDS_PER_CALL) {
      const request = {
        collection,
        ids: ids.slice(from, from + MAX_IDS_PER_CALL),
        includeVectors: options.includeVectors ?? false,
        includeSources: options.includeSources ?? false,
        modelVersion: options.modelVersion ?? 0,
        consistencyToken: options.consistencyToken ?? "",
      };
      found.push(...(await this.unary(Collections.get, request, options)).items.map(storedItem));
    }
    return found;
  }

  /** Deletes items by id (ids not stored are no error); returns how many were deleted. */
  async delete(collection: string, ids: readonly string[], options: CallOptions = {}): Promise<number> {
    let deleted = 0;
    for (let from = 0; from < ids.length; from += MAX_IDS_PER_CALL) {
      const request = { collection, ids: ids.slice(from, from + MAX_IDS_PER_CALL) };
      deleted += (await this.unary(Collections.delete, request, options)).deletedCount;
    }
    return deleted;
  }

  /**
   * The `topK` items nearest to one query, best first: `{ text }`, `{ image }` (bytes or a
   * path), `{ vector }`, or `{ id }` of a stored item (left out of the hits); `filter`
   * keeps only items whose metadata matches.
   */
  async search(collection: string, options: SearchOptions): Promise<Hit[]> {
    const request: SearchRequest = {
      collection,
      input: undefined,
      vector: undefined,
      id: undefined,
      topK: options.topK ?? 10,
      filter: undefined,
      includeVectors: options.includeVectors ?? false,
      includeMetadata: options.includeMetadata ?? true,
      efSearch: options.efSearch ?? 0,
      modelVersion: options.modelVersion ?? 0,
      consistencyToken: options.consistencyToken ?? "",
    };
    const query = options as { text?: string; image?: ImageSource; vector?: readonly number[]; id?: string };
    const given = (["text", "image", "vector", "id"] as const).filter((k) => query[k] !== undefined);
    if (given.length !== 1) throw new TypeError("give exactly one of text, image, vector, id");
    switch (given[0]) {
      case "text": request.input = textInput(query.text!); break;
      case "image": request.input = await imageInput(query.image!); break;
      case "vector": request.vector = { values: [...query.vector!] }; break;
      default: request.id = query.id;
    }
    if (options.filter !== undefined) {
      if (!(options.filter instanceof Filter)) throw new TypeError("filter is a Filter (Filter.eq(...), ...)");
      request.filter = options.filter.message;
    }
    return (await this.unary(Collections.search, request, options)).hits.map(hit);
  }
}

function labelPolicy(policy: Partial<LabelPolicy>): LabelPolicy {
  const given = Object.fromEntries(Object.entries(policy).filter(([, value]) => value !== undefined));
  return {
    autoPromote: false,
    minNeighbourAgreement: 0,
    classKey: "",
    classTemplate: "",
    minZeroShotGain: undefined,
    unembeddable: 0,
    rateLimit: 0,
    finalizeAfter: undefined,
    ...given,
  };
}
