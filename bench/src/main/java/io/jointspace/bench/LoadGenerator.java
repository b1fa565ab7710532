package io.jointspace.bench;

import io.grpc.Status;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.ModelInferRequest;
import io.jointspace.api.inference.ServerLiveRequest;
import io.jointspace.client.JointspaceClient;
import io.jointspace.client.JointspaceException;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import javax.annotation.Nullable;

/**
 * Sends single-input Embed calls through the Java client (prepared requests, without
 * blocking), closed loop (N callers, each sending its next call when the previous one
 * completes) or open loop (calls fired on a fixed schedule whatever completes, at most
 * {@code maxInFlight} outstanding). Only calls that complete
 * inside the measurement window (after the warmup) count; latencies are of OK calls, from
 * the moment the call was due (open loop: its scheduled time, so a stalled sender does not
 * hide queueing) to its response.
 */
final class LoadGenerator {
  /** What one run measured. Latencies in microseconds; CPU in cores (CPU seconds per second). */
  record Result(String mode, Workload.Kind kind, double seconds, double offeredRate, long ok,
      Map<Status.Code, Long> codes, long clientSkipped, double throughput,
      double p50, double p95, double p99, double serverCores, double benchCores) {
    long count(Status.Code code) {
      return codes.getOrDefault(code, 0L);
    }

    String codesText() {
      StringBuilder b = new StringBuilder();
      codes.forEach((c, n) -> b.append(b.length() == 0 ? "" : ", ").append(c).append(' ').append(n));
      if (clientSkipped > 0) {
        b.append(b.length() == 0 ? "" : ", ").append("not sent (in-flight bound) ").append(clientSkipped);
      }
      return b.toString();
    }
  }

  /** Deadline of each measured call. */
  static final Duration DEADLINE = Duration.ofSeconds(30);

  private final JointspaceClient client;
  private final Workload workload;
  private final LongSupplier serverCpuNanos;
  /** What {@link Workload.Kind#infer} calls send; null when this generator sends none. */
  @Nullable private final ModelInferRequest infer;
  private final GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub inference;

  /** {@code client}: one made by {@link #client}. */
  LoadGenerator(JointspaceClient client, Workload workload, LongSupplier serverCpuNanos) {
    this(client, workload, serverCpuNanos, null);
  }

  /** As above; {@link Workload.Kind#infer} calls send {@code infer} (KServe v2 ModelInfer). */
  LoadGenerator(JointspaceClient client, Workload workload, LongSupplier serverCpuNanos,
      @Nullable ModelInferRequest infer) {
    this.client = client;
    this.workload = workload;
    this.serverCpuNanos = serverCpuNanos;
    this.infer = infer;
    this.inference = GRPCInferenceServiceGrpc.newFutureStub(client.channel());
  }

  /**
   * A client for measured calls to the server at {@code address}: deadline {@link #DEADLINE},
   * and retries off. The client's default retries a refused Embed or Search (RESOURCE_EXHAUSTED,
   * UNAVAILABLE) after a backoff: the refusal would never be counted, and its latency would
   * include the backoff. Measured here, every call is one attempt and every refusal counts.
   */
  static JointspaceClient client(String address) {
    return JointspaceClient.builder(address).deadline(DEADLINE).maxMessageBytes(64 << 20).maxAttempts(1).build();
  }

  /** One call of {@code kind}; the callback gets the status code when it completes (on a gRPC thread). */
  private void call(Workload.Kind kind, java.util.function.Consumer<Status.Code> done) {
    if (kind == Workload.Kind.infer || kind == Workload.Kind.live) {
      if (kind == Workload.Kind.infer && infer == null) {
        throw new IllegalStateException("this load generator has no ModelInfer request");
      }
      var stub = inference.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
      com.google.common.util.concurrent.ListenableFuture<?> call = kind == Workload.Kind.infer ? stub.modelInfer(infer)
          : stub.serverLive(ServerLiveRequest.getDefaultInstance());
      call.addListener(() -> {
        Status.Code code;
        try {
          call.get();
          code = Status.Code.OK;
        } catch (Exception e) {
          code = Status.fromThrowable(e).getCode();
        }
        done.accept(code);
      }, Runnable::run);
      return;
    }
    client.embedResponseAsync(workload.next(kind)).whenComplete((response, error) -> done.accept(
        error == null ? Status.Code.OK
            : error instanceof JointspaceException e ? e.code() : Status.fromThrowable(error).getCode()));
  }

