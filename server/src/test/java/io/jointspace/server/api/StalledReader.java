package io.jointspace.server.api;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A client of a streaming call that reads none of its answers until told ({@link #call()}
 * {@code .request(n)}): what it has read in {@link #answers}, its end in {@link #done}.
 */
final class StalledReader<Q, A> implements ClientResponseObserver<Q, A> {
  final List<A> answers = new CopyOnWriteArrayList<>();
  final CompletableFuture<Void> done = new CompletableFuture<>();
  private final CompletableFuture<ClientCallStreamObserver<Q>> started = new CompletableFuture<>();

  @Override
  public void beforeStart(ClientCallStreamObserver<Q> call) {
    call.disableAutoRequestWithInitial(0); // reads nothing until told
    started.complete(call);
  }

  /** The call: its requests to send, and {@code request(n)} to read answers. */
  ClientCallStreamObserver<Q> call() throws Exception {
    return started.get(10, TimeUnit.SECONDS);
  }

  @Override
  public void onNext(A answer) {
    answers.add(answer);
  }

  @Override
  public void onError(Throwable t) {
    done.completeExceptionally(t);
  }

  @Override
  public void onCompleted() {
    done.complete(null);
  }
}
