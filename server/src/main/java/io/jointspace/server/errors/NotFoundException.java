package io.jointspace.server.errors;

/** The thing a call names does not exist (an API key, ...); the server answers NOT_FOUND. */
public class NotFoundException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NotFoundException(String message) {
    super(message);
  }
}
