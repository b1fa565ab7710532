package io.jointspace.bench;

import java.util.Locale;

/**
 * Warms a fresh server up before it is measured: a fresh JVM compiles for about a minute under
 * load, taking CPU the server has to share, so runs measured meanwhile measure the compiler.
 */
final class JitWarmUp {
  /** Load for one window of the warm-up, a few seconds long. */
  interface Window {
    void run() throws InterruptedException;
  }

  private JitWarmUp() {}

  /**
   * Runs {@code window} again and again until the server's JIT compiler threads used under 5%
   * of a core over one, or {@code maxSeconds} pass (one window only when their CPU time cannot
   * be read). Returns what it did, for the report; "skipped" when {@code maxSeconds} <= 0.
   */
  static String run(ServerProcess s, long maxSeconds, Window window) throws InterruptedException {
    if (maxSeconds <= 0) {
      return "skipped";
    }
    long start = System.nanoTime();
    long until = start + maxSeconds * 1_000_000_000L;
    double jitCores = Double.NaN;
    boolean readable = true;
    while (System.nanoTime() < until) {
      long jit0 = Cpu.jitNanos(s.pid());
      long t0 = System.nanoTime();
      window.run();
      long jit1 = Cpu.jitNanos(s.pid());
      readable = jit0 >= 0 && jit1 >= 0;
      jitCores = (jit1 - jit0) / (double) (System.nanoTime() - t0);
      if (!readable || jitCores < 0.05) { // quiet, or the threads are unreadable: one window is all it gets
        break;
      }
    }
    return String.format(Locale.ROOT, readable
        ? "%.0f s (JIT compiler threads at %.1f%% of a core in the last window)"
        : "%.0f s (one window: the JIT compiler threads' CPU time could not be read)",
        (System.nanoTime() - start) / 1e9, 100 * jitCores);
  }
}
