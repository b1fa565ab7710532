package io.jointspace.registry;

/**
 * The requested model or version exists but is not AVAILABLE now (still loading, failed,
 * or leaving). A retry may succeed once it loads.
 */
public final class ModelUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ModelUnavailableException(String message) {
    super(message);
  }
}
