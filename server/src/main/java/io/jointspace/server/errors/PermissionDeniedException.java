package io.jointspace.server.errors;

/**
 * The call's API key may make the call but not on everything the request names (a collection
 * on a model the key may not run); the server answers PERMISSION_DENIED, naming the scope.
 */
public final class PermissionDeniedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public PermissionDeniedException(String message) {
    super(message);
  }
}
