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
import java.util.concurrent.atomic.AtomicReferenceArray;

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
  /** The meters of each method, found once per call by the method's name. */
  private final Map<String, MethodMeters> methods = new ConcurrentHashMap<>();

  /**
   * The per-version counters, each registered once: looking one up by its tags on every call
   * (building and sorting them, hashing the id) took about 4% of a trivial call's handler CPU.
   * A counter leaves this map when {@link ModelMetrics} removes it from the registry (its
   * version ended), so a version loaded again counts in a new series.
   */
  private final Map<VersionCall, Counter> versionCounters = new ConcurrentHashMap<>();

  private record VersionCall(ServableId id, String label, String method, Status.Code code) {}

  public MetricsInterceptor(MeterRegistry registry) {
    this.registry = registry;
    registry.config().onMeterRemoved(m -> {
      if (m.getId().getName().equals(ModelMetrics.PER_VERSION)) {
        versionCounters.values().remove(m);
      }
    });
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    MethodMeters method = methods.computeIfAbsent(call.getMethodDescriptor().getFullMethodName(), MethodMeters::new);
    long start = System.nanoTime();
    AtomicBoolean done = new AtomicBoolean();
    CallModel model = new CallModel();
    AtomicInteger live = method.inFlight;
    live.incrementAndGet();
    ServerCall<Q, R> counted = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        if (done.compareAndSet(false, true)) {
          live.decrementAndGet();
          record(method, status.getCode(), System.nanoTime() - start, model);
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
          record(method, Status.Code.CANCELLED, System.nanoTime() - start, model);
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

  private void record(MethodMeters method, Status.Code code, long nanos, CallModel model) {
    ServableId id = model.id();
    if (id != null) {
      versionCounters.computeIfAbsent(new VersionCall(id, model.label(), method.name, code), k -> Counter.builder(
              ModelMetrics.PER_VERSION)
          .description("gRPC calls finished, by the model version that served them, the label the call named"
              + " (empty: none), method and status code")
          .tags("model", id.name(), "version", Long.toString(id.version()), "label", model.label(), "method",
              method.name, "code", code.name())
          .register(registry))
          .increment();
    }
    CallMeters m = method.of(code);
    m.requests().increment();
    m.latency().record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /**
   * The meters of one method: its calls in flight, and its counter and timer for each status
   * code, registered the first time a call ends with it (registering again looks them up by name
   * and tags, which took a few percent of a call's CPU).
   */
  private final class MethodMeters {
    final String name;
    final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicReferenceArray<CallMeters> byCode = new AtomicReferenceArray<>(Status.Code.values().length);

    MethodMeters(String name) {
      this.name = name;
      Gauge.builder("jointspace.grpc.calls.in.flight", inFlight, AtomicInteger::get)
          .description("gRPC calls started and not yet ended (streams included), by method")
          .tag("method", name)
          .register(registry);
    }

    CallMeters of(Status.Code code) {
      CallMeters m = byCode.get(code.ordinal());
      if (m == null) { // registering twice gives the same meters
        m = new CallMeters(
            Counter.builder("jointspace.grpc.requests")
                .description("gRPC calls finished, by method and status code")
                .tags("method", name, "code", code.name())
                .register(registry),
            Timer.builder("jointspace.grpc.request")
                .description("gRPC call latency, by method and status code")
                .tags("method", name, "code", code.name())
                .register(registry));
        byCode.set(code.ordinal(), m);
      }
      return m;
    }
  }

  /** The meters of one method and status code. */
  private record CallMeters(Counter requests, Timer latency) {}
}
