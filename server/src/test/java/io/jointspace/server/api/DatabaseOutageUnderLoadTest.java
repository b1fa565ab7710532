package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.GetCollectionRequest;
import io.jointspace.api.v1.GetRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.StoredItem;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.api.v1.UpsertStreamResponse;
import io.jointspace.api.v1.Vector;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.Recorder;
import io.jointspace.server.Scrape;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.store.PrivateCluster;
import io.jointspace.server.store.TestDatabase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL restarted, and stopped for a minute, while clients ingest (Upsert and
 * UpsertStream), search and embed without pause: every collection call either succeeds or
 * answers UNAVAILABLE within its deadline (none hangs, none fails otherwise), embedding never
 * fails, the server recovers by itself once the database is back, and every item whose write
 * was acknowledged is stored.
 *
 * <p>The stop lasts {@code -Djointspace.test.outageSeconds} (default 60, as the production
 * issue asks; shorten it while working on this test).
 */
class DatabaseOutageUnderLoadTest {
  static final int OUTAGE_SECONDS = Integer.getInteger("jointspace.test.outageSeconds", 60);
  /**
   * Every unary call's deadline: shorter than the time a call may wait for a pooled connection
   * (storage.connection_timeout_ms, default 5 s), as a client's often is.
   */
  static final int DEADLINE_SECONDS = 3;
  /** How long a stream's message may wait for its answer (a stream's own deadline is far). */
  static final int STREAM_ANSWER_SECONDS = 10;
  static final List<String> DATABASE_CALLS = List.of("upsert", "stream", "search");

  static Path home;
  static Path dir;
  static PrivateCluster cluster;
  static ServerFixture fixture;
  static int metricsPort;

  @BeforeAll
  static void start() throws Exception {
    home = TestDatabase.projectRoot();
    dir = TestDatabase.emptyClusterDir("pg-outage-load");
    cluster = PrivateCluster.start(home, dir);
    metricsPort = ServerFixture.freePort();
    ServerConfig.Builder config = ServerConfig.newBuilder().setMetricsPort(metricsPort);
    config.getModelRepositoryBuilder().setOnlyConfiguredModels(true);
    config.addModelsBuilder().setName("shapes-clip").setBasePath(DemoModelTest.DEMO.toString());
    // the default connection timeout (5 s): longer than the calls' deadlines
    config.getStorageBuilder().setDatabaseUrl(TestDatabase.configUrl(cluster.databaseUrl()));
    fixture = ServerFixture.start(config, DemoModelTest.DEMO.getParent());
  }

  @AfterAll
  static void stop() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  /** One call the load made: what, when (System.nanoTime) and how it ended. */
  record Call(String kind, long start, long end, Status.Code code, String description) {
    long millis() {
      return TimeUnit.NANOSECONDS.toMillis(end - start);
    }
  }

  /**
   * Clients calling without pause until stopped: two Upsert writers, one UpsertStream writer
   * (a new stream after each failure), one searcher (by vector and by text), one embedder.
   * Ids are unique; an id counts as acknowledged once its Upsert returned or its stream message
   * was answered.
   */
  static final class Load implements AutoCloseable {
    final String collection;
    final Queue<Call> calls = new ConcurrentLinkedQueue<>();
    final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    final Set<String> attempted = ConcurrentHashMap.newKeySet();
    final AtomicBoolean running = new AtomicBoolean(true);
    final ExecutorService threads = Executors.newFixedThreadPool(5);
    final List<Future<?>> loops = new ArrayList<>();

    Load(String collection) {
      this.collection = collection;
      CollectionServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(60, TimeUnit.SECONDS)
          .createCollection(CreateCollectionRequest.newBuilder().setName(collection)
              .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());
      for (int w = 0; w < 2; w++) {
        int writer = w;
        loops.add(threads.submit(() -> upserts(writer)));
      }
      loops.add(threads.submit(this::streams));
      loops.add(threads.submit(this::searches));
      loops.add(threads.submit(this::embeds));
    }

