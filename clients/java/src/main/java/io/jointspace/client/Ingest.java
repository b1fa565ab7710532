package io.jointspace.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.StoredItem;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.api.v1.UpsertStreamResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Bulk ingest over {@code CollectionService.UpsertStream}. Items are cut into messages of at
 * most {@code batchItems} items and {@code maxBatchBytes} bytes (under the server's 64 MiB
 * message limit); each message is one transaction on the server, answered once committed.
 * At most {@code inFlight} messages per stream wait for their answer (flow control on the
 * answers). With {@code skipStored}, items whose id the collection already holds are left out,
 * so a run that stopped half-way continues where it stopped. A message the server refuses
 * ends its stream; its items are counted as failed with the server's reason, and the next
 * message goes on a new stream.
 */
public final class Ingest {
  /**
   * @param batchItems items per message (at most 10000, the server's limit)
   * @param maxBatchBytes bytes per message
   * @param inFlight messages sent and not yet answered, per stream
   * @param streams streams at once
   * @param skipStored leave out ids the collection holds already
   * @param progress called after each committed or failed message (from several threads)
   */
  public record Options(int batchItems, long maxBatchBytes, int inFlight, int streams, boolean skipStored,
      Consumer<Progress> progress) {
    public static final Options DEFAULT = new Options(500, 48L << 20, 4, 1, true, p -> { });

    public Options withStreams(int n) {
      return new Options(batchItems, maxBatchBytes, inFlight, n, skipStored, progress);
    }

    public Options withSkipStored(boolean skip) {
      return new Options(batchItems, maxBatchBytes, inFlight, streams, skip, progress);
    }

    public Options withInFlight(int n) {
      return new Options(batchItems, maxBatchBytes, n, streams, skipStored, progress);
    }

    public Options withBatchItems(int n) {
      return new Options(n, maxBatchBytes, inFlight, streams, skipStored, progress);
    }

    public Options withProgress(Consumer<Progress> listener) {
      return new Options(batchItems, maxBatchBytes, inFlight, streams, skipStored, listener);
    }
  }

  /** Counts so far. */
  public record Progress(long committed, long skipped, long failed, Duration elapsed) {
    public double itemsPerSecond() {
      double s = elapsed.toMillis() / 1000.0;
      return s <= 0 ? 0 : committed / s;
    }
  }

  /** A message the server refused: how many items it held and why. */
  public record Failure(long items, String firstId, String reason) {}

  /** What a run did. */
  public record Result(long committed, long skipped, long failed, List<Failure> failures, Duration elapsed) {}

  private final JointspaceClient client;
  private final CollectionServiceGrpc.CollectionServiceStub stub;
  private final String collection;
  private final Options options;
  private final AtomicLong committed = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final List<Failure> failures = Collections.synchronizedList(new ArrayList<>());
  private long started;

  Ingest(JointspaceClient client, CollectionServiceGrpc.CollectionServiceStub stub, String collection,
      Options options) {
    if (options.batchItems() < 1 || options.batchItems() > 10_000) {
      throw new IllegalArgumentException("batchItems must be within 1..10000, got " + options.batchItems());
    }
    if (options.inFlight() < 1 || options.streams() < 1) {
      throw new IllegalArgumentException("inFlight and streams must be at least 1");
    }
    this.client = client;
    this.stub = stub;
    this.collection = collection;
    this.options = options;
  }

