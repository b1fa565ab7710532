package io.jointspace.server.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.jointspace.registry.ServableId;
import io.jointspace.server.metrics.ModelMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts gRPC calls by method and status code ({@code jointspace_grpc_requests_total}), and
 * by the model version that served them ({@code jointspace_model_requests_total}, see
 * {@link CallModel}), and times them ({@code jointspace_grpc_request_seconds}). A method is its full name, for example
 * {@code jointspace.v1.EmbeddingService/Embed}.
 *
 * <p>{@code jointspace_grpc_calls_in_flight{method}} is the number of calls started and not yet
 * ended, streams included: a call ends when the server closes it or when it is cancelled (the
 * client cancelled, its deadline passed, or its connection went away). A value that does not
 * come back down names the method whose calls are held.
 */
public final class MetricsInterceptor implements ServerInterceptor {
  private final MeterRegistry registry;
  /** The meters of each method and status code (at most every method times every code). */
  private final java.util.concurrent.ConcurrentHashMap<String, CallMeters> callMeters =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();

  public MetricsInterceptor(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    long start = System.nanoTime();
    AtomicBoolean done = new AtomicBoolean();
    CallModel model = new CallModel();
    AtomicInteger live = inFlight(method);
    live.incrementAndGet();
    ServerCall<Q, R> counted = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        if (done.compareAndSet(false, true)) {
          live.decrementAndGet();
          record(method, status.getCode().name(), System.nanoTime() - start, model);
        }
        super.close(status, trailers);
      }
    };
    Context context = Context.current().withValue(CallModel.KEY, model);
    ServerCall.Listener<Q> listener;
    try {
      listener = Contexts.interceptCall(context, counted, headers, next);
    } catch (RuntimeException e) {
      if (done.compareAndSet(false, true)) {
        live.decrementAndGet();
      }
      throw e;
    }
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onCancel() {
        // The client went away (or its deadline passed) before the call was closed.
        if (done.compareAndSet(false, true)) {
          live.decrementAndGet();
          record(method, Status.Code.CANCELLED.name(), System.nanoTime() - start, model);
        }
        super.onCancel();
      }

      @Override
      public void onComplete() {
        // closed by gRPC itself (a handler that threw, a request it could not read): not counted
        // as a finished call above, but no longer in flight either
        if (done.compareAndSet(false, true)) {
          live.decrementAndGet();
        }
        super.onComplete();
      }
    };
  }

  private AtomicInteger inFlight(String method) {
    return inFlight.computeIfAbsent(method, m -> {
      AtomicInteger n = new AtomicInteger();
      Gauge.builder("jointspace.grpc.calls.in.flight", n, AtomicInteger::get)
          .description("gRPC calls started and not yet ended (streams included), by method")
          .tag("method", m)
          .register(registry);
      return n;
    });
  }

  private void record(String method, String code, long nanos, CallModel model) {
    ServableId id = model.id();
    if (id != null) {
      Counter.builder(ModelMetrics.PER_VERSION)
          .description("gRPC calls finished, by the model version that served them, the label the call named"
              + " (empty: none), method and status code")
          .tags("model", id.name(), "version", Long.toString(id.version()), "label", model.label(), "method", method,
              "code", code)
          .register(registry)
          .increment();
    }
    record(method, code, nanos);
  }

  private void record(String method, String code, long nanos) {
    CallMeters m = callMeters.computeIfAbsent(method + '\0' + code, k -> new CallMeters(
        Counter.builder("jointspace.grpc.requests")
            .description("gRPC calls finished, by method and status code")
            .tags("method", method, "code", code)
            .register(registry),
        Timer.builder("jointspace.grpc.request")
            .description("gRPC call latency, by method and status code")
            .tags("method", method, "code", code)
            .register(registry)));
    m.requests().increment();
    m.latency().record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /**
   * The meters of one method and status code, registered once: registering again looks them up
   * by name and tags, which took a few percent of a call's CPU. (Per-version meters are not kept
   * here: {@link io.jointspace.server.metrics.ModelMetrics} removes those of unloaded versions.)
   */
  private record CallMeters(Counter requests, Timer latency) {}
}
