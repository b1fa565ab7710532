package io.jointspace.server.runtime;

/**
 * Whether and how a loaded version runs before it takes calls (see {@link Warmup}).
 *
 * @param enabled warm up each version before it becomes AVAILABLE. Default true
 * @param requestIterations how many times each record of a warmup file runs (TF Serving's
 *     {@code num_request_iterations}). Default 1
 */
public record WarmupOptions(boolean enabled, int requestIterations) {
  public static final WarmupOptions DEFAULT = new WarmupOptions(true, 1);
  public static final WarmupOptions OFF = new WarmupOptions(false, 1);
  /** Most replays of one warmup record. */
  public static final int MAX_REQUEST_ITERATIONS = 100;

  public WarmupOptions {
    if (requestIterations < 1 || requestIterations > MAX_REQUEST_ITERATIONS) {
      throw new IllegalArgumentException("requestIterations must be within 1.." + MAX_REQUEST_ITERATIONS + ", got "
          + requestIterations);
    }
  }
}
