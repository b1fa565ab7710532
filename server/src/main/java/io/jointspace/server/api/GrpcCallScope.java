package io.jointspace.server.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.Status;
import io.jointspace.server.runtime.CallScope;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The {@link CallScope} of the gRPC call being served on this thread: its deadline, and an end
 * as soon as the call is cancelled or its deadline passes (the client already has its
 * status then; what the server still had queued for it is dropped, counted as expired or
 * cancelled). Open it where the call's work starts and close it when that work returns, on the
 * same thread; closing stops listening to the call's context.
 */
final class GrpcCallScope implements AutoCloseable {
  /**
   * A client whose own deadline timer fires resets the stream (CANCELLED) a moment before the
   * server's timer would: a cancellation this close to the deadline counts as the deadline.
   */
  static final long DEADLINE_SLACK_MS = 100;

  private final Context context;
  private final CallScope scope;
  private final Context.CancellationListener listener;

  private GrpcCallScope(Context context, CallScope scope) {
    this.context = context;
    this.scope = scope;
    this.listener = ended -> {
      Status status = Contexts.statusFromCancelled(ended);
      Deadline deadline = ended.getDeadline();
      if ((status != null && status.getCode() == Status.Code.DEADLINE_EXCEEDED)
          || (deadline != null && deadline.timeRemaining(TimeUnit.MILLISECONDS) <= DEADLINE_SLACK_MS)) {
        scope.expire();
      } else {
        scope.cancel();
      }
    };
    context.addListener(listener, Runnable::run);
  }

  /** The scope of the current call (no deadline outside a call). */
  static GrpcCallScope current() {
    Context context = Context.current();
    Deadline deadline = context.getDeadline();
    Duration timeout = deadline == null ? null : Duration.ofNanos(deadline.timeRemaining(TimeUnit.NANOSECONDS));
    return new GrpcCallScope(context, CallScope.withTimeout(timeout));
  }

  CallScope scope() {
    return scope;
  }

  @Override
  public void close() {
    context.removeListener(listener);
  }
}
