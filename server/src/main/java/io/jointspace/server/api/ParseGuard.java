package io.jointspace.server.api;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a request message that protobuf will not parse (nested deeper than its recursion
 * limit of 100 levels, or not a message of the method's type) with INVALID_ARGUMENT and one
 * log line.
 *
 * <p>grpc-java parses a request before any interceptor sees it, and answers a parse failure
 * with UNKNOWN "Application error processing RPC" while its executor logs the stack trace at
 * SEVERE: the caller's mistake reads as the server's. {@link #guard} makes the service take the
 * message bytes ({@link ServerInterceptors#useInputStreamMessages}) so that the parse happens
 * inside this interceptor's listener, where its failure can be answered. The service's own
 * listener then hears {@code onCancel}: its call ended without it.
 */
public final class ParseGuard implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(ParseGuard.class);
  /** protobuf-java's CodedInputStream default, which grpc-java's marshaller keeps. */
  static final int RECURSION_LIMIT = 100;

  private ParseGuard() {}

  /** {@code service}, with its request parse failures answered as INVALID_ARGUMENT. */
  public static ServerServiceDefinition guard(ServerServiceDefinition service) {
    return ServerInterceptors.intercept(ServerInterceptors.useInputStreamMessages(service), new ParseGuard());
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    ClosingOnce<Q, A> once = new ClosingOnce<>(call);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(once, headers)) {
      /** Answered here; the service hears nothing more but onCancel. Callbacks of one call run one at a time. */
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        if (refused) {
          return;
        }
        try {
          super.onMessage(message); // the wrapped service parses the bytes, then handles them
        } catch (StatusRuntimeException e) {
          InvalidProtocolBufferException bad = parseFailure(e);
          if (bad == null) {
            throw e;
          }
          refused = true;
          String what = bad.getMessage() != null && bad.getMessage().contains("levels of nesting")
              ? "request nested deeper than " + RECURSION_LIMIT + " levels"
              : "request is not a valid " + call.getMethodDescriptor().getFullMethodName() + " request message";
          log.info("Refused a {} call: {}", call.getMethodDescriptor().getFullMethodName(), what);
          once.close(Status.INVALID_ARGUMENT.withDescription(what), new Metadata()); // unless refused inside already
        }
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }

      @Override
      public void onComplete() {
        if (refused) {
          super.onCancel(); // what the service knows of a call that ended without its answer
        } else {
          super.onComplete();
        }
      }
    };
  }

  /** The call, closed at most once: an interceptor inside (a missing API key) may have answered it already. */
  private static final class ClosingOnce<Q, A> extends io.grpc.ForwardingServerCall.SimpleForwardingServerCall<Q, A> {
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    ClosingOnce(ServerCall<Q, A> call) {
      super(call);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      if (closed.compareAndSet(false, true)) {
        super.close(status, trailers);
      }
    }
  }

  /** The marshaller's parse failure, or null when {@code e} came from the service itself. */
  private static InvalidProtocolBufferException parseFailure(StatusRuntimeException e) {
    return e.getStatus().getCode() == Status.Code.INTERNAL
        && e.getStatus().getCause() instanceof InvalidProtocolBufferException bad ? bad : null;
  }
}
