package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.GetRequest;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Database statements of a call end with the call: a statement blocked on a lock (held here
 * by a second connection) is cancelled by PostgreSQL at the call's deadline, or at the
 * server's cap for a call without one, and the call answers DEADLINE_EXCEEDED.
 */
class StatementTimeoutTest {
  static final long CAP_MS = 5000;
  static DatabaseUrl db;
  static ServerFixture fixture;
  static CollectionServiceGrpc.CollectionServiceBlockingStub stub;

  @BeforeAll
  static void start() throws Exception {
    db = TestDatabase.fresh();
    ServerConfig.Builder config = ServerConfig.newBuilder();
    config.getModelRepositoryBuilder().setOnlyConfiguredModels(true);
    config.addModelsBuilder().setName("shapes-clip").setBasePath(DemoModelTest.DEMO.toString());
    config.getStorageBuilder().setDatabaseUrl(TestDatabase.configUrl(db)).setMaxStatementTimeoutMs(CAP_MS);
    fixture = ServerFixture.start(config, DemoModelTest.DEMO.getParent());
    stub = CollectionServiceGrpc.newBlockingStub(fixture.channel);
    stub.withDeadlineAfter(60, TimeUnit.SECONDS).createCollection(CreateCollectionRequest.newBuilder()
        .setName("locked").setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());
  }

  @AfterAll
  static void stop() throws Exception {
    fixture.close();
  }

  /** A connection holding an exclusive lock on the collection's table until it is closed. */
  static Connection lockCollection() throws Exception {
    Connection c = TestDatabase.connect(db);
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      s.execute("LOCK TABLE public.locked IN ACCESS EXCLUSIVE MODE"); // a view: locks its table
    }
    return c;
  }

  /** Server statements of this database waiting for a lock. */
  static int serverStatementsWaiting() throws Exception {
    try (Connection c = TestDatabase.connect(db); PreparedStatement p = c.prepareStatement(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            + " AND application_name = 'jointspace' AND wait_event_type = 'Lock'")) {
      try (ResultSet r = p.executeQuery()) {
        r.next();
        return r.getInt(1);
      }
    }
  }

  /** A vector of the demo model's dimension: the write needs no embedding, only the database. */
  static io.jointspace.api.v1.Vector vector() {
    io.jointspace.api.v1.Vector.Builder v = io.jointspace.api.v1.Vector.newBuilder();
    for (int i = 0; i < 64; i++) {
      v.addValues(i == 0 ? 1 : 0);
    }
    return v.build();
  }

  static GetRequest get(String id) {
    return GetRequest.newBuilder().setCollection("locked").addIds(id).build();
  }

  @Test
  void callWithoutDeadline_isCutAtTheServersCap_asDeadlineExceeded() throws Exception {
    try (Connection lock = lockCollection()) {
      long t0 = System.nanoTime();
      // the lock is released after 15 s at the latest, so a server without a timeout answers OK then
      Thread release = new Thread(() -> {
        try {
          Thread.sleep(15_000);
          lock.rollback();
        } catch (Exception e) {
          // closed meanwhile
        }
      });
      release.setDaemon(true);
      release.start();
      assertThatThrownBy(() -> stub.withDeadlineAfter(60, TimeUnit.SECONDS).get(get("a")))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
            assertThat(e.getStatus().getDescription()).contains("statement timeout " + CAP_MS + " ms");
          });
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(CAP_MS - 100, 10_000L);
      release.interrupt();
    }
    assertThat(stub.withDeadlineAfter(30, TimeUnit.SECONDS).get(get("a")).getItemsCount()).isZero();
  }

  @Test
  void searchWhoseDeadlinePasses_isCancelledInTheDatabase_asDeadlineExceeded() throws Exception {
    io.jointspace.api.v1.SearchRequest search = io.jointspace.api.v1.SearchRequest.newBuilder()
        .setCollection("locked").setVector(vector()).setTopK(3).build();
    stub.withDeadlineAfter(30, TimeUnit.SECONDS).search(search); // the catalog entry is read before the lock
    try (Connection lock = lockCollection()) {
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> stub.withDeadlineAfter(1000, TimeUnit.MILLISECONDS).search(search))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
      long waitedUntil = t0 + TimeUnit.MILLISECONDS.toNanos(CAP_MS - 1500);
      while (serverStatementsWaiting() > 0 && System.nanoTime() < waitedUntil) {
        Thread.sleep(50);
      }
      assertThat(serverStatementsWaiting()).as("server statements still waiting for the lock").isZero();
      lock.rollback();
    }
    assertThat(stub.withDeadlineAfter(30, TimeUnit.SECONDS).search(search).getHitsCount()).isZero();
  }

  @Test
  void writeWhoseDeadlinePasses_isCancelledInTheDatabase_andNeverCommits() throws Exception {
    UpsertRequest write = UpsertRequest.newBuilder().setCollection("locked")
        .addItems(Item.newBuilder().setId("late").setVector(vector())).build();
    try (Connection lock = lockCollection()) {
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> stub.withDeadlineAfter(1000, TimeUnit.MILLISECONDS).upsert(write))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
      // the server's statement stops waiting at the call's deadline, well before the cap
      long waitedUntil = t0 + TimeUnit.MILLISECONDS.toNanos(CAP_MS - 1500);
      while (serverStatementsWaiting() > 0 && System.nanoTime() < waitedUntil) {
        Thread.sleep(50);
      }
      assertThat(serverStatementsWaiting()).as("server statements still waiting for the lock").isZero();
      lock.rollback();
    }
    Thread.sleep(500);
    assertThat(stub.withDeadlineAfter(30, TimeUnit.SECONDS).get(get("late")).getItemsCount())
        .as("the write the client saw fail was not committed later").isZero();
  }
}
