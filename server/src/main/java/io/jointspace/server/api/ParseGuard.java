package io.jointspace.server.api;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
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
 * request's bytes, so that the parse happens inside this interceptor's listener, where its
 * failure can be answered. The service's own listener then hears {@code onCancel}: its call
 * ended without it. Responses go out as the service made them: grpc-java's {@link
 * ServerInterceptors#useInputStreamMessages} would also turn each response into bytes and back,
 * and buffer each request stream again, which took about a tenth of a trivial call's handler CPU.
 */
public final class ParseGuard implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(ParseGuard.class);
  /** protobuf-java's CodedInputStream default, which grpc-java's marshaller keeps. */
  static final int RECURSION_LIMIT = 100;

  private ParseGuard() {}

  /** {@code service}, with its request parse failures answered as INVALID_ARGUMENT. */
  public static ServerServiceDefinition guard(ServerServiceDefinition service) {
    return ServerInterceptors.intercept(requestBytes(service), new ParseGuard());
  }

  /** The request stream as the transport gives it; the transport closes it once onMessage returns. */
  private static final MethodDescriptor.Marshaller<InputStream> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(InputStream value) {
      return value;
    }

    @Override
    public InputStream parse(InputStream stream) {
      return stream;
    }
  };

  /** {@code service} with every method taking its request as bytes, parsed by the method's own marshaller. */
  private static ServerServiceDefinition requestBytes(ServerServiceDefinition service) {
    ServiceDescriptor original = service.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(original.getSchemaDescriptor());
    List<ServerMethodDefinition<InputStream, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      ServerMethodDefinition<InputStream, ?> bytes = requestBytes(m);
      descriptor.addMethod(bytes.getMethodDescriptor());
      methods.add(bytes);
    }
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(b::addMethod);
    return b.build();
  }

  private static <Q, A> ServerMethodDefinition<InputStream, A> requestBytes(ServerMethodDefinition<Q, A> method) {
    MethodDescriptor<Q, A> typed = method.getMethodDescriptor();
    MethodDescriptor<InputStream, A> bytes = typed.toBuilder(BYTES, typed.getResponseMarshaller()).build();
    ServerCallHandler<Q, A> handler = method.getServerCallHandler();
    return ServerMethodDefinition.create(bytes, (call, headers) -> {
      ServerCall.Listener<Q> listener = handler.startCall(new TypedCall<>(call, typed), headers);
      return new BytesListener<>(listener, typed);
    });
  }

  /** The service's listener, hearing each request once the method's own marshaller has parsed it. */
  private static final class BytesListener<Q> extends ServerCall.Listener<InputStream> {
    private final ServerCall.Listener<Q> typed;
    private final MethodDescriptor<Q, ?> method;

    BytesListener(ServerCall.Listener<Q> typed, MethodDescriptor<Q, ?> method) {
      this.typed = typed;
      this.method = method;
    }

    @Override
    public void onMessage(InputStream message) {
      typed.onMessage(method.parseRequest(message)); // a parse failure: INTERNAL, answered by the guard
    }

    @Override
    public void onHalfClose() {
      typed.onHalfClose();
    }

    @Override
    public void onCancel() {
      typed.onCancel();
    }

    @Override
    public void onComplete() {
      typed.onComplete();
    }

    @Override
    public void onReady() {
      typed.onReady();
    }

    @Override
    public void onEvent(Object event) {
      typed.onEvent(event);
    }
  }

  /** A call that takes its request as bytes, as the service sees it: typed, with the service's own descriptor. */
  private static final class TypedCall<Q, A> extends ServerCall<Q, A> {
    private final ServerCall<InputStream, A> call;
    private final MethodDescriptor<Q, A> typed;

    TypedCall(ServerCall<InputStream, A> call, MethodDescriptor<Q, A> typed) {
      this.call = call;
      this.typed = typed;
    }

    @Override
    public MethodDescriptor<Q, A> getMethodDescriptor() {
      return typed;
    }

    @Override
    public void request(int n) {
      call.request(n);
    }

    @Override
    public void sendHeaders(Metadata headers) {
      call.sendHeaders(headers);
    }

    @Override
    public void sendMessage(A message) {
      call.sendMessage(message);
    }

    @Override
    public boolean isReady() {
      return call.isReady();
    }

    @Override
    public void close(Status status, Metadata trailers) {
      call.close(status, trailers);
    }

    @Override
    public boolean isCancelled() {
      return call.isCancelled();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      call.setMessageCompression(enabled);
    }

    @Override
    public void setCompression(String compressor) {
      call.setCompression(compressor);
    }

    @Override
    public void setOnReadyThreshold(int bytes) {
      call.setOnReadyThreshold(bytes);
    }

    @Override
    public io.grpc.SecurityLevel getSecurityLevel() {
      return call.getSecurityLevel();
    }

    @Override
    public io.grpc.Attributes getAttributes() {
      return call.getAttributes();
    }

    @Override
    public String getAuthority() {
      return call.getAuthority();
    }

    @Override
    public void triggerEvent(Object event) {
      call.triggerEvent(event);
    }
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
