package io.jointspace.server.api;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Follows the calls of the services it wraps: how many single-request calls are in flight,
 * and when a call last started or ended or a stream message arrived. Background work, such as a rollout's backfill, waits until the server
 * has been {@link #quiet()} for a moment: a client that calls in a loop leaves gaps between
 * its calls too short to count. Thread-safe; one per server.
 */
@com.google.inject.Singleton
public final class LiveCalls implements ServerInterceptor {
  /** How long without a call the server must have been to count as quiet. */
  static final long QUIET_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(50);

  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile long lastActivity = System.nanoTime() - QUIET_NANOS;

  /** Calls in flight now. */
  public int inFlight() {
    return inFlight.get();
  }

  /** No call in flight, and none started or ended in the last 50 ms. */
  public boolean quiet() {
    return inFlight.get() == 0 && System.nanoTime() - lastActivity >= QUIET_NANOS;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (call.getMethodDescriptor().getType().clientSendsOneMessage()) {
      return unary(call, headers, next);
    }
    // a stream the client keeps open may sit idle for hours: it counts when a message arrives
    lastActivity = System.nanoTime();
    return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
      @Override
      public void onMessage(Q message) {
        lastActivity = System.nanoTime();
        super.onMessage(message);
      }
    };
  }

  /** A call with one request: in flight from its start until it ends, however it ends. */
  private <Q, R> ServerCall.Listener<Q> unary(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    inFlight.incrementAndGet();
    lastActivity = System.nanoTime();
    AtomicBoolean done = new AtomicBoolean();
    Runnable end = () -> {
      if (done.compareAndSet(false, true)) {
        lastActivity = System.nanoTime();
        inFlight.decrementAndGet();
      }
    };
    ServerCall<Q, R> counted = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        end.run();
        super.close(status, trailers);
      }
    };
    try {
      return new SimpleForwardingServerCallListener<>(next.startCall(counted, headers)) {
        @Override
        public void onCancel() {
          end.run();
          super.onCancel();
        }

        @Override
        public void onComplete() {
          // also when gRPC closed the call itself (a handler that threw, a request it could not read)
          end.run();
          super.onComplete();
        }
      };
    } catch (RuntimeException e) {
      end.run();
      throw e;
    }
  }
}
