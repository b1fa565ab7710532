package io.jointspace.server.store;

import java.time.Duration;

/**
 * A database statement ran past the {@link StatementTimeout} of its call and PostgreSQL
 * cancelled it; nothing of its transaction was committed. The server answers DEADLINE_EXCEEDED.
 */
public final class StatementTimeoutException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StatementTimeoutException(Duration timeout, Throwable cause) {
    super("a database statement ran past the call's deadline (statement timeout " + timeout.toMillis()
        + " ms) and was cancelled; nothing of it was written", cause);
  }
}