    private CollectionServiceGrpc.CollectionServiceBlockingStub collections() {
      return CollectionServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    /** Runs {@code call}, recording how it ended; true when it succeeded. */
    private boolean timed(String kind, Runnable call) {
      long t0 = System.nanoTime();
      try {
        call.run();
        calls.add(new Call(kind, t0, System.nanoTime(), Status.Code.OK, ""));
        return true;
      } catch (StatusRuntimeException e) {
        calls.add(new Call(kind, t0, System.nanoTime(), e.getStatus().getCode(), String.valueOf(e.getStatus().getDescription())));
        pause(100);
        return false;
      }
    }

    private static void pause(long millis) {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private Item item(String id) {
      Vector.Builder v = Vector.newBuilder();
      int h = id.hashCode();
      for (int d = 0; d < 64; d++) {
        v.addValues((float) Math.sin(h * 0.001 + d));
      }
      return Item.newBuilder().setId(id).setVector(v).build();
    }

    private void upserts(int writer) {
      for (int n = 0; running.get(); n++) {
        UpsertRequest.Builder request = UpsertRequest.newBuilder().setCollection(collection);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          String id = "u" + writer + "-" + n + "-" + i;
          ids.add(id);
          request.addItems(item(id));
        }
        attempted.addAll(ids);
        if (timed("upsert", () -> collections().upsert(request.build()))) {
          acknowledged.addAll(ids);
        }
        pause(20);
      }
    }

    /** Streams of 5-item messages, each waited for; a stream that fails is replaced. */
    private void streams() {
      int n = 0;
      while (running.get()) {
        Recorder<UpsertStreamResponse> answers = new Recorder<>();
        StreamObserver<UpsertStreamRequest> stream = CollectionServiceGrpc.newStub(fixture.channel)
            .withDeadlineAfter(600, TimeUnit.SECONDS).upsertStream(answers);
        for (int sent = 0; running.get(); sent++, n++) {
          UpsertStreamRequest.Builder message = UpsertStreamRequest.newBuilder().setCollection(collection);
          List<String> ids = new ArrayList<>();
          for (int i = 0; i < 5; i++) {
            String id = "s" + n + "-" + i;
            ids.add(id);
            message.addItems(item(id));
          }
          attempted.addAll(ids);
          long t0 = System.nanoTime();
          stream.onNext(message.build());
          // the message's answer, or the stream's end, within the deadline
          long until = t0 + TimeUnit.SECONDS.toNanos(STREAM_ANSWER_SECONDS);
          while (answers.values().size() <= sent && !answers.ended().isDone() && System.nanoTime() < until) {
            pause(2);
          }
          if (answers.values().size() > sent) {
            assertThat(answers.values().get(sent).getMessageIndex()).isEqualTo(sent);
            acknowledged.addAll(ids);
            calls.add(new Call("stream", t0, System.nanoTime(), Status.Code.OK, ""));
            pause(20);
            continue;
          }
          Status status = answers.ended().isDone() ? Status.fromThrowable(answers.ended().join())
              : Status.DEADLINE_EXCEEDED.withDescription("no answer to the message within the deadline");
          calls.add(new Call("stream", t0, System.nanoTime(), status.getCode(), String.valueOf(status.getDescription())));
          if (!answers.ended().isDone()) {
            stream.onError(Status.CANCELLED.asRuntimeException());
          }
          pause(100);
          break;
        }
        if (!running.get()) {
          stream.onCompleted();
        }
      }
    }

    private void searches() {
      for (int n = 0; running.get(); n++) {
        SearchRequest.Builder search = SearchRequest.newBuilder().setCollection(collection).setTopK(5);
        if (n % 2 == 0) {
          search.setVector(item("q" + n).getVector());
        } else {
          search.setInput(Input.newBuilder().setText("a red circle"));
        }
        timed("search", () -> collections().search(search.build()));
        pause(20);
      }
    }

    private void embeds() {
      while (running.get()) {
        timed("embed", () -> EmbeddingServiceGrpc.newBlockingStub(fixture.channel)
            .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
            .embed(EmbedRequest.newBuilder().setModel(ModelSpec.newBuilder().setName("shapes-clip"))
                .addInputs(Input.newBuilder().setText("a blue square")).build()));
        pause(50);
      }
    }

    /** Waits until every kind of call has succeeded at least once after {@code since}; how long that took. */
    long awaitSuccessAfter(long since, long seconds) throws InterruptedException {
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < until) {
        Set<String> ok = new HashSet<>();
        for (Call c : calls) {
          if (c.code() == Status.Code.OK && c.start() >= since) {
            ok.add(c.kind());
          }
        }
        if (ok.containsAll(DATABASE_CALLS) && ok.contains("embed")) {
          return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
        }
        Thread.sleep(50);
      }
      throw new AssertionError("not every kind of call succeeded within " + seconds + " s after the database"
          + " was back: " + summary());
    }

    /** Calls by kind and code. */
    Map<String, Map<Status.Code, Integer>> summary() {
      Map<String, Map<Status.Code, Integer>> out = new TreeMap<>();
      for (Call c : calls) {
        out.computeIfAbsent(c.kind(), k -> new TreeMap<>()).merge(c.code(), 1, Integer::sum);
      }
      return out;
    }

    @Override
    public void close() throws Exception {
      running.set(false);
      for (Future<?> loop : loops) {
        loop.get(60, TimeUnit.SECONDS);
      }
      threads.shutdown();
    }

