package io.jointspace.server.store;

import java.time.Duration;
import javax.annotation.Nullable;

/**
 * How long the statements of the database work about to start on this thread may run: the
 * time its call has left, at most a server-wide cap. {@link Database} asks once per
 * transaction, after it has a connection, and sets it with {@code SET LOCAL statement_timeout};
 * a statement cancelled for it fails with {@link StatementTimeoutException}.
 *
 * <p>The store knows no calls: the server supplies one that reads the current call's deadline.
 */
@FunctionalInterface
public interface StatementTimeout {
  /** No timeout: tools and tests that use the store directly. */
  StatementTimeout NONE = () -> null;

  /**
   * The timeout for work starting now on the calling thread; null for none (work no call waits
   * for, such as rollout backfills and index builds). At least one millisecond when not null.
   */
  @Nullable
  Duration current();
}
