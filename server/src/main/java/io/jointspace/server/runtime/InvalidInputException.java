package io.jointspace.server.runtime;

/**
 * The caller's input cannot be run: wrong type, shape, size or name. Retrying the same
 * input will fail again. The message says what is wrong; callers prefix the field.
 */
public class InvalidInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public InvalidInputException(String message) {
    super(message);
  }

  public InvalidInputException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The same problem, with the field it was found in put in front of the message. */
  public InvalidInputException at(String field) {
    return new InvalidInputException(field + " " + getMessage(), this);
  }
}
