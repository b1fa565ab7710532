package io.jointspace.bench;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.SearchResponse;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.api.v1.UpsertStreamResponse;
import io.jointspace.api.v1.Vector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/** The gRPC side of the storage benchmark: UpsertStream ingest and closed-loop Search. */
final class StorageClient {
  private final ManagedChannel channel;

  StorageClient(ManagedChannel channel) {
    this.channel = channel;
  }

  /** Item {@code i} of {@code data} with its vector and metadata. */
  static Item item(VectorData data, int i) {
    float[] v = data.vectors[i];
    Vector.Builder vector = Vector.newBuilder();
    for (float x : v) {
      vector.addValues(x);
    }
    Struct metadata = Struct.newBuilder()
        .putFields("n", Value.newBuilder().setNumberValue(i).build())
        .putFields("group", Value.newBuilder().setStringValue("g" + data.group[i]).build())
        .putFields("shard", Value.newBuilder().setNumberValue(data.shard[i]).build())
        .build();
    return Item.newBuilder().setId(VectorData.id(i)).setVector(vector).setMetadata(metadata).build();
  }

  /** Items {@code from..to} in messages of {@code perMessage}. */
  static UpsertStreamRequest message(String collection, VectorData data, int from, int to) {
    UpsertStreamRequest.Builder b = UpsertStreamRequest.newBuilder().setCollection(collection);
    for (int i = from; i < to; i++) {
      b.addItems(item(data, i));
    }
    return b.build();
  }

  /** What one UpsertStream measured. */
  record Ingest(long rows, int messages, double seconds) {
    double rowsPerSecond() {
      return rows / seconds;
    }
  }

  /**
   * Sends {@code count} messages (made by {@code message}, on this thread, while earlier ones
   * are in flight) on one UpsertStream, at most {@code inFlight} unanswered; times from the
   * first send to the answer of the last, when every row is committed.
   */
  Ingest upsertStream(int count, IntFunction<UpsertStreamRequest> message, int inFlight) throws InterruptedException {
    Semaphore window = new Semaphore(inFlight);
    CountDownLatch done = new CountDownLatch(1);
    AtomicLong committed = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long t0 = System.nanoTime();
    StreamObserver<UpsertStreamRequest> requests = CollectionServiceGrpc.newStub(channel)
        .upsertStream(new StreamObserver<UpsertStreamResponse>() {
          @Override
          public void onNext(UpsertStreamResponse r) {
            committed.set(r.getTotalCommitted());
            window.release();
          }

          @Override
          public void onError(Throwable t) {
            failure.set(t);
            window.release(inFlight + count);
            done.countDown();
          }

          @Override
          public void onCompleted() {
            done.countDown();
          }
        });
    for (int m = 0; m < count && failure.get() == null; m++) {
      UpsertStreamRequest r = message.apply(m);
      window.acquire();
      requests.onNext(r);
    }
    requests.onCompleted();
    if (!done.await(30, TimeUnit.MINUTES)) {
      throw new IllegalStateException("UpsertStream did not finish in 30 min");
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (failure.get() != null) {
      throw new IllegalStateException("UpsertStream failed after " + committed.get() + " rows: "
          + failure.get().getMessage(), failure.get());
    }
    return new Ingest(committed.get(), count, seconds);
  }

  /** Ids of the hits of one search, best first. */
  int[] search(SearchRequest request) {
    SearchResponse r = CollectionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .search(request);
    int[] ids = new int[r.getHitsCount()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = Integer.parseInt(r.getHits(i).getId().substring("item-".length()));
    }
    return ids;
  }

  /** Latencies (microseconds) and throughput of a closed loop. */
  record Load(int clients, double seconds, long ok, long errors, double qps, double p50, double p95, double p99,
      double mean) {}

  /**
   * {@code clients} threads, each sending its next Search (cycling through {@code requests}
   * from its own offset) when the last one answers; {@code warmupMillis}, then
   * {@code durationMillis} measured. Only calls started and finished inside the window count.
   */
  Load closedLoop(List<SearchRequest> requests, int clients, long warmupMillis, long durationMillis)
      throws InterruptedException {
    long start = System.nanoTime();
    long windowStart = start + warmupMillis * 1_000_000;
    long windowEnd = windowStart + durationMillis * 1_000_000;
    List<long[]> perThread = new ArrayList<>();
    long[] counts = new long[clients];
    long[] errors = new long[clients];
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < clients; t++) {
      int me = t;
      long[][] box = {new long[4096]};
      perThread.add(null);
      Thread thread = new Thread(() -> {
        var stub = CollectionServiceGrpc.newBlockingStub(channel);
        int next = (int) ((long) me * requests.size() / clients);
        long[] lat = box[0];
        int n = 0;
        while (true) {
          long t0 = System.nanoTime();
          if (t0 >= windowEnd) {
            break;
          }
          boolean ok;
          try {
            stub.withDeadlineAfter(30, TimeUnit.SECONDS).search(requests.get(next));
            ok = true;
          } catch (StatusRuntimeException e) {
            ok = false;
          }
          long t1 = System.nanoTime();
          next = (next + 1) % requests.size();
          if (t0 >= windowStart && t1 <= windowEnd) {
            if (!ok) {
              errors[me]++;
              continue;
            }
            if (n == lat.length) {
              lat = Arrays.copyOf(lat, n * 2);
            }
            lat[n++] = t1 - t0;
          }
        }
        counts[me] = n;
        box[0] = lat;
        synchronized (perThread) {
          perThread.set(me, Arrays.copyOf(lat, n));
        }
      }, "search-client-" + t);
      threads.add(thread);
      thread.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    long total = Arrays.stream(counts).sum();
    long[] all = new long[(int) total];
    int at = 0;
    for (long[] l : perThread) {
      System.arraycopy(l, 0, all, at, l.length);
      at += l.length;
    }
    Arrays.sort(all);
    double seconds = durationMillis / 1e3;
    double mean = total == 0 ? Double.NaN : Arrays.stream(all).average().orElse(0) / 1e3;
    return new Load(clients, seconds, total, Arrays.stream(errors).sum(), total / seconds,
        LoadGenerator.percentile(all, 0.50), LoadGenerator.percentile(all, 0.95), LoadGenerator.percentile(all, 0.99),
        mean);
  }
}
