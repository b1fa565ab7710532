import {
  Client as GrpcClient,
  credentials as grpcCredentials,
  InterceptingCall,
  Metadata,
  type Interceptor,
  type CallOptions as GrpcCallOptions,
  type ChannelInterface,
  type ChannelCredentials,
  type ChannelOptions,
  type ClientDuplexStream,
  type ClientReadableStream,
  type MethodDefinition,
  type ServiceError,
} from "@grpc/grpc-js";
import { isServiceError, JointspaceError, Status } from "./errors";

/** The server's default limit on inbound messages (its --max-message-bytes): 64 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * Methods that change nothing, or leave the same state however often they run (writes and
 * deletes by id): only these are retried. Creating, starting and switching things (a
 * collection, a rollout, a label) are not, since an attempt the client saw fail may have been
 * carried out.
 */
export const IDEMPOTENT_METHODS: Readonly<Record<string, readonly string[]>> = {
  "jointspace.v1.EmbeddingService": ["Embed", "Classify", "Score"],
  "jointspace.v1.ModelService": ["ListModels", "GetModelStatus", "GetModelMetadata", "ListLabelHistory"],
  "jointspace.v1.CollectionService": ["GetCollection", "ListCollections", "Get", "Search", "Upsert", "Delete"],
  "jointspace.v1.RolloutService": ["GetRollout", "ListRollouts"],
  "inference.GRPCInferenceService": ["ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata"],
  "grpc.health.v1.Health": ["Check"],
};

/** The status codes a retry may help with. */
export const RETRYABLE_CODES = ["UNAVAILABLE", "RESOURCE_EXHAUSTED"] as const;

export interface ClientOptions {
  /** Deadline of each unary call in milliseconds; `Infinity`: none. Default 30000. */
  timeoutMs?: number;
  /**
   * Attempts per call of the idempotent methods (IDEMPOTENT_METHODS) when the server answers
   * UNAVAILABLE or RESOURCE_EXHAUSTED, with exponential backoff; 1 turns retries off
   * (gRPC caps attempts at 5). Default 5.
   */
  retryAttempts?: number;
  /** First backoff in milliseconds, doubled per attempt (with gRPC's jitter). Default 200. */
  initialBackoffMs?: number;
  /** Longest backoff in milliseconds. Default 5000. */
  maxBackoffMs?: number;
  /**
   * The largest message sent or received; keep it at the server's --max-message-bytes
   * (64 MiB by default), which `ingest` sizes its messages to.
   */
  maxMessageBytes?: number;
  /** For TLS (`credentials.createSsl()` of @grpc/grpc-js); plaintext without. */
  credentials?: ChannelCredentials;
  /**
   * An API key, sent as `authorization: Bearer <key>` with every call, for a server that
   * requires keys; over plaintext too. Read it from the environment
   * (`process.env.JOINTSPACE_API_KEY`) rather than writing it in code.
   */
  apiKey?: string;
  /** Further channel options of @grpc/grpc-js ("grpc.keepalive_time_ms", ...). */
  channelOptions?: ChannelOptions;
}

/** What every method takes last: its own deadline, and a signal that cancels the call. */
export interface CallOptions {
  /** This call's deadline in milliseconds, instead of the client's; `Infinity`: none. */
  timeoutMs?: number;
  /** Aborting it cancels the call (which then fails with CANCELLED). */
  signal?: AbortSignal;
}

/** The gRPC service config (JSON) that retries IDEMPOTENT_METHODS on RETRYABLE_CODES. */
export function serviceConfig(attempts: number, initialBackoffMs: number, maxBackoffMs: number): string {
  const name = Object.entries(IDEMPOTENT_METHODS).flatMap(([service, methods]) =>
    methods.map((method) => ({ service, method })));
  const retryPolicy = {
    maxAttempts: attempts,
    initialBackoff: `${initialBackoffMs / 1000}s`,
    maxBackoff: `${maxBackoffMs / 1000}s`,
    backoffMultiplier: 2,
    retryableStatusCodes: [...RETRYABLE_CODES],
  };
  return JSON.stringify({ methodConfig: [{ name, retryPolicy }] });
}

/**
 * The channel to the server and how calls go over it: each with a deadline, its errors turned
 * into JointspaceError. The Client's methods are defined by area on classes that extend this
 * one (EmbeddingCalls, ModelCalls, CollectionCalls, RolloutCalls).
 */
export class Connection {
  readonly address: string;
  readonly timeoutMs: number;
  readonly maxMessageBytes: number;
  private readonly grpc: GrpcClient;

