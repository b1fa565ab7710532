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
 * Counts the calls of the services it wraps that are in flight now (from their start until
 * they close or are cancelled): background work, such as a rollout's backfill, waits while
 * there are any. Thread-safe; one per server.
 */
@com.google.inject.Singleton
public final class LiveCalls implements ServerInterceptor {
  private final AtomicInteger inFlight = new AtomicInteger();

  /** Calls in flight now. */
  public int inFlight() {
    return inFlight.get();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    inFlight.incrementAndGet();
    AtomicBoolean done = new AtomicBoolean();
    Runnable end = () -> {
      if (done.compareAndSet(false, true)) {
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
      };
    } catch (RuntimeException e) {
      end.run();
      throw e;
    }
  }
}
