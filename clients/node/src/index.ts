/**
 * Node/TypeScript client of Jointspace, a gRPC server for multimodal embeddings.
 *
 * ```ts
 * import { Client, Filter } from "@jointspace/client";
 * const client = new Client("localhost:8500");
 * const [text, image] = await client.embed({ texts: ["a red star"], images: ["docs/samples/red-star.png"] });
 * ```
 *
 * The generated messages and service clients are under `@jointspace/client/gen/...`.
 */
export { Client } from "./client";
export {
  type CallOptions,
  type ClientOptions,
  DEFAULT_MAX_MESSAGE_BYTES,
  IDEMPOTENT_METHODS,
  RETRYABLE_CODES,
  serviceConfig,
} from "./connection";
export { fieldOf, JointspaceError, Status } from "./errors";
export { type Bounds, Filter, type FilterValue } from "./filter";
export { IngestError, type IngestOptions, MAX_ITEMS_PER_MESSAGE } from "./ingest";
export {
  DEFAULT_MODEL,
  type DTypeName,
  type ImageSource,
  type InputLike,
  type Inputs,
  type ModelOptions,
  tensor,
} from "./inputs";
export type { ClassifyOptions, EmbedOptions, ScoreOptions } from "./embedding";
export type { SetLabelOptions } from "./models";
export {
  type CreateCollectionOptions,
  type GetOptions,
  MAX_IDS_PER_CALL,
  type SearchOptions,
  type SearchQuery,
} from "./collections";
export { type EvaluateOptions, type RolloutOptions, RolloutState, type StartRolloutOptions } from "./rollouts";
export type { Hit, IngestResult, Item, LabelScore, Metadata, Scores, StoredItem } from "./types";
export { Metric, VectorType } from "./gen/jointspace/v1/collection_service";
export type { Collection, LabelPolicy } from "./gen/jointspace/v1/collection_service";
export type {
  GetModelMetadataResponse,
  GetModelStatusResponse,
  LabelChange,
  ModelSummary,
} from "./gen/jointspace/v1/model_service";
export { ModelState } from "./gen/jointspace/v1/model_service";
export type { Evaluation, Rollout } from "./gen/jointspace/v1/rollout_service";
export { UnembeddablePolicy } from "./gen/jointspace/v1/rollout_service";
export type { Tensor } from "./gen/jointspace/v1/types";
export { DataType } from "./gen/jointspace/v1/types";