  Result closedLoop(Workload.Kind kind, int concurrency, long warmupMillis, long measureMillis)
      throws InterruptedException {
    Window w = new Window(warmupMillis, measureMillis);
    AtomicInteger outstanding = new AtomicInteger(concurrency);
    for (int i = 0; i < concurrency; i++) {
      new Runnable() {
        @Override
        public void run() {
          long t0 = System.nanoTime();
          call(kind, code -> {
            w.complete(t0, System.nanoTime(), code);
            if (System.nanoTime() < w.end) {
              run();
            } else {
              outstanding.decrementAndGet();
            }
          });
        }
      }.run();
    }
    w.measure();
    drain(outstanding);
    return w.result("closed loop, " + concurrency + " callers", kind, 0, 0);
  }

  Result openLoop(Workload.Kind kind, double ratePerSecond, int maxInFlight, long warmupMillis,
      long measureMillis) throws InterruptedException {
    Window w = new Window(warmupMillis, measureMillis);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicLong skipped = new AtomicLong();
    Thread sender = new Thread(() -> {
      double period = 1e9 / ratePerSecond;
      for (long i = 0; ; i++) {
        long due = w.start + (long) (i * period);
        if (due >= w.end) {
          break;
        }
        long wait = due - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        if (inFlight.get() >= maxInFlight) {
          if (due >= w.measureStart) {
            skipped.incrementAndGet();
          }
          continue;
        }
        inFlight.incrementAndGet();
        call(kind, code -> {
          w.complete(due, System.nanoTime(), code);
          inFlight.decrementAndGet();
        });
      }
    }, "open-loop-sender");
    sender.setDaemon(true);
    sender.start();
    w.measure();
    sender.join();
    drain(inFlight);
    return w.result("open loop, " + Math.round(ratePerSecond) + " req/s offered", kind, ratePerSecond, skipped.get());
  }

  private void drain(AtomicInteger outstanding) throws InterruptedException {
    long until = System.nanoTime() + DEADLINE.toNanos() + TimeUnit.SECONDS.toNanos(5);
    while (outstanding.get() > 0 && System.nanoTime() < until) {
      Thread.sleep(10);
    }
  }

  /** The measurement window and what completed in it. */
  private final class Window {
    final long start = System.nanoTime();
    final long measureStart;
    final long end;
    private final Map<Status.Code, Long> codes = new EnumMap<>(Status.Code.class);
    private long[] latencies = new long[1 << 16];
    private int n;
    private long serverCpu0;
    private long serverCpu1;
    private long selfCpu0;
    private long selfCpu1;

    Window(long warmupMillis, long measureMillis) {
      measureStart = start + TimeUnit.MILLISECONDS.toNanos(warmupMillis);
      end = measureStart + TimeUnit.MILLISECONDS.toNanos(measureMillis);
    }

    synchronized void complete(long t0, long t1, Status.Code code) {
      if (t1 < measureStart || t1 >= end) {
        return;
      }
      codes.merge(code, 1L, Long::sum);
      if (code == Status.Code.OK) {
        if (n == latencies.length) {
          latencies = Arrays.copyOf(latencies, n * 2);
        }
        latencies[n++] = t1 - t0;
      }
    }

    /** Sleeps through the window, sampling CPU time at its edges. */
    void measure() throws InterruptedException {
      sleepUntil(measureStart);
      serverCpu0 = serverCpuNanos.getAsLong();
      selfCpu0 = Cpu.selfNanos();
      sleepUntil(end);
      serverCpu1 = serverCpuNanos.getAsLong();
      selfCpu1 = Cpu.selfNanos();
    }

    private void sleepUntil(long t) throws InterruptedException {
      for (long left; (left = t - System.nanoTime()) > 0; ) {
        TimeUnit.NANOSECONDS.sleep(left);
      }
    }

    synchronized Result result(String mode, Workload.Kind kind, double offered, long skipped) {
      double seconds = (end - measureStart) / 1e9;
      long[] sorted = Arrays.copyOf(latencies, n);
      Arrays.sort(sorted);
      long ok = codes.getOrDefault(Status.Code.OK, 0L);
      double server = serverCpu0 < 0 || serverCpu1 < 0 ? Double.NaN : (serverCpu1 - serverCpu0) / 1e9 / seconds;
      return new Result(mode, kind, seconds, offered, ok, new EnumMap<>(codes), skipped, ok / seconds,
          percentile(sorted, 0.50), percentile(sorted, 0.95), percentile(sorted, 0.99),
          server, (selfCpu1 - selfCpu0) / 1e9 / seconds);
    }
  }

  /** Nearest-rank percentile, in microseconds; NaN for no samples. */
  static double percentile(long[] sortedNanos, double q) {
    if (sortedNanos.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(q * sortedNanos.length);
    return sortedNanos[Math.max(0, Math.min(sortedNanos.length - 1, rank - 1))] / 1e3;
  }
}
