package io.jointspace.server.api;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.jointspace.registry.ModelNotFoundException;
import io.jointspace.registry.ModelUnavailableException;
import io.jointspace.server.batching.DeadlineExceededException;
import io.jointspace.server.batching.QueueClosedException;
import io.jointspace.server.batching.QueueFullException;
import io.jointspace.server.errors.FailedPreconditionException;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.uploads.VersionUploads;
import io.jointspace.server.errors.OverloadedException;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that chooses the gRPC status a client sees for a failure (DESIGN.md's error
 * table). Unexpected failures become INTERNAL with a correlation id; the stack trace is
 * logged once, here, and never sent. UNAVAILABLE answers from the database or a version that
 * failed to load tell the client a short reason and a correlation id, and log the rest (the
 * database's address and user, the driver's message, the load error with its file paths)
 * under that id. Errors about the caller's own input are sent as they are.
 */
public final class StatusMapper {
  private static final Logger log = LoggerFactory.getLogger(StatusMapper.class);

  private StatusMapper() {}

  public static StatusRuntimeException toStatus(Throwable error) {
    Throwable e = unwrap(error);
    Status status;
    if (e instanceof StatusRuntimeException sre) {
      return sre;
    } else if (e instanceof StatusException se) {
      status = se.getStatus();
    } else if (e instanceof InvalidInputException) {
      status = Status.INVALID_ARGUMENT.withDescription(e.getMessage());
    } else if (e instanceof ModelNotFoundException || e instanceof io.jointspace.server.errors.NotFoundException) {
      status = Status.NOT_FOUND.withDescription(e.getMessage());
    } else if (e instanceof OverloadedException || e instanceof QueueFullException) {
      // the runtime reports a full queue as OverloadedException; the batching library's own
      // type is mapped alike for any other user of its queues
      status = Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage());
    } else if (e instanceof DeadlineExceededException
        || e instanceof io.jointspace.server.store.StatementTimeoutException) {
      status = Status.DEADLINE_EXCEEDED.withDescription(e.getMessage());
    } else if (e instanceof CancellationException) {
      status = Status.CANCELLED.withDescription("the call was cancelled");
    } else if (e instanceof QueueClosedException) {
      status = Status.UNAVAILABLE.withDescription(e.getMessage());
    } else if (e instanceof io.jointspace.server.store.LimitExceededException) {
      status = Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage());
    } else if (e instanceof io.jointspace.server.store.CollectionNotFoundException) {
      status = Status.NOT_FOUND.withDescription(e.getMessage());
    } else if (e instanceof io.jointspace.server.store.RolloutNotFoundException) {
      status = Status.NOT_FOUND.withDescription(e.getMessage());
    } else if (e instanceof io.jointspace.server.store.RolloutExistsException) {
      status = Status.ALREADY_EXISTS.withDescription(e.getMessage());
    } else if (e instanceof io.jointspace.server.store.CollectionExistsException) {
      status = Status.ALREADY_EXISTS.withDescription(e.getMessage());
    } else if (e instanceof VersionUploads.VersionExistsException) {
      status = Status.ALREADY_EXISTS.withDescription(e.getMessage());
    } else if (e instanceof io.jointspace.server.errors.PermissionDeniedException) {
      status = Status.PERMISSION_DENIED.withDescription(e.getMessage());
    } else if (e instanceof FailedPreconditionException) {
      status = Status.FAILED_PRECONDITION.withDescription(e.getMessage());
    } else if (e instanceof io.jointspace.server.store.CollectionChangedException) {
      status = Status.ABORTED.withDescription(e.getMessage() + "; nothing was written, retry");
    } else if (e instanceof io.jointspace.server.store.StoreConflictException) {
      status = Status.FAILED_PRECONDITION.withDescription(e.getMessage());
    } else if (e instanceof io.jointspace.server.store.StoreUnavailableException store) {
      // the full message names the database (address, user) and quotes its driver: log only
      String id = UUID.randomUUID().toString();
      log.warn("Store unavailable, id {}: {}", id, e.getMessage());
      status = Status.UNAVAILABLE.withDescription(store.reason() + "; the server log has details under id " + id);
    } else if (e instanceof ModelUnavailableException model) {
      if (model.detail().isEmpty()) {
        status = Status.UNAVAILABLE.withDescription(e.getMessage());
      } else {
        // a load error may name the server's files: log only
        String id = UUID.randomUUID().toString();
        log.warn("Model unavailable, id {}: {}: {}", id, e.getMessage(), model.detail());
        status = Status.UNAVAILABLE.withDescription(e.getMessage() + "; the server log has the error under id " + id);
      }
    } else {
      String id = UUID.randomUUID().toString();
      log.error("Internal error {}", id, e);
      status = Status.INTERNAL.withDescription("internal error; the server log has details under id " + id);
    }
    return status.asRuntimeException();
  }

  /**
   * As {@link #toStatus(Throwable)}, with the description put between {@code before} and
   * {@code after} (which message of a stream failed, what was committed before it).
   */
  public static StatusRuntimeException toStatus(Throwable error, String before, String after) {
    Status status = toStatus(error).getStatus();
    return status.withDescription(before + (status.getDescription() == null ? "" : status.getDescription()) + after)
        .asRuntimeException();
  }

  /**
   * As {@link #toStatus(Throwable)}, for TF Serving's API: a model that exists but has no
   * version to serve (loading, or failed to load) is FAILED_PRECONDITION there, as TF Serving
   * answers for a servable that is not available, where Jointspace's own APIs say UNAVAILABLE.
   * The description is the same.
   */
  public static StatusRuntimeException toTfServingStatus(Throwable error) {
    StatusRuntimeException status = toStatus(error);
    if (unwrap(error) instanceof ModelUnavailableException) {
      return Status.FAILED_PRECONDITION.withDescription(status.getStatus().getDescription()).asRuntimeException();
    }
    return status;
  }

  /** Runs a unary call's {@code body} and sends its result, or its error mapped here. */
  static <T> void answer(io.grpc.stub.StreamObserver<T> observer, java.util.function.Supplier<T> body) {
    answer(observer, body, StatusMapper::toStatus);
  }

  /** As {@link #answer}, with errors mapped by {@link #toTfServingStatus}. */
  static <T> void answerTfServing(io.grpc.stub.StreamObserver<T> observer, java.util.function.Supplier<T> body) {
    answer(observer, body, StatusMapper::toTfServingStatus);
  }

  private static <T> void answer(io.grpc.stub.StreamObserver<T> observer, java.util.function.Supplier<T> body,
      java.util.function.Function<Throwable, StatusRuntimeException> mapper) {
    T result;
    try {
      result = body.get();
    } catch (RuntimeException e) {
      observer.onError(mapper.apply(e));
      return;
    }
    observer.onNext(result);
    observer.onCompleted();
  }

  private static Throwable unwrap(Throwable e) {
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
