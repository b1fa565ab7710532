package io.jointspace.registry;

/**
 * The requested model or version exists but is not AVAILABLE now (still loading, failed,
 * or leaving). A retry may succeed once it loads. The message is safe to tell a client;
 * {@link #detail()} (a failed version's load error, which may name the server's files) is for
 * the server log.
 */
public final class ModelUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String detail;

  public ModelUnavailableException(String message) {
    this(message, "");
  }

  public ModelUnavailableException(String message, String detail) {
    super(message);
    this.detail = detail;
  }

  /** What only the server log should hold; empty when there is nothing more. */
  public String detail() {
    return detail;
  }
}
