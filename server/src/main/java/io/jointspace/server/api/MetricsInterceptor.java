package io.jointspace.server.api;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts gRPC calls by method and status code ({@code jointspace_grpc_requests_total}) and
 * times them ({@code jointspace_grpc_request_seconds}). A method is its full name, for example
 * {@code jointspace.v1.EmbeddingService/Embed}.
 */
public final class MetricsInterceptor implements ServerInterceptor {
  private final MeterRegistry registry;

  public MetricsInterceptor(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    long start = System.nanoTime();
    AtomicBoolean done = new AtomicBoolean();
    ServerCall<Q, R> counted = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        if (done.compareAndSet(false, true)) {
          record(method, status.getCode().name(), System.nanoTime() - start);
        }
        super.close(status, trailers);
      }
    };
    return new SimpleForwardingServerCallListener<>(next.startCall(counted, headers)) {
      @Override
      public void onCancel() {
        // The client went away (or its deadline passed) before the call was closed.
        if (done.compareAndSet(false, true)) {
          record(method, Status.Code.CANCELLED.name(), System.nanoTime() - start);
        }
        super.onCancel();
      }
    };
  }

  private void record(String method, String code, long nanos) {
    Counter.builder("jointspace.grpc.requests")
        .description("gRPC calls finished, by method and status code")
        .tags("method", method, "code", code)
        .register(registry)
        .increment();
    Timer.builder("jointspace.grpc.request")
        .description("gRPC call latency, by method and status code")
        .tags("method", method, "code", code)
        .register(registry)
        .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }
}
