package io.jointspace.server.batching;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A ticker that moves only when told. It starts just below Long.MAX_VALUE so that every test
 * also checks that the scheduler's time arithmetic survives the wrap-around of nanoTime.
 */
final class FakeTicker implements Ticker {
  private final AtomicLong nanos = new AtomicLong(Long.MAX_VALUE - Duration.ofMillis(2).toNanos());

  @Override
  public long nanoTime() {
    return nanos.get();
  }

  void advance(Duration duration) {
    nanos.addAndGet(duration.toNanos());
  }

  void advanceMillis(long millis) {
    advance(Duration.ofMillis(millis));
  }
}
