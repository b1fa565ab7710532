package io.jointspace.server.store;

/** A name, id, vector, metadata value or filter the store cannot take. The message names the field. */
public final class InvalidRequestException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public InvalidRequestException(String message) {
    super(message);
  }
}
