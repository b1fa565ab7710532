package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.GetCollectionRequest;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.api.v1.UpsertStreamResponse;
import io.jointspace.api.v1.Vector;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code serve} killed (SIGKILL) while it builds a collection's HNSW index after a bulk load:
 * the build stops with it and leaves an invalid index; the next {@code serve} notices
 * ({@code pg_index.indisvalid}) and builds it again.
 */
class BulkLoadCrashTest {
  private final Path home = TestDatabase.projectRoot();
  private Path dataDir;
  private ServeProcess server;

  @AfterEach
  void cleanUp() throws Exception {
    if (server != null) {
      server.close();
    }
    if (dataDir != null) {
      new ProcessBuilder("bash", home.resolve("deploy/local/pg-cluster.sh").toString(), "stop", dataDir.toString())
          .inheritIO().start().waitFor(60, TimeUnit.SECONDS);
    }
  }

  private DatabaseUrl database() throws Exception {
    Process p = new ProcessBuilder("bash", home.resolve("deploy/local/pg-cluster.sh").toString(), "url",
        dataDir.toString()).start();
    String url = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor()).isZero();
    String password = Files.readString(dataDir.resolve("password")).trim();
    return DatabaseUrl.parse(url.replace("postgres@", "postgres:" + password + "@"));
  }

  private static String scalar(Connection c, String sql) throws Exception {
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      return r.next() ? r.getString(1) : null;
    }
  }

  private static final String STATE = "SELECT hnsw FROM jointspace.collection_tables WHERE collection = 'loaded'";
  private static final String VALID = "SELECT i.indisvalid FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid"
      + " WHERE x.relname = (SELECT table_name FROM jointspace.collection_tables WHERE collection = 'loaded') || '_hnsw'";

  private static void await(Connection c, String sql, String wanted, int seconds) throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!wanted.equals(scalar(c, sql))) {
      assertThat(System.nanoTime()).as("%s -> %s", sql, wanted).isLessThan(until);
      Thread.sleep(100);
    }
  }

  @Test
  void serveKilledDuringTheIndexBuild_leavesAnInvalidIndex_andTheNextServeRebuildsIt() throws Exception {
    dataDir = TestDatabase.emptyClusterDir("pg-bulk-crash");
    int port = ServerFixture.freePort();
    Path log = home.resolve("server/target/bulk-crash-serve.log");
    Path restartLog = home.resolve("server/target/bulk-crash-restart.log");
    Files.deleteIfExists(log);
    Files.deleteIfExists(restartLog);
    server = ServeProcess.start(home, dataDir, port, log);
    ManagedChannel channel = server.awaitReady();
    CollectionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
        .createCollection(CreateCollectionRequest.newBuilder().setName("loaded")
            .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());

    Recorder<UpsertStreamResponse> acks = new Recorder<>();
    StreamObserver<UpsertStreamRequest> stream = CollectionServiceGrpc.newStub(channel).upsertStream(acks);
    Random rnd = new Random(8);
    for (int m = 0; m < 5; m++) {
      UpsertStreamRequest.Builder msg = UpsertStreamRequest.newBuilder().setCollection("loaded");
      for (int i = 0; i < 200; i++) {
        Vector.Builder v = Vector.newBuilder();
        for (int j = 0; j < 64; j++) {
          v.addValues((float) rnd.nextGaussian());
        }
        msg.addItems(Item.newBuilder().setId("m" + m + "-" + i).setVector(v));
      }
      stream.onNext(msg.build());
    }
    acks.awaitValue(4, 60);
    try (Connection c = TestDatabase.connect(database()); Connection blocker = TestDatabase.connect(database())) {
      assertThat(scalar(c, STATE)).isEqualTo("absent");
      // an open writer holds the build after it has made the (still invalid) index
      blocker.setAutoCommit(false);
      try (Statement s = blocker.createStatement()) {
        s.execute("LOCK TABLE jointspace." + scalar(c, "SELECT table_name FROM jointspace.collection_tables"
            + " WHERE collection = 'loaded'") + " IN ROW EXCLUSIVE MODE");
      }
      stream.onCompleted();
      assertThat(acks.ended().get(60, TimeUnit.SECONDS)).isNull();
      await(c, STATE, "building", 60);
      await(c, VALID, "f", 60);

      server.process.destroyForcibly(); // SIGKILL, in the middle of the build
      assertThat(server.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      channel.shutdownNow();
      server = null;
      // its build's backend notices the lost client and stops
      await(c, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%'"
          + " AND state = 'active' AND pid <> pg_backend_pid()", "0", 30);
      blocker.rollback();
      Thread.sleep(500);
      assertThat(scalar(c, VALID)).as("the index the killed build left").isEqualTo("f");
      assertThat(scalar(c, STATE)).isEqualTo("building");

      server = ServeProcess.start(home, dataDir, port, restartLog);
      channel = server.awaitReady();
      await(c, STATE, "ready", 120);
      assertThat(scalar(c, VALID)).isEqualTo("t");
      assertThat(CollectionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
          .getCollection(GetCollectionRequest.newBuilder().setName("loaded").build()).getItemCount()).isEqualTo(1000);
      assertThat(server.log()).contains("HNSW index of collection 'loaded'");
      channel.shutdownNow();
    }
  }
}
