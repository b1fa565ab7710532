package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.GetCollectionRequest;
import io.jointspace.api.v1.GetRequest;
import io.jointspace.api.v1.GetResponse;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ListCollectionsRequest;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.SearchResponse;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.api.v1.UpsertResponse;
import io.jointspace.api.v1.Vector;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.LogCapture;
import io.jointspace.server.Scrape;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.PrivateCluster;
import io.jointspace.server.store.TestDatabase;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads on a real PostgreSQL streaming replica: a private primary and a hot standby made from it
 * with {@code pg-cluster.sh standby} (pg_basebackup -R), and a server with --database-read-url.
 * Where each read went is read from the server's metrics ({@code jointspace_store_reads_total}).
 */
class ReadReplicaTest {
  static final String METRIC = "jointspace_store_reads_total";
  static final long WAIT_MS = 400;
  static Path primaryDir;
  static Path standbyDir;
  static PrivateCluster primary;
  static DatabaseUrl primaryUrl;
  static DatabaseUrl standbyUrl;
  static ServerFixture fixture;
  static CollectionServiceGrpc.CollectionServiceBlockingStub stub;
  static int dimension;

  @BeforeAll
  static void start() throws Exception {
    primaryDir = TestDatabase.emptyClusterDir("pg-rr-primary");
    standbyDir = TestDatabase.emptyClusterDir("pg-rr-standby");
    primary = PrivateCluster.start(TestDatabase.projectRoot(), primaryDir);
    primaryUrl = primary.databaseUrl();
    String url = script("standby", standbyDir, primaryDir).lines().filter(l -> l.startsWith("postgresql://"))
        .reduce((a, b) -> b).orElseThrow();
    DatabaseUrl parsed = DatabaseUrl.parse(url);
    standbyUrl = new DatabaseUrl(parsed.jdbcUrl(), parsed.user(), primaryUrl.password());
    try (Connection c = TestDatabase.connect(standbyUrl); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT pg_is_in_recovery()")) {
      r.next();
      assertThat(r.getBoolean(1)).as("the standby is in recovery").isTrue();
    }
    ServerConfig.Builder config = ServerConfig.newBuilder();
    config.getModelRepositoryBuilder().setOnlyConfiguredModels(true);
    config.addModelsBuilder().setName("shapes-clip").setBasePath(DemoModelTest.DEMO.toString());
    config.getStorageBuilder().setDatabaseUrl(TestDatabase.configUrl(primaryUrl))
        .addDatabaseReadUrls(TestDatabase.configUrl(standbyUrl)).setReplicaWaitMs(WAIT_MS);
    config.setHttpPort(ServerFixture.freePort());
    fixture = ServerFixture.start(config, DemoModelTest.DEMO.getParent());
    stub = CollectionServiceGrpc.newBlockingStub(fixture.channel);
    dimension = call().createCollection(CreateCollectionRequest.newBuilder().setName("rr")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build()).getDimension();
  }

