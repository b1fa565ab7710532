package io.jointspace.server.http;

import com.google.gson.JsonObject;
import io.grpc.Status;

/**
 * The one place that turns a gRPC status into an HTTP status and a JSON error body
 * {@code {"error": "...", "code": "NOT_FOUND"}} ({@code error} is KServe's field, and
 * Triton's; {@code code} the gRPC code's name). The message is the gRPC status description
 * the services wrote for callers: never a stack trace.
 *
 * <table>
 *   <caption>gRPC code to HTTP status</caption>
 *   <tr><td>INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE</td><td>400</td></tr>
 *   <tr><td>UNAUTHENTICATED</td><td>401</td></tr>
 *   <tr><td>PERMISSION_DENIED</td><td>403</td></tr>
 *   <tr><td>NOT_FOUND</td><td>404</td></tr>
 *   <tr><td>ALREADY_EXISTS, ABORTED</td><td>409</td></tr>
 *   <tr><td>RESOURCE_EXHAUSTED</td><td>429</td></tr>
 *   <tr><td>UNIMPLEMENTED</td><td>501</td></tr>
 *   <tr><td>UNAVAILABLE</td><td>503</td></tr>
 *   <tr><td>DEADLINE_EXCEEDED</td><td>504</td></tr>
 *   <tr><td>anything else</td><td>500</td></tr>
 * </table>
 *
 * <p>FAILED_PRECONDITION is 400, as in Google's HTTP mapping of gRPC codes: 412 means an
 * HTTP precondition header ({@code If-Match}) failed, which this API never uses.
 */
final class ErrorBody {
  private ErrorBody() {}

  static int httpStatus(Status.Code code) {
    return switch (code) {
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
      case UNAUTHENTICATED -> 401;
      case PERMISSION_DENIED -> 403;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, ABORTED -> 409;
      case RESOURCE_EXHAUSTED -> 429;
      case UNIMPLEMENTED -> 501;
      case UNAVAILABLE -> 503;
      case DEADLINE_EXCEEDED -> 504;
      default -> 500;
    };
  }

  static JsonObject of(String code, String message) {
    JsonObject body = new JsonObject();
    body.addProperty("error", message);
    body.addProperty("code", code);
    return body;
  }

  static JsonObject of(Status status) {
    String description = status.getDescription();
    return of(status.getCode().name(), description == null || description.isEmpty()
        ? status.getCode().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') : description);
  }
}
