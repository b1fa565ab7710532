package io.jointspace.server.runtime;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;
import org.tensorflow.proto.RunOptions;

/**
 * Whether one signature's graph runs on the calling thread ({@code RunOptions.inter_op_thread_pool
 * = -1}) or on TensorFlow's inter-op pool, decided from the signature's own first runs. Handing a
 * run to the pool and waiting for it costs thread wake-ups (for TF Serving's half_plus_two, 65 us
 * of CPU per run instead of 24 us on this project's benchmark machine); the pool pays off only
 * for graphs whose independent ops run side by side. So runs alternate between the two ways,
 * timed by the wall clock, and like is compared with like: runs are counted per batch size (the
 * rows of the first input), the first {@link #UNMEASURED} runs of a size each way are not
 * counted, and the first size to have run {@link #TRIALS} more times each way decides for the
 * rest of the version's life: the pool when the calling thread's median is more than
 * {@link #POOL_MARGIN} times the pool's, else the calling thread. (A warm-up runs one batch of
 * each size the queue cuts; compared across sizes, the way that drew the larger batches would
 * lose for no fault of its own.) Thread-safe.
 */
final class InlineRuns {
  /** Runs measured each way, of one batch size, before deciding. */
  static final int TRIALS = 8;
  /**
   * Runs of a batch size not measured, each way, before its trials: a graph's first runs of a
   * shape allocate and tune (milliseconds for the demo encoder's first few runs, twice its
   * steady time), which would make the way that happened to draw them lose.
   */
  static final int UNMEASURED = 4;
  /** Most batch sizes measured at once; runs of other sizes meanwhile go the pool's way, unmeasured. */
  static final int MAX_SIZES = 64;
  /**
   * How much faster, by the wall clock, the pool must be to be chosen: its hand-offs cost CPU
   * the wall clock does not show (the demo's image encoder at batch 1, in-process: 4% faster on
   * the pool, for 8% more CPU per run), and within a few percent the medians of two servers of
   * the same model disagree by chance.
   */
  static final double POOL_MARGIN = 1.10;
  static final RunOptions INLINE = RunOptions.newBuilder().setInterOpThreadPool(-1).build();

  /** A decision and the medians it was made on, for the log. */
  record Decision(boolean inline, int rows, long inlineMedianNanos, long pooledMedianNanos) {}

  private static final class Trials {
    final long[] pooled = new long[TRIALS];
    final long[] inline = new long[TRIALS];
    int pooledRuns;
    int inlineRuns;
    int handedOut;
  }

  @GuardedBy("this")
  private final Map<Integer, Trials> bySize = new HashMap<>();
  /** Null while measuring. */
  @Nullable private volatile Decision decided;

  /** Whether the next run, of {@code rows} rows, goes on the calling thread. */
  boolean next(int rows) {
    Decision d = decided;
    if (d != null) {
      return d.inline();
    }
    synchronized (this) {
      Trials t = trials(rows);
      return t != null && (t.handedOut++ & 1) == 1;
    }
  }

  /**
   * Records a run of {@code rows} rows that took {@code nanos}, made the way {@code wasInline}
   * says; returns the decision when this run made it, else null.
   */
  @Nullable
  Decision record(int rows, boolean wasInline, long nanos) {
    if (decided != null) {
      return null;
    }
    synchronized (this) {
      Trials t = trials(rows);
      if (decided != null || t == null) {
        return null;
      }
      int run = wasInline ? t.inlineRuns++ : t.pooledRuns++;
      if (run >= UNMEASURED && run < UNMEASURED + TRIALS) {
        (wasInline ? t.inline : t.pooled)[run - UNMEASURED] = nanos;
      }
      if (t.inlineRuns < UNMEASURED + TRIALS || t.pooledRuns < UNMEASURED + TRIALS) {
        return null;
      }
      long inline = median(t.inline);
      long pooled = median(t.pooled);
      Decision d = new Decision(inline <= pooled * POOL_MARGIN, rows, inline, pooled);
      decided = d;
      bySize.clear();
      return d;
    }
  }

  /** The decision, or null while the first runs are still measured. */
  @Nullable
  Decision decided() {
    return decided;
  }

  @GuardedBy("this")
  @Nullable
  private Trials trials(int rows) {
    Trials t = bySize.get(rows);
    if (t == null && bySize.size() < MAX_SIZES) {
      t = new Trials();
      bySize.put(rows, t);
    }
    return t;
  }

  private static long median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
