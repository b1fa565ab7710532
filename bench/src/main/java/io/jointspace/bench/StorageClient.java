package io.jointspace.bench;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.SearchResponse;
import io.jointspace.api.v1.Vector;
import io.jointspace.client.Ingest.Options;
import io.jointspace.client.Ingest.Result;
import io.jointspace.client.JointspaceClient;
import io.jointspace.client.JointspaceException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * The measured calls of the storage and rollout benchmarks, through the Java client: bulk
 * ingest (its Ingest, over UpsertStream) and closed-loop Search.
 */
final class StorageClient {
  private final JointspaceClient client;

  /** {@code client}: one made by {@link LoadGenerator#client} (retries off: every refusal counts). */
  StorageClient(JointspaceClient client) {
    this.client = client;
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

  /** Items {@code from..to} of {@code data}, each made when the ingest takes it. */
  static Iterator<Item> items(VectorData data, int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> item(data, i)).iterator();
  }

  /** What one ingest measured. */
  record Ingest(long rows, int messages, double seconds) {
    double rowsPerSecond() {
      return rows / seconds;
    }
  }

  /**
   * Writes {@code items} into {@code collection}, a fresh one, with the client's Ingest: one
   * UpsertStream, messages of {@code perMessage} items (each one transaction on the server), at
   * most {@code inFlight} sent ahead of their answers, every id written (nothing looked up
   * first). Timed from the start of the stream to the answer of the last message, when every
   * row is committed. A message the server refuses fails the run.
   */
  Ingest ingest(String collection, Iterator<Item> items, int perMessage, int inFlight) {
    AtomicInteger answered = new AtomicInteger();
    Options options = Options.DEFAULT.withStreams(1).withBatchItems(perMessage).withInFlight(inFlight)
        .withSkipStored(false).withProgress(p -> answered.incrementAndGet());
    Result r = client.ingest(collection, items, options);
    if (r.failed() > 0) {
      throw new IllegalStateException("UpsertStream into " + collection + ": " + r.failed() + " items refused after "
          + r.committed() + " committed: " + r.failures());
    }
    return new Ingest(r.committed(), answered.get(), r.elapsed().toNanos() / 1e9);
  }

/** Ids of the hits of one search, best first. */
  int[] search(SearchRequest request) {
    SearchResponse r = client.search(request);
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
   * from its own offset; a blocking call, one thread per client) when
   * the last one answers; {@code warmupMillis}, then
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
            client.search(requests.get(next));
            ok = true;
          } catch (JointspaceException e) {
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
