import { type CallOptions, Connection } from "./connection";
import { EmbeddingServiceService as Embedding } from "./gen/jointspace/v1/embedding_service";
import { type InputLike, type Inputs, inputs, type ModelOptions, modelSpec, toInput } from "./inputs";
import type { LabelScore, Scores } from "./types";

export interface EmbedOptions extends Inputs, ModelOptions, CallOptions {
  /** The signature output that holds the embedding (tensor inputs); empty: its only output. */
  outputName?: string;
}

export interface ClassifyOptions extends Inputs, ModelOptions, CallOptions {
  /** Templates with one "{}" for the label; none: the server's four ("a photo of a {}.", ...). */
  templates?: readonly string[];
  /** Labels per input, best first; 0 (default): all. */
  topK?: number;
}

export interface ScoreOptions extends ModelOptions, CallOptions {
  /** Also the softmax over the candidates of each query. */
  softmax?: boolean;
}

/** EmbeddingService: embed, classify, score. */
export class EmbeddingCalls extends Connection {
  /**
   * Embeds texts, images (bytes or file paths) or raw tensors into the model's one space:
   * one vector per input, texts first, then images, then tensors. Without `version` or
   * `label`, the newest available version answers.
   */
  async embed(options: EmbedOptions): Promise<number[][]> {
    const request = {
      model: modelSpec(options),
      inputs: await inputs(options),
      outputName: options.outputName ?? "",
    };
    const response = await this.unary(Embedding.embed, request, options);
    return response.embeddings.map((e) => e.values);
  }

  /**
   * Zero-shot classification of images or texts against `labels`: per input (texts first,
   * then images), the labels best first, each with its softmax probability and cosine.
   */
  async classify(labels: readonly string[], options: ClassifyOptions): Promise<LabelScore[][]> {
    const request = {
      model: modelSpec(options),
      inputs: await inputs(options),
      labels: [...labels],
      templates: [...(options.templates ?? [])],
      topK: options.topK ?? 0,
    };
    const response = await this.unary(Embedding.classify, request, options);
    return response.results.map((r) => r.scores);
  }

  /**
   * Cosine similarity of every query to every candidate, of any modality: a string is a
   * text, bytes or `{ image: path }` an image (see InputLike).
   */
  async score(queries: readonly InputLike[], candidates: readonly InputLike[], options: ScoreOptions = {}): Promise<Scores> {
    const request = {
      model: modelSpec(options),
      queries: await Promise.all(queries.map(toInput)),
      candidates: await Promise.all(candidates.map(toInput)),
      softmax: options.softmax ?? false,
    };
    const response = await this.unary(Embedding.score, request, options);
    const scores: Scores = { cosines: response.rows.map((r) => r.cosines) };
    if (options.softmax) scores.probabilities = response.rows.map((r) => r.probabilities);
    return scores;
  }
}
