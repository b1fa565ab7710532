import { readFile } from "node:fs/promises";
import type { Input } from "./gen/jointspace/v1/embedding_service";
import { DataType, type ModelSpec, type Tensor } from "./gen/jointspace/v1/types";

/** Encoded image bytes (PNG, JPEG, GIF, BMP), or the path of an image file. */
export type ImageSource = Uint8Array | string;

/**
 * One thing to embed or compare where any modality goes: a string is a text; bytes are an
 * encoded image; `{ image: path }` names an image file; `{ tensor }` is a raw tensor.
 */
export type InputLike = string | Uint8Array | { text: string } | { image: ImageSource } | { tensor: Tensor };

/** Which model serves a call: `model` (default "shapes-clip"), and at most one of `version`, `label`. */
export interface ModelOptions {
  model?: string;
  version?: number;
  label?: string;
  /** The signature to run (tensor inputs); empty: the model's default. */
  signature?: string;
  /** For a label split between versions: calls with the same key go to the same version. */
  routingKey?: string;
}

export const DEFAULT_MODEL = "shapes-clip";

/** A ModelSpec from the options; at most one of `version` and `label`. */
export function modelSpec(options: ModelOptions = {}, defaultModel = DEFAULT_MODEL): ModelSpec {
  if (options.version !== undefined && options.label !== undefined) {
    throw new TypeError("give a version or a label, not both");
  }
  return {
    name: options.model ?? defaultModel,
    version: options.version,
    label: options.label,
    signatureName: options.signature ?? "",
    routingKey: options.routingKey ?? "",
  };
}

/** The bytes of an image given as bytes or as a file path. */
export async function imageBytes(image: ImageSource): Promise<Buffer> {
  if (typeof image === "string") return readFile(image);
  if (Buffer.isBuffer(image)) return image;
  if (image instanceof Uint8Array) return Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  throw new TypeError(`an image is bytes or a file path, not ${describe(image)}`);
}

export function textInput(text: string): Input {
  if (typeof text !== "string") throw new TypeError(`a text is a string, not ${describe(text)}`);
  return { text, image: undefined, tensor: undefined };
}

export async function imageInput(image: ImageSource): Promise<Input> {
  return { text: undefined, image: await imageBytes(image), tensor: undefined };
}

export function tensorInput(tensor: Tensor): Input {
  return { text: undefined, image: undefined, tensor };
}

/** An Input from any InputLike (see there). */
export async function toInput(value: InputLike): Promise<Input> {
  if (typeof value === "string") return textInput(value);
  if (value instanceof Uint8Array) return imageInput(value);
  if (typeof value === "object" && value !== null) {
    if ("text" in value) return textInput(value.text);
    if ("image" in value) return imageInput(value.image);
    if ("tensor" in value) return tensorInput(value.tensor);
  }
  throw new TypeError(`an input is a text, image bytes, { image }, or { tensor }, not ${describe(value)}`);
}

/** What EmbedRequest and ClassifyRequest take: texts first, then images, then tensors. */
export interface Inputs {
  texts?: readonly string[];
  /** Encoded image bytes or file paths. */
  images?: readonly ImageSource[];
  /** Raw tensors for the signature's input (see `tensor`); not mixed with texts or images. */
  tensors?: readonly Tensor[];
}

export async function inputs({ texts = [], images = [], tensors = [] }: Inputs): Promise<Input[]> {
  const result = [
    ...texts.map(textInput),
    ...(await Promise.all(images.map(imageInput))),
    ...tensors.map(tensorInput),
  ];
  if (result.length === 0) throw new TypeError("give at least one text, image or tensor");
  return result;
}

/** Element types by their KServe names, as `tensor` takes them. */
export type DTypeName = "BOOL" | "UINT8" | "INT8" | "INT16" | "INT32" | "INT64" | "FP32" | "FP64" | "BYTES" | "UINT16";

/**
 * A dense tensor of `values` in row-major order, put in the field that matches `dtype`.
 * `shape` defaults to one dimension of `values.length`; `name` is the signature input it
 * feeds (empty when the signature has one input).
 */
export function tensor(dtype: DTypeName, values: ArrayLike<number | boolean | Uint8Array>,
  options: { shape?: readonly number[]; name?: string } = {}): Tensor {
  const all = Array.from(values);
  const t: Tensor = {
    dtype: DataType[dtype],
    shape: [...(options.shape ?? [all.length])],
    boolVal: [], intVal: [], int64Val: [], floatVal: [], doubleVal: [], bytesVal: [],
    rawContent: Buffer.alloc(0),
    name: options.name ?? "",
  };
  switch (dtype) {
    case "BOOL": t.boolVal = all.map(Boolean); break;
    case "UINT8": case "INT8": case "INT16": case "INT32": case "UINT16": t.intVal = all.map(Number); break;
    case "INT64": t.int64Val = all.map(Number); break;
    case "FP32": t.floatVal = all.map(Number); break;
    case "FP64": t.doubleVal = all.map(Number); break;
    case "BYTES": t.bytesVal = all.map((v) => {
      if (!(v instanceof Uint8Array)) throw new TypeError("BYTES values are Uint8Arrays");
      return Buffer.from(v);
    }); break;
    default: throw new TypeError(`unknown dtype ${String(dtype)}`);
  }
  return t;
}

/** An enum value given by number or by name, case-insensitively, with or without `prefix`. */
export function enumValue<E extends Record<string, string | number>>(
  enumType: E, value: string | number | undefined, what: string, prefix = ""): number {
  if (value === undefined) return 0;
  if (typeof value === "number") return value;
  const name = value.toUpperCase();
  for (const candidate of [name, prefix + name]) {
    const found = enumType[candidate];
    if (typeof found === "number" && found >= 0) return found;
  }
  const known = Object.keys(enumType).filter((k) => Number.isNaN(Number(k)) && k !== "UNRECOGNIZED");
  throw new TypeError(`${what} ${JSON.stringify(value)} is not one of ${known.join(", ")}`);
}

/** Seconds as a Duration message. */
export function duration(seconds: number): { seconds: number; nanos: number } {
  const whole = Math.floor(seconds);
  return { seconds: whole, nanos: Math.round((seconds - whole) * 1e9) };
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? (value.constructor?.name ?? "an object") : typeof value;
}