  Result run(Iterator<Item> items) {
    started = System.nanoTime();
    Batches batches = new Batches(items);
    ExecutorService pool = Executors.newFixedThreadPool(options.streams(), r -> {
      Thread t = new Thread(r, "jointspace-ingest");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<?>> streams = new ArrayList<>();
      for (int i = 0; i < options.streams(); i++) {
        streams.add(pool.submit(() -> stream(batches)));
      }
      for (Future<?> f : streams) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("ingest interrupted", e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
    return new Result(committed.get(), skipped.get(), failed.get(), List.copyOf(failures), elapsed());
  }

  /** Sends batches on one stream (a new one after a refused message) until there are none. */
  private void stream(Batches batches) {
    List<Item> batch = batches.next();
    while (batch != null) {
      batch = oneStream(batches, batch);
    }
  }

  /**
   * Runs one stream starting with {@code first}; returns the batch to send on a new stream
   * after a refusal, or null when all is sent.
   */
  private List<Item> oneStream(Batches batches, List<Item> first) {
    Semaphore window = new Semaphore(options.inFlight());
    java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
    List<List<Item>> sent = Collections.synchronizedList(new ArrayList<>());
    CompletableFuture<Void> done = new CompletableFuture<>();
    @SuppressWarnings("unchecked")
    ClientCallStreamObserver<UpsertStreamRequest>[] requests = new ClientCallStreamObserver[1];
    stub.upsertStream(new ClientResponseObserver<UpsertStreamRequest, UpsertStreamResponse>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<UpsertStreamRequest> r) {
        requests[0] = r;
      }

      @Override
      public void onNext(UpsertStreamResponse answer) {
        answered.incrementAndGet();
        committed.addAndGet(answer.getCommittedCount());
        window.release();
        report();
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
        window.release(options.inFlight());
      }

      @Override
      public void onCompleted() {
        done.complete(null);
      }
    });
    List<Item> batch = first;
    try {
      while (batch != null && !done.isDone()) {
        window.acquire();
        if (done.isDone()) {
          break;
        }
        sent.add(batch);
        requests[0].onNext(UpsertStreamRequest.newBuilder().setCollection(collection).addAllItems(batch).build());
        batch = batches.next();
      }
      if (!done.isDone()) {
        requests[0].onCompleted();
      }
      done.get();
      return batch;
    } catch (InterruptedException e) {
      requests[0].cancel("interrupted", e);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("ingest interrupted", e);
    } catch (RuntimeException e) {
      // the items could not be read, or the stored ids looked up: end the stream with it
      requests[0].cancel("ingest stopped: " + e.getMessage(), e);
      throw e;
    } catch (ExecutionException e) {
      Status status = Status.fromThrowable(e.getCause());
      if (!(e.getCause() instanceof StatusRuntimeException) || status.getCode() == Status.Code.UNAVAILABLE
          || status.getCode() == Status.Code.CANCELLED) {
        throw JointspaceException.of(status.asRuntimeException());
      }
      // answers come in order: the first message not answered is the one refused, and the
      // ones sent after it were never committed
      int at = answered.get();
      List<Item> refused = at < sent.size() ? sent.get(at) : List.of();
      List<List<Item>> again = new ArrayList<>(sent.subList(Math.min(at + 1, sent.size()), sent.size()));
      if (batch != null) {
        again.add(batch);
      }
      String reason = status.getDescription() == null ? "" : status.getDescription();
      if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED && !reason.contains("over the limit")
          && overloadRetries.incrementAndGet() <= MAX_OVERLOAD_RETRIES) {
        // the server's queues are full now: the same message again, after a pause
        again.add(0, refused);
        sleepQuietly(OVERLOAD_PAUSE_MILLIS);
      } else if (!refused.isEmpty()) {
        failed.addAndGet(refused.size());
        failures.add(new Failure(refused.size(), refused.get(0).getId(), status.getCode() + ": " + reason));
        report();
      }
      batches.pushBack(again);
      return batches.next();
    }
  }

  /** Overloaded refusals retried per run, and the pause before each. */
  static final int MAX_OVERLOAD_RETRIES = 30;
  static final long OVERLOAD_PAUSE_MILLIS = 1000;
  private final java.util.concurrent.atomic.AtomicInteger overloadRetries = new java.util.concurrent.atomic.AtomicInteger();

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void report() {
    options.progress().accept(new Progress(committed.get(), skipped.get(), failed.get(), elapsed()));
  }

  private Duration elapsed() {
    return Duration.ofNanos(System.nanoTime() - started);
  }

  /** Cuts the items into messages, leaving out stored ids; shared by the streams. */
  private final class Batches {
    private final Iterator<Item> items;
    private final List<List<Item>> pushedBack = new ArrayList<>();
    /** An item that did not fit the last message: it starts the next. */
    private Item carry;

    Batches(Iterator<Item> items) {
      this.items = items;
    }

    synchronized void pushBack(List<List<Item>> batches) {
      pushedBack.addAll(0, batches);
    }

    /** The next message's items, or null when there are no more. */
    synchronized List<Item> next() {
      if (!pushedBack.isEmpty()) {
        return pushedBack.remove(0);
      }
      while (carry != null || items.hasNext()) {
        List<Item> batch = new ArrayList<>();
        long bytes = 0;
        while ((carry != null || items.hasNext()) && batch.size() < options.batchItems()) {
          Item item = carry != null ? carry : items.next();
          carry = null;
          int size = item.getSerializedSize();
          if (!batch.isEmpty() && bytes + size > options.maxBatchBytes()) {
            carry = item;
            break;
          }
          batch.add(item);
          bytes += size;
        }
        batch = options.skipStored() ? unstored(batch) : batch;
        if (!batch.isEmpty()) {
          return batch;
        }
      }
      return null;
    }

    private static boolean storable(String id) {
      return !id.isEmpty() && id.indexOf('\0') < 0 && id.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 512;
    }

    /** {@code batch} without the ids the collection holds. */
    private List<Item> unstored(List<Item> batch) {
      Set<String> stored = new HashSet<>();
      for (int from = 0; from < batch.size(); from += 1000) {
        List<String> ids = new ArrayList<>();
        for (Item i : batch.subList(from, Math.min(batch.size(), from + 1000))) {
          if (storable(i.getId())) { // a bad id is left to the write, which names it
            ids.add(i.getId());
          }
        }
        for (StoredItem s : client.get(collection, ids, false, false)) {
          stored.add(s.getId());
        }
      }
      if (stored.isEmpty()) {
        return batch;
      }
      List<Item> out = new ArrayList<>();
      for (Item i : batch) {
        if (!stored.contains(i.getId())) {
          out.add(i);
        }
      }
      skipped.addAndGet(batch.size() - out.size());
      return out;
    }
  }
}
