package io.jointspace.server.runtime;

import java.util.Arrays;
import javax.annotation.concurrent.GuardedBy;
import org.tensorflow.proto.RunOptions;

/**
 * Whether one signature's graph runs on the calling thread ({@code RunOptions.inter_op_thread_pool
 * = -1}) or on TensorFlow's inter-op pool, decided from the signature's own first runs. Handing a
 * run to the pool and waiting for it costs thread wake-ups (for TF Serving's half_plus_two, 65 us
 * of CPU per run instead of 24 us on this project's benchmark machine); the pool pays off only
 * for graphs whose independent ops run side by side. So the first {@link #TRIALS} runs each way
 * alternate, timed by the wall clock, and the way with the lower median wins for the rest of the
 * version's life. Thread-safe.
 */
final class InlineRuns {
  /** Runs measured each way before deciding. */
  static final int TRIALS = 8;
  static final RunOptions INLINE = RunOptions.newBuilder().setInterOpThreadPool(-1).build();

  @GuardedBy("this")
  private final long[] pooled = new long[TRIALS];
  @GuardedBy("this")
  private final long[] inline = new long[TRIALS];
  @GuardedBy("this")
  private int pooledRuns;
  @GuardedBy("this")
  private int inlineRuns;
  @GuardedBy("this")
  private int handedOut;
  /** Null while measuring. */
  private volatile Boolean decided;

  /** Whether the next run goes on the calling thread. */
  boolean next() {
    Boolean d = decided;
    if (d != null) {
      return d;
    }
    synchronized (this) {
      return (handedOut++ & 1) == 1;
    }
  }

  /** Records a run of {@code nanos} made the way {@code wasInline} says. */
  void record(boolean wasInline, long nanos) {
    if (decided != null) {
      return;
    }
    synchronized (this) {
      if (wasInline && inlineRuns < TRIALS) {
        inline[inlineRuns++] = nanos;
      } else if (!wasInline && pooledRuns < TRIALS) {
        pooled[pooledRuns++] = nanos;
      }
      if (decided == null && inlineRuns == TRIALS && pooledRuns == TRIALS) {
        decided = median(inline) <= median(pooled);
      }
    }
  }

  /** The decision, or null while the first runs are still measured. */
  Boolean decided() {
    return decided;
  }

  private static long median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