    /**
     * The end state: no call failed other than UNAVAILABLE naming the database, none took
     * longer than its deadline, embedding never failed, every acknowledged item is stored.
     */
    void check() throws Exception {
      for (Call c : calls) {
        if (c.code() != Status.Code.OK) {
          assertThat(c.kind()).as("a call that does not need the database failed: %s", c).isNotEqualTo("embed");
          assertThat(c.code()).as("%s", c).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(c.description()).as("%s", c).contains("database");
        }
        assertThat(c.millis()).as("%s", c).isLessThanOrEqualTo(TimeUnit.SECONDS.toMillis(
            c.kind().equals("stream") ? STREAM_ANSWER_SECONDS : DEADLINE_SECONDS));
      }
      var stub = CollectionServiceGrpc.newBlockingStub(fixture.channel);
      List<String> ids = new ArrayList<>(acknowledged);
      Set<String> stored = new HashSet<>();
      for (int from = 0; from < ids.size(); from += 1000) {
        for (StoredItem item : stub.withDeadlineAfter(60, TimeUnit.SECONDS).get(GetRequest.newBuilder()
            .setCollection(collection).addAllIds(ids.subList(from, Math.min(ids.size(), from + 1000))).build())
            .getItemsList()) {
          stored.add(item.getId());
        }
      }
      assertThat(stored).as("acknowledged items that are stored").hasSameSizeAs(acknowledged)
          .containsExactlyInAnyOrderElementsOf(acknowledged);
      long count = stub.withDeadlineAfter(60, TimeUnit.SECONDS)
          .getCollection(GetCollectionRequest.newBuilder().setName(collection).build()).getItemCount();
      // an item whose answer was lost with the database may be stored too, never one not sent
      assertThat(count).isBetween((long) acknowledged.size(), (long) attempted.size());
      // nothing held: no call in flight, no pooled connection lent out
      assertThat(Scrape.await(metricsPort, t -> Scrape.sum(t, "jointspace_grpc_calls_in_flight"), n -> n == 0, 30))
          .as("calls in flight").isZero();
      assertThat(Scrape.await(metricsPort, Scrape::activeConnections, n -> n == 0, 30))
          .as("hikaricp_connections_active").isZero();
    }
  }

  @Test
  void databaseRestarted_underIngestAndSearch_losesNoAcknowledgedWrite_andRecoversByItself() throws Exception {
    try (Load load = new Load("restarted")) {
      load.awaitSuccessAfter(System.nanoTime(), 60);
      Thread.sleep(1000);
      cluster.close(); // fast shutdown: sessions are ended, transactions in progress roll back
      cluster = PrivateCluster.start(home, dir);
      long back = System.nanoTime();
      long recovered = load.awaitSuccessAfter(back, 60);
      Thread.sleep(1000);
      load.close();
      System.out.printf("restart: every kind of call succeeded again %d ms after the database was back; %s; %d"
          + " items acknowledged%n", recovered, load.summary(), load.acknowledged.size());
      load.check();
    }
  }

  @Test
  void databaseStoppedForAMinute_underIngestAndSearch_answersUnavailable_andRecoversByItself() throws Exception {
    try (Load load = new Load("stopped")) {
      load.awaitSuccessAfter(System.nanoTime(), 60);
      Thread.sleep(1000);
      cluster.close();
      long down = System.nanoTime();
      Thread.sleep(TimeUnit.SECONDS.toMillis(OUTAGE_SECONDS));
      long up = System.nanoTime();
      cluster = PrivateCluster.start(home, dir);
      long back = System.nanoTime();
      long recovered = load.awaitSuccessAfter(back, 60);
      Thread.sleep(1000);
      load.close();
      System.out.printf("%d s stop: every kind of call succeeded again %d ms after the database was back; %s; %d"
          + " items acknowledged%n", OUTAGE_SECONDS, recovered, load.summary(), load.acknowledged.size());

      // while it was down, every collection call answered UNAVAILABLE, and kept being made
      Map<String, Integer> refused = new TreeMap<>();
      for (Call c : load.calls) {
        if (c.start() >= down && c.end() <= up && DATABASE_CALLS.contains(c.kind())) {
          assertThat(c.code()).as("a call made while the database was down: %s", c).isEqualTo(Status.Code.UNAVAILABLE);
          refused.merge(c.kind(), 1, Integer::sum);
        }
      }
      assertThat(refused.keySet()).containsExactlyInAnyOrderElementsOf(DATABASE_CALLS);
      // and embedding went on all along
      assertThat(load.calls.stream().filter(c -> c.kind().equals("embed") && c.start() >= down && c.end() <= up))
          .isNotEmpty().allMatch(c -> c.code() == Status.Code.OK);
      load.check();
    }
  }
}
