import { status as Status, type ServiceError } from "@grpc/grpc-js";
import { MESSAGE_FIELDS, REQUEST_TYPES } from "./gen/fields";

export { Status };

/** Codes whose messages start with the request field at fault, when they name one. */
const NAMING_FIELDS = new Set<Status>([Status.INVALID_ARGUMENT, Status.RESOURCE_EXHAUSTED]);
/** A stream's error names the request message it is about first ("message 3: items[1].id ..."). */
const STREAM_MESSAGE = /^message \d+: /;
/** A field path: names with optional indexes, joined by dots ("items[3].input.text"). */
const PATH = /^[A-Za-z_]\w*(?:\[\d+\])?(?:\.[A-Za-z_]\w*(?:\[\d+\])?)*/;

/**
 * A call the server (or the channel) answered with an error status.
 *
 * `code` is the gRPC status code (compare with `Status.NOT_FOUND`, ...), `codeName` its name,
 * `details` the server's message as sent, and `field` the request field that message starts
 * with (for example `"items[3].id"`), for INVALID_ARGUMENT and RESOURCE_EXHAUSTED; else
 * undefined. `message` reads "NOT_FOUND: collection 'x' does not exist".
 */
export class JointspaceError extends Error {
  readonly code: Status;
  readonly details: string;
  readonly field: string | undefined;

  constructor(code: Status, details: string, field?: string, options?: { cause?: unknown }) {
    super(`${Status[code] ?? code}: ${details}`, options);
    this.name = "JointspaceError";
    this.code = code;
    this.details = details;
    this.field = field;
  }

  get codeName(): string {
    return Status[this.code] ?? String(this.code);
  }

  /** Whether the same call may succeed later: UNAVAILABLE, RESOURCE_EXHAUSTED or ABORTED. */
  get retryable(): boolean {
    return this.code === Status.UNAVAILABLE || this.code === Status.RESOURCE_EXHAUSTED || this.code === Status.ABORTED;
  }

  /** The error for a failed call of `method` (its path, "/jointspace.v1.CollectionService/Upsert"). */
  static fromServiceError(error: ServiceError, method?: string): JointspaceError {
    const code = typeof error.code === "number" ? error.code : Status.UNKNOWN;
    const details = error.details ?? error.message;
    const field = NAMING_FIELDS.has(code) && method ? fieldOf(details, REQUEST_TYPES[method]) : undefined;
    return new JointspaceError(code, details, field, { cause: error });
  }
}

/**
 * The field path `message` starts with, when the request type has such a field.
 *
 * Server messages read "FIELD PROBLEM" ("items[3].id is empty"), where the path may be followed
 * by a space or a colon, and on a stream come after "message N: ". Only a path whose first name
 * is a field of the request is taken, so a message that starts with an ordinary word names no
 * field; the path is kept up to the last name the request type has.
 */
export function fieldOf(message: string, requestType: string | undefined): string | undefined {
  if (requestType === undefined) return undefined;
  const rest = message.replace(STREAM_MESSAGE, "");
  const match = PATH.exec(rest);
  if (match === null) return undefined;
  const after = rest.charAt(match[0].length);
  if (after !== "" && after !== " " && after !== ":") return undefined;
  const kept: string[] = [];
  let type: string | null | undefined = requestType;
  for (const part of match[0].split(".")) {
    const fields: Readonly<Record<string, string | null>> | undefined = type ? MESSAGE_FIELDS[type] : undefined;
    const name = part.split("[", 1)[0];
    if (fields === undefined || !Object.hasOwn(fields, name)) break;
    kept.push(part);
    type = fields[name];
  }
  return kept.length > 0 ? kept.join(".") : undefined;
}

/** Whether `error` is what grpc-js reports for a failed call. */
export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === "number" && "details" in error;
}
