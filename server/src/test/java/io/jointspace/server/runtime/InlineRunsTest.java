package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class InlineRunsTest {
  /** Runs {@code rows} rows the way {@link InlineRuns#next} says; inline takes {@code inlineNanos}. */
  private static InlineRuns.Decision run(InlineRuns how, int rows, long inlineNanos, long pooledNanos) {
    boolean inline = how.next(rows);
    return how.record(rows, inline, inline ? inlineNanos : pooledNanos);
  }

  /** The decision of runs of {@code rows} rows taking these times, on a new InlineRuns. */
  private static InlineRuns.Decision decide(int rows, long inlineNanos, long pooledNanos) {
    return decide(rows, i -> new long[] {inlineNanos, pooledNanos});
  }

  /**
   * The decision of runs of {@code rows} rows on a new InlineRuns, the i-th run (counted from 0,
   * either way) taking {@code times.apply(i)}: {inline, pooled} nanoseconds.
   */
  private static InlineRuns.Decision decide(int rows, java.util.function.IntFunction<long[]> times) {
    InlineRuns how = new InlineRuns();
    InlineRuns.Decision decision = null;
    for (int i = 0; decision == null; i++) {
      long[] t = times.apply(i);
      decision = run(how, rows, t[0], t[1]);
    }
    assertThat(how.next(rows)).isEqualTo(decision.inline());
    return decision;
  }

  @Test
  void eachBatchSize_alternatesOnItsOwn_poolFirst() {
    InlineRuns how = new InlineRuns();
    assertThat(List.of(how.next(1), how.next(32), how.next(1), how.next(32), how.next(1)))
        .containsExactly(false, false, true, true, false);
  }

  @Test
  void aWarmupOfEverySize_doesNotDecide_byComparingSmallBatchesWithLargeOnes() {
    // a warm-up: one batch of each size, 1..32, each taking time in proportion to its rows,
    // twice, then calls of one row, which run faster on the calling thread
    InlineRuns how = new InlineRuns();
    for (int round = 0; round < 2; round++) {
      for (int size : List.of(1, 2, 4, 8, 16, 32)) {
        assertThat(run(how, size, size * 100_000L, size * 100_000L)).isNull();
      }
    }
    InlineRuns.Decision decision = null;
    int calls = 0;
    while (decision == null) {
      decision = run(how, 1, 80_000, 100_000);
      calls++;
    }
    // size 1 had run once each way in the warm-up: the rest of its unmeasured runs and its trials
    assertThat(calls).isEqualTo(2 * (InlineRuns.UNMEASURED + InlineRuns.TRIALS - 1));
    assertThat(decision).isEqualTo(new InlineRuns.Decision(true, 1, 80_000, 100_000));
    assertThat(how.decided()).isEqualTo(decision);
    assertThat(how.next(32)).isTrue();
    assertThat(run(how, 1, 1, 1)).as("decided once, for good").isNull();
  }

  @Test
  void thePool_winsWhenItsMedianIsLower_andTheFirstRunsAreNotCounted() {
    // the first runs of each way are cold (here: the calling thread's slow, the pool's fast);
    // warm, the pool is faster, as is one pooled run in the trials
    InlineRuns.Decision decision = decide(4, i -> i < 2 * InlineRuns.UNMEASURED ? new long[] {500_000, 100_000}
        : new long[] {400_000, i == 2 * InlineRuns.UNMEASURED ? 50_000_000 : 300_000});
    assertThat(decision).isEqualTo(new InlineRuns.Decision(false, 4, 400_000, 300_000));
  }

  @Test
  void aPoolFasterByLessThanItsMargin_losesToTheCallingThread() {
    assertThat(decide(1, 1_050_000, 1_000_000).inline()).isTrue();
    assertThat(decide(1, 1_150_000, 1_000_000).inline()).isFalse();
  }

  @Test
  void coldRuns_doNotDecide() {
    // cold, the calling thread looked faster; warm, the pool is
    InlineRuns.Decision decision = decide(1, i -> i < 2 * InlineRuns.UNMEASURED ? new long[] {1_000_000, 3_000_000}
        : new long[] {900_000, 800_000});
    assertThat(decision.inline()).isFalse();
  }

  @Test
  void pastTheMostSizesMeasured_runsGoToThePool_unmeasured() {
    InlineRuns how = new InlineRuns();
    for (int size = 1; size <= InlineRuns.MAX_SIZES; size++) {
      run(how, size, 1, 1);
    }
    for (int i = 0; i < 4 * (InlineRuns.UNMEASURED + InlineRuns.TRIALS); i++) {
      assertThat(how.next(InlineRuns.MAX_SIZES + 1)).isFalse();
      assertThat(how.record(InlineRuns.MAX_SIZES + 1, false, 1)).isNull();
    }
    assertThat(how.decided()).isNull();
  }
}
