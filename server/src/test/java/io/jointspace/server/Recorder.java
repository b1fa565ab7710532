package io.jointspace.server;

import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A {@link StreamObserver} for tests: keeps every value it is given, in order, and ends once:
 * {@link #ended()} completes with null after {@code onCompleted}, with the error after
 * {@code onError}.
 */
public final class Recorder<T> implements StreamObserver<T> {
  private final List<T> values = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Throwable> ended = new CompletableFuture<>();

  @Override
  public void onNext(T value) {
    synchronized (values) {
      values.add(value);
      values.notifyAll();
    }
  }

  @Override
  public void onError(Throwable t) {
    ended.complete(t);
  }

  @Override
  public void onCompleted() {
    ended.complete(null);
  }

  /** What has arrived so far (a live, thread-safe view). */
  public List<T> values() {
    return values;
  }

  /** Completes with null when the stream completed, with its error when it failed. */
  public CompletableFuture<Throwable> ended() {
    return ended;
  }

  /**
   * The {@code index}-th value (from 0), waiting up to {@code seconds} for it to arrive.
   *
   * @throws AssertionError when it has not arrived by then
   */
  public T awaitValue(int index, long seconds) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    synchronized (values) {
      while (values.size() <= index) {
        long left = until - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError("value " + index + " did not arrive within " + seconds + " s; got " + values.size());
        }
        TimeUnit.NANOSECONDS.timedWait(values, left);
      }
      return values.get(index);
    }
  }

  /** Waits up to {@code seconds} for the stream to complete; fails with its error if it failed. */
  public List<T> awaitCompleted(long seconds) throws Exception {
    Throwable error = ended.get(seconds, TimeUnit.SECONDS);
    if (error != null) {
      throw new AssertionError("the stream failed: " + error, error);
    }
    return values;
  }
}
