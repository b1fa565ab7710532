package io.jointspace.server.runtime;

/** A decoded image: 8-bit RGB, interleaved, row-major. */
record Rgb(int width, int height, byte[] pixels) {}