  constructor(address = "localhost:8500", options: ClientOptions = {}) {
    const {
      timeoutMs = 30_000,
      retryAttempts = 5,
      initialBackoffMs = 200,
      maxBackoffMs = 5_000,
      maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
    } = options;
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
    if (!Number.isInteger(retryAttempts) || retryAttempts < 1) {
      throw new RangeError(`retryAttempts must be a positive integer, got ${retryAttempts}`);
    }
    this.address = address;
    this.timeoutMs = timeoutMs;
    this.maxMessageBytes = maxMessageBytes;
    const channelOptions: ChannelOptions = {
      "grpc.max_send_message_length": maxMessageBytes,
      "grpc.max_receive_message_length": maxMessageBytes,
    };
    if (retryAttempts > 1) {
      channelOptions["grpc.enable_retries"] = 1;
      channelOptions["grpc.service_config"] = serviceConfig(retryAttempts, initialBackoffMs, maxBackoffMs);
    } else {
      channelOptions["grpc.enable_retries"] = 0;
    }
    Object.assign(channelOptions, options.channelOptions);
    // an interceptor rather than call credentials, which grpc-js sends only over TLS
    const interceptors = options.apiKey ? [bearer(options.apiKey)] : [];
    this.grpc = new GrpcClient(address, options.credentials ?? grpcCredentials.createInsecure(),
      { ...channelOptions, interceptors });
  }

  /**
   * The channel, for the generated clients of the services this one does not wrap:
   * `new HealthClient(client.address, credentials, { channelOverride: client.channel })`.
   */
  get channel(): ChannelInterface {
    return this.grpc.getChannel();
  }

  /** Closes the channel: no new calls can start on it. */
  close(): void {
    this.grpc.close();
  }

  toString(): string {
    return `Client(${this.address})`;
  }

  /** Calls a unary method with the call's deadline; errors become JointspaceError. */
  protected unary<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options: CallOptions = {}): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const { signal } = options;
      const callOptions = this.callOptions(options.timeoutMs ?? this.timeoutMs);
      if (signal?.aborted) {
        reject(cancelled(method.path));
        return;
      }
      let call: { cancel(): void } | undefined;
      const cancel = () => call?.cancel();
      signal?.addEventListener("abort", cancel, { once: true });
      call = this.grpc.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize,
        request, new Metadata(), callOptions,
        (error: ServiceError | null, response?: Res) => {
          signal?.removeEventListener("abort", cancel);
          if (error) reject(JointspaceError.fromServiceError(error, method.path));
          else resolve(response as Res);
        });
    });
  }

  /** Opens a server stream; it has no deadline unless the options give one. */
  protected serverStream<Req, Res>(method: MethodDefinition<Req, Res>, request: Req,
    options: CallOptions = {}): ClientReadableStream<Res> {
    const call = this.grpc.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize,
      request, new Metadata(), this.callOptions(options.timeoutMs ?? Infinity));
    cancelOnAbort(call, options.signal);
    return call;
  }

  /** Opens a bidirectional stream; it has no deadline unless the options give one. */
  protected bidiStream<Req, Res>(method: MethodDefinition<Req, Res>,
    options: CallOptions = {}): ClientDuplexStream<Req, Res> {
    const call = this.grpc.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize,
      new Metadata(), this.callOptions(options.timeoutMs ?? Infinity));
    cancelOnAbort(call, options.signal);
    return call;
  }

  private callOptions(timeoutMs: number): GrpcCallOptions {
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
    return { deadline: Number.isFinite(timeoutMs) ? Date.now() + timeoutMs : Infinity };
  }
}

/** Adds `authorization: Bearer <key>` to the metadata of every call. */
function bearer(key: string): Interceptor {
  return (options, nextCall) => new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set("authorization", `Bearer ${key}`);
      next(metadata, listener);
    },
  });
}

/** A stream's failure as a JointspaceError (other errors pass through). */
export function streamError(error: unknown, method: { path: string }): unknown {
  return isServiceError(error) ? JointspaceError.fromServiceError(error, method.path) : error;
}

function cancelOnAbort(call: { cancel(): void }, signal: AbortSignal | undefined): void {
  if (signal === undefined) return;
  if (signal.aborted) {
    call.cancel();
    return;
  }
  const cancel = () => call.cancel();
  signal.addEventListener("abort", cancel, { once: true });
  (call as unknown as NodeJS.EventEmitter).once("close", () => signal.removeEventListener("abort", cancel));
}

function cancelled(method: string): JointspaceError {
  return new JointspaceError(Status.CANCELLED, `${method} was cancelled before it started`);
}
