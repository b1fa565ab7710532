package io.jointspace.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a JVM of its own with the JVM options under test ({@link Manifests#heap}): prints the
 * heap's limit, its committed size and the process's resident set at the start, and the
 * committed size after half the heap was allocated, dropped and collected
 * (System.gc, a full collection, after which G1 gives back what it deems free).
 */
public final class HeapProbe {
  private HeapProbe() {}

  public static void main(String[] args) throws IOException {
    Runtime r = Runtime.getRuntime();
    long max = r.maxMemory();
    long committedAtStart = r.totalMemory();
    long rssAtStart = rssBytes();
    // half the heap, in arrays small enough for G1's regions (no humongous objects)
    byte[][] chunks = new byte[(int) (max / 2 >> 18)][];
    for (int i = 0; i < chunks.length; i++) {
      chunks[i] = new byte[1 << 18];
    }
    chunks = null;
    System.gc();
    System.gc();
    System.out.println(max + " " + committedAtStart + " " + rssAtStart + " " + r.totalMemory());
  }

  private static long rssBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }
}
