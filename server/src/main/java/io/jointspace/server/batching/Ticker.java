package io.jointspace.server.batching;

/**
 * A source of monotonic nanoseconds, like {@link System#nanoTime()}: only differences between
 * two readings mean anything. Injected into {@link BatchScheduler} so that tests can move time
 * by hand instead of sleeping. Must be safe to call from any thread.
 */
@FunctionalInterface
public interface Ticker {
  long nanoTime();

  /** The JVM's monotonic clock. */
  static Ticker system() {
    return System::nanoTime;
  }
}
