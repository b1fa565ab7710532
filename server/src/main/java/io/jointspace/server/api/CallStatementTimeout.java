package io.jointspace.server.api;

import io.grpc.Context;
import io.grpc.Deadline;
import io.jointspace.server.store.StatementTimeout;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;

/**
 * The statement timeout of the gRPC call served on this thread: the time left before its
 * deadline, at most {@code cap}; {@code cap} for a call without a deadline. Work on threads
 * that serve no call (rollout backfills, index builds, start-up) gets none.
 */
public final class CallStatementTimeout implements StatementTimeout {
  private final Duration cap;

  public CallStatementTimeout(Duration cap) {
    if (cap.toMillis() < 1) {
      throw new IllegalArgumentException("the statement timeout cap must be at least 1 ms, is " + cap);
    }
    this.cap = cap;
  }

  @Override
  @Nullable
  public Duration current() {
    Context context = Context.current();
    if (context == Context.ROOT) {
      return null;
    }
    Deadline deadline = context.getDeadline();
    if (deadline == null) {
      return cap;
    }
    long left = deadline.timeRemaining(TimeUnit.MILLISECONDS);
    return Duration.ofMillis(Math.max(1, Math.min(left, cap.toMillis())));
  }
}
