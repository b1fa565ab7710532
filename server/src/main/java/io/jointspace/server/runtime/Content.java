package io.jointspace.server.runtime;

/** One input to embed with a version's encoder: a text or an encoded image. */
public sealed interface Content {
  /** A text, tokenized with the version's tokenizer. */
  record Text(String text) implements Content {}

  /** An encoded image (PNG, JPEG, GIF, BMP), decoded and resized as the version's spec says. */
  record Image(byte[] encoded) implements Content {}
}
