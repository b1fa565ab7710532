package io.jointspace.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.annotation.Nullable;

/**
 * A call the server refused or that did not complete: the gRPC status code, the server's
 * message, and the request field it named (the server starts its messages about a bad field
 * with the field's path, for example {@code items[3].id}).
 */
public final class JointspaceException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private static final Pattern FIELD = Pattern.compile("^([a-z_]+(\\[\\d+])?(\\.[a-z_]+(\\[\\d+])?)*)[ :.]");

  private final Status.Code code;
  @Nullable private final String field;

  JointspaceException(Status.Code code, String message, @Nullable String field, Throwable cause) {
    super(code + ": " + message, cause);
    this.code = code;
    this.field = field;
  }

  /** The exception for a failed call. */
  static JointspaceException of(StatusRuntimeException e) {
    String message = e.getStatus().getDescription() == null ? "" : e.getStatus().getDescription();
    Throwable reason = e.getStatus().getCause();
    if (reason != null) {
      // a call that never reached the server: the transport's own reason (a refused TLS
      // handshake, a closed connection) says more than "io exception"
      while (reason.getCause() != null && reason.getCause() != reason) {
        reason = reason.getCause();
      }
      if (reason.getMessage() != null && !message.contains(reason.getMessage())) {
        message = message + " (" + reason.getMessage().lines().findFirst().orElse("") + ")";
      }
    }
    String field = null;
    if (e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT
        || e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
      Matcher m = FIELD.matcher(message);
      field = m.find() ? m.group(1) : null;
    }
    return new JointspaceException(e.getStatus().getCode(), message, field, e);
  }

  public Status.Code code() {
    return code;
  }

  /** The request field the server named (for INVALID_ARGUMENT and RESOURCE_EXHAUSTED), or null. */
  @Nullable
  public String field() {
    return field;
  }

  /** Whether the same call may succeed later (UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED). */
  public boolean retryable() {
    return code == Status.Code.UNAVAILABLE || code == Status.Code.RESOURCE_EXHAUSTED || code == Status.Code.ABORTED;
  }
}
