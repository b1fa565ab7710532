package io.jointspace.server.store;

import javax.annotation.Nullable;

/**
 * The database cannot be reached now; the same call may succeed once it is back. The
 * {@link #reason()} is short and safe to tell a client; {@link #getMessage()} adds what only
 * the server log should hold (the database's address and user, the driver's message).
 */
public final class StoreUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String reason;

  /** {@code message} is safe to tell a client as it is. */
  public StoreUnavailableException(String message, @Nullable Throwable cause) {
    this(message, "", cause);
  }

  /** {@code detail} is for the server log only; empty for none. */
  public StoreUnavailableException(String reason, String detail, @Nullable Throwable cause) {
    super(detail.isEmpty() ? reason : reason + ": " + detail, cause);
    this.reason = reason;
  }

  /** Why, in words a client may see. */
  public String reason() {
    return reason;
  }
}