  @AfterAll
  static void stop() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
    if (standbyDir != null) {
      script("stop", standbyDir, null);
    }
    if (primary != null) {
      primary.close();
      script("stop", primaryDir, null);
    }
  }

  static CollectionServiceGrpc.CollectionServiceBlockingStub call() {
    return stub.withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  static Vector vector(int seed) {
    Random random = new Random(seed);
    Vector.Builder v = Vector.newBuilder();
    for (int i = 0; i < dimension; i++) {
      v.addValues((float) random.nextGaussian());
    }
    return v.build();
  }

  static UpsertResponse upsert(String id, int seed) {
    return call().upsert(UpsertRequest.newBuilder().setCollection("rr")
        .addItems(Item.newBuilder().setId(id).setVector(vector(seed))).build());
  }

  static SearchResponse search(int seed, String token) {
    return call().search(SearchRequest.newBuilder().setCollection("rr").setVector(vector(seed)).setTopK(1)
        .setConsistencyToken(token).build());
  }

  static GetResponse get(String id, String token) {
    return call().get(GetRequest.newBuilder().setCollection("rr").addIds(id).setIncludeVectors(true)
        .setConsistencyToken(token).build());
  }

  static double reads(String reason) throws Exception {
    return Scrape.sum(Scrape.metrics(fixture.server.httpPort()), METRIC, "reason=\"" + reason + "\"");
  }

  static void onStandby(String sql) throws Exception {
    try (Connection c = TestDatabase.connect(standbyUrl); Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  @Test
  void searchGetAndCatalogReads_areServedByTheStandby_withWhatThePrimaryHas() throws Exception {
    UpsertResponse written = upsert("one-a", 1);
    upsert("one-b", 2);
    String token = upsert("one-c", 3).getConsistencyToken();
    assertThat(written.getConsistencyToken()).matches("[0-9A-F]+/[0-9A-F]+");
    assertThat(token).isNotEqualTo(written.getConsistencyToken());
    double before = reads("replica");

    assertThat(search(2, token).getHits(0).getId()).isEqualTo("one-b");
    assertThat(get("one-a", token).getItems(0).getVector()).isEqualTo(vector(1));
    assertThat(call().getCollection(GetCollectionRequest.newBuilder().setName("rr").setConsistencyToken(token).build())
        .getItemCount()).isGreaterThanOrEqualTo(3);
    assertThat(call().listCollections(ListCollectionsRequest.getDefaultInstance()).getCollectionsList())
        .extracting(c -> c.getName()).contains("rr");

    assertThat(reads("replica") - before).as("reads the standby served").isEqualTo(4);
    String text = Scrape.metrics(fixture.server.httpPort());
    assertThat(text).contains("replica=\"" + standbyUrl.jdbcUrl().replaceFirst("^jdbc:postgresql://", ""));
    assertThat(Scrape.sum(text, "jointspace_store_replica_up")).isEqualTo(1);
  }

  @Test
  void writesToken_seesTheWrite_fromThePrimaryWhileReplayIsPaused_andFromTheStandbyOnceItReplays() throws Exception {
    onStandby("SELECT pg_wal_replay_pause()");
    try {
      String token = upsert("late", 40).getConsistencyToken();
      // the standby does not have it: without the token, the read answers what the standby has
      assertThat(get("late", "").getItemsList()).isEmpty();

      double lag = reads("lag");
      long t0 = System.nanoTime();
      SearchResponse found = search(40, token);
      long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertThat(found.getHits(0).getId()).isEqualTo("late");
      assertThat(get("late", token).getItemsList()).hasSize(1);
      assertThat(reads("lag") - lag).as("reads that waited, then went to the primary").isEqualTo(2);
      assertThat(waitedMs).as("the search waited for the standby first").isGreaterThanOrEqualTo(WAIT_MS - 50);
    } finally {
      onStandby("SELECT pg_wal_replay_resume()");
    }
    String token = upsert("fresh", 41).getConsistencyToken();
    double replica = reads("replica");
    double lag = reads("lag");
    assertThat(search(41, token).getHits(0).getId()).isEqualTo("fresh");
    assertThat(get("fresh", token).getItemsList()).hasSize(1);
    assertThat(reads("replica") - replica).isEqualTo(2);
    assertThat(reads("lag") - lag).isZero();
  }

  @Test
  void standbyStoppedUnderLoad_readsKeepAnswering_thenReturnToTheStandby() throws Exception {
    String token = upsert("steady", 50).getConsistencyToken();
    assertThat(get("steady", token).getItemsList()).hasSize(1); // the standby has it
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger answered = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> load = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      Thread thread = new Thread(() -> {
        while (running.get()) {
          try {
            assertThat(search(50, "").getHits(0).getId()).isEqualTo("steady");
            assertThat(get("steady", "").getItemsList()).hasSize(1);
            answered.addAndGet(2);
          } catch (Throwable e) {
            failure.compareAndSet(null, e);
            return;
          }
        }
      });
      thread.start();
      load.add(thread);
    }
    try {
      Thread.sleep(300);
      double failed = reads("replica_failed") + reads("no_healthy_replica");
      script("stop", standbyDir, null);
      int atStop = answered.get();
      Thread.sleep(1500);
      assertThat(answered.get()).as("reads answered while the standby is down").isGreaterThan(atStop);
      assertThat(reads("replica_failed") + reads("no_healthy_replica") - failed).isPositive();
      double replica = reads("replica");
      Thread.sleep(300);
      assertThat(reads("replica")).as("reads the stopped standby served").isEqualTo(replica);

      script("start", standbyDir, null);
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (reads("replica") == replica && System.nanoTime() < until) {
        Thread.sleep(200);
      }
      assertThat(reads("replica")).as("reads served by the standby once it is back").isGreaterThan(replica);
    } finally {
      running.set(false);
      for (Thread t : load) {
        t.join(30_000);
      }
    }
    assertThat(failure.get()).as("a read failed").isNull();
  }

  @Test
  void badReadUrls_serverStartsWarns_andServesReadsFromThePrimary(@TempDir Path models) throws Exception {
    ServerConfig.Builder config = ServerConfig.newBuilder();
    config.getModelRepositoryBuilder().setOnlyConfiguredModels(true);
    String nobody = "postgresql://postgres@127.0.0.1:" + ServerFixture.freePort() + "/jointspace";
    // the second is the primary itself: it answers, but it is no standby
    config.getStorageBuilder().setDatabaseUrl(TestDatabase.configUrl(primaryUrl))
        .addDatabaseReadUrls(nobody).addDatabaseReadUrls(TestDatabase.configUrl(primaryUrl));
    config.setHttpPort(ServerFixture.freePort());
    String token = upsert("bad-urls", 60).getConsistencyToken();
    try (LogCapture warnings = LogCapture.of("io.jointspace.server.store.Standby", Level.WARN);
        ServerFixture other = ServerFixture.start(config, models)) {
      assertThat(warnings.messages()).anySatisfy(m -> assertThat(m).contains("not used").contains("not a standby"))
          .anySatisfy(m -> assertThat(m).contains("not used").contains(nobody.replaceFirst("^postgresql://postgres@", "")));
      var otherStub = CollectionServiceGrpc.newBlockingStub(other.channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      assertThat(otherStub.search(SearchRequest.newBuilder().setCollection("rr").setVector(vector(60)).setTopK(1)
          .setConsistencyToken(token).build()).getHits(0).getId()).isEqualTo("bad-urls");
      assertThat(otherStub.get(GetRequest.newBuilder().setCollection("rr").addIds("bad-urls").build()).getItemsList())
          .hasSize(1);
      String text = Scrape.metrics(other.server.httpPort());
      assertThat(Scrape.sum(text, METRIC, "reason=\"no_healthy_replica\"")).isEqualTo(2);
      assertThat(Scrape.sum(text, METRIC, "target=\"replica\"")).isZero();
      assertThat(Scrape.sum(text, "jointspace_store_replica_up")).isZero();
    }
  }

  @Test
  void malformedToken_isInvalidArgument() {
    assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(() -> search(1, "not-a-token"),
        StatusRuntimeException.class).getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
  }

  /** Runs deploy/local/pg-cluster.sh; returns what it printed, failing the test when it fails. */
  static String script(String command, Path dir, Path primaryDir) throws Exception {
    List<String> args = new ArrayList<>(List.of("bash",
        TestDatabase.projectRoot().resolve("deploy/local/pg-cluster.sh").toString(), command, dir.toString()));
    if (primaryDir != null) {
      args.add(primaryDir.toString());
    }
    Process p = new ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("pg-cluster.sh " + command + " " + dir).isZero();
    return out;
  }
}
