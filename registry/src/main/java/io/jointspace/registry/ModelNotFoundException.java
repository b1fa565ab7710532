package io.jointspace.registry;

/**
 * The request names a model, version or label the registry does not know. Retrying the
 * same request helps only after the model repository changes.
 */
public final class ModelNotFoundException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ModelNotFoundException(String message) {
    super(message);
  }
}
