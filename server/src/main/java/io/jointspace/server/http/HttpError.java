package io.jointspace.server.http;

/**
 * A request the HTTP layer refuses before any gRPC call is made: JSON that does not parse,
 * a body over the limit, a content type the route does not take. Rendered like a gRPC error
 * ({@link ErrorBody}), with {@code status} as the HTTP status.
 */
final class HttpError extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final String code;

  HttpError(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  static HttpError badRequest(String message) {
    return new HttpError(400, "INVALID_ARGUMENT", message);
  }

  int status() {
    return status;
  }

  /** The gRPC code name the error body carries, so that clients read one vocabulary. */
  String code() {
    return code;
  }
}
