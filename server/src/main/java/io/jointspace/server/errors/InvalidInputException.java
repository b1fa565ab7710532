package io.jointspace.server.errors;

import javax.annotation.Nullable;

/**
 * The caller's input cannot be used: wrong type, shape, size, name or value. Retrying the same
 * input fails again; the server answers INVALID_ARGUMENT. The message starts with the field
 * path that holds the input ({@link #field()}, e.g. {@code inputs[2].image}) when the code that
 * found the problem knows it; callers that know more put theirs in front with {@link #at}.
 */
public class InvalidInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String field;
  private final String problem;

  /** A problem whose message names its field itself (or has none). */
  public InvalidInputException(String problem) {
    this("", problem, null);
  }

  public InvalidInputException(String problem, @Nullable Throwable cause) {
    this("", problem, cause);
  }

  private InvalidInputException(String field, String problem, @Nullable Throwable cause) {
    super(field.isEmpty() ? problem : field + " " + problem, cause);
    this.field = field;
    this.problem = problem;
  }

  /** {@code problem} found in {@code field}: the message reads "FIELD PROBLEM". */
  public static InvalidInputException of(String field, String problem) {
    return new InvalidInputException(field, problem, null);
  }

  /** The field path the message starts with; empty when the finder did not know it. */
  public String field() {
    return field;
  }

  /** The same problem found inside {@code outer}, which is put in front of the field path. */
  public InvalidInputException at(String outer) {
    return new InvalidInputException(field.isEmpty() ? outer : outer + " " + field, problem, this);
  }
}
