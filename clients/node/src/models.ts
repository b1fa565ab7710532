import type { CallOptions } from "./connection";
import { EmbeddingCalls } from "./embedding";
import { HealthCheckResponse_ServingStatus as ServingStatus, HealthService as Health } from "./gen/grpc/health/v1/health";
import { GRPCInferenceServiceService as Inference } from "./gen/inference/grpc_predict_v2";
import {
  type GetModelMetadataResponse,
  type GetModelStatusResponse,
  type LabelChange,
  ModelServiceService as Models,
  type ModelSummary,
} from "./gen/jointspace/v1/model_service";
import { modelSpec } from "./inputs";

export interface SetLabelOptions extends CallOptions {
  /** Accept versions that are still loading (NEW or LOADING). */
  allowLoading?: boolean;
  /** Who makes the change, for the history; empty: the caller's network address. */
  changedBy?: string;
}

/** ModelService (models, versions, labels) and the server's readiness and health. */
export class ModelCalls extends EmbeddingCalls {
  /** Every model the server knows, with its versions (newest first) and labels. */
  async listModels(options: CallOptions = {}): Promise<ModelSummary[]> {
    return (await this.unary(Models.listModels, {}, options)).models;
  }

  /** The state of every version of a model (or of `version` alone), and its labels. */
  async modelStatus(name: string, options: CallOptions & { version?: number } = {}): Promise<GetModelStatusResponse> {
    return this.unary(Models.getModelStatus, { name, version: options.version ?? 0 }, options);
  }

  /** Signatures, tags, embedding dimension and encoder spec of an available version. */
  async modelMetadata(name: string,
    options: CallOptions & { version?: number; label?: string } = {}): Promise<GetModelMetadataResponse> {
    return this.unary(Models.getModelMetadata, { model: modelSpec({ ...options, model: name }) }, options);
  }

  /**
   * Points `label` at one version (`setLabel("shapes-clip", "stable", 2)`), or splits it
   * between versions by weight (`setLabel("shapes-clip", "stable", { 2: 90, 3: 10 })`).
   */
  async setLabel(model: string, label: string, target: number | Readonly<Record<number, number>>,
    options: SetLabelOptions = {}): Promise<LabelChange> {
    const request = {
      model,
      label,
      version: typeof target === "number" ? target : undefined,
      split: typeof target === "number" ? undefined : { weights: { ...target } },
      allowLoading: options.allowLoading ?? false,
      changedBy: options.changedBy ?? "",
    };
    return this.unary(Models.setLabel, request, options);
  }

  /** Removes a label (a configured one too; the removal is recorded). */
  async deleteLabel(model: string, label: string, options: CallOptions & { changedBy?: string } = {}): Promise<LabelChange> {
    return this.unary(Models.deleteLabel, { model, label, changedBy: options.changedBy ?? "" }, options);
  }

  /** Every recorded change of a model's labels (or of `label` alone), oldest first. */
  async labelHistory(model: string, options: CallOptions & { label?: string } = {}): Promise<LabelChange[]> {
    return (await this.unary(Models.listLabelHistory, { model, label: options.label ?? "" }, options)).changes;
  }

  /** Whether every model the server knows has an available version (KServe ServerReady). */
  async serverReady(options: CallOptions = {}): Promise<boolean> {
    return (await this.unary(Inference.serverReady, {}, options)).ready;
  }

  /** Whether the server (or one of its services, by full name) is serving (gRPC health). */
  async serving(service = "", options: CallOptions = {}): Promise<boolean> {
    return (await this.unary(Health.check, { service }, options)).status === ServingStatus.SERVING;
  }
}
