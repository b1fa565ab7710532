package io.jointspace.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.jointspace.server.LogCapture;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bulk loads and HNSW index builds on a real PostgreSQL, with two {@link Storage}s on one
 * database standing for two server processes: the index is built once, after the last load
 * on the table ends in either; writes during a build are all indexed; a build whose session
 * dies leaves an invalid index, which the other process's sweep finds and rebuilds.
 */
class IndexBuildsTest {
  static DatabaseUrl url;
  static Storage a;
  static Storage b;
  static final int DIM = 16;

  @BeforeAll
  static void open() {
    url = TestDatabase.fresh();
    a = new Storage(new Database(url, 6, Duration.ofSeconds(5)));
    b = new Storage(new Database(url, 6, Duration.ofSeconds(5)));
  }

  @AfterAll
  static void close() {
    a.close();
    b.close();
  }

  static Collection create(String name) {
    return a.catalog().create(new CollectionSpec(name, "example", 1, DIM, Metric.COSINE, VectorType.VECTOR, 16, 64,
        true, ""));
  }

  static List<ItemWrite> rows(String prefix, int n, long seed) {
    Random rnd = new Random(seed);
    List<ItemWrite> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] v = new float[DIM];
      for (int j = 0; j < DIM; j++) {
        v[j] = (float) rnd.nextGaussian();
      }
      out.add(new ItemWrite(prefix + i, v, "{\"i\": " + i + "}", null, null));
    }
    return out;
  }

  static void copy(Storage s, Collection c, List<ItemWrite> rows) {
    for (int from = 0; from < rows.size(); from += 1000) {
      s.items().copyUpsert(c, rows.subList(from, Math.min(rows.size(), from + 1000)), List.of(), "items");
    }
  }

  static String scalar(String sql) throws SQLException {
    try (Connection c = TestDatabase.connect(url); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      return r.next() ? r.getString(1) : null;
    }
  }

  static String state(String table) throws SQLException {
    return scalar("SELECT hnsw FROM jointspace.collection_tables WHERE table_name = '" + table + "'");
  }

  /** "t"/"f" for a valid/invalid index, null for none. */
  static String valid(String table) throws SQLException {
    return scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('jointspace." + table + "_hnsw')");
  }

  static void awaitReady(String table) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (!("ready".equals(state(table)) && "t".equals(valid(table)))) {
      assertThat(System.nanoTime()).as("index of %s ready in time (state %s)", table, state(table)).isLessThan(until);
      Thread.sleep(100);
    }
  }

  @Test
  void twoProcesses_loadingOneTable_buildItsIndexOnce_whenTheLastLoadEnds() throws Exception {
    Collection c = create("pair");
    try (LogCapture built = LogCapture.of(IndexBuilds.class, Level.INFO)) {
      IndexBuilds.Load la = a.indexBuilds().begin(c);
      IndexBuilds.Load lb = b.indexBuilds().begin(c);
      assertThat(la).isNotNull();
      assertThat(lb).as("the second process joins the open load").isNotNull();
      assertThat(state(c.table())).isEqualTo("absent");
      assertThat(valid(c.table())).as("no index while loading").isNull();
      copy(a, c, rows("a", 1500, 1));
      copy(b, c, rows("b", 1500, 2));
      la.close();
      Thread.sleep(1500);
      assertThat(state(c.table())).as("b's load is still open").isEqualTo("absent");
      assertThat(valid(c.table())).isNull();
      lb.close();
      awaitReady(c.table());
      Thread.sleep(500);
      assertThat(built.messages().stream().filter(m -> m.contains("built in")).count()).isEqualTo(1);
    }
    assertThat(a.catalog().count(c)).isEqualTo(3000);
  }

  @Test
  void writesDuringTheBuild_areAllStoredAndIndexed() throws Exception {
    Collection c = create("during");
    IndexBuilds.Load load = a.indexBuilds().begin(c);
    assertThat(load).isNotNull();
    copy(a, c, rows("x", 2000, 3));
    List<ItemWrite> later = rows("late", 300, 4);
    try (Connection blocker = TestDatabase.connect(url)) {
      // an open writer keeps CREATE INDEX CONCURRENTLY waiting after it made the (invalid) index
      blocker.setAutoCommit(false);
      try (Statement s = blocker.createStatement()) {
        s.execute("LOCK TABLE jointspace." + c.table() + " IN ROW EXCLUSIVE MODE");
      }
      load.close();
      awaitState(c.table(), "building");
      for (int from = 0; from < later.size(); from += 100) {
        a.items().upsert(c, later.subList(from, from + 100), List.of(), "items"); // row by row, while it builds
      }
      blocker.rollback();
    }
    awaitReady(c.table());
    assertThat(a.catalog().count(c)).isEqualTo(2300);
    // every late item is in the index: an index-only scan finds each as its own nearest
    try (Connection conn = TestDatabase.connect(url); Statement s = conn.createStatement()) {
      s.execute("SET enable_seqscan = off");
      s.execute("SET hnsw.ef_search = 100");
      com.pgvector.PGvector.registerTypes(conn);
      try (PreparedStatement p = conn.prepareStatement("SELECT id FROM jointspace." + c.table()
          + " ORDER BY embedding <=> ? LIMIT 1")) {
        for (ItemWrite w : later) {
          p.setObject(1, new com.pgvector.PGvector(w.vector()));
          try (ResultSet r = p.executeQuery()) {
            assertThat(r.next()).isTrue();
            assertThat(r.getString(1)).isEqualTo(w.id());
          }
        }
      }
    }
  }

  static void awaitState(String table, String wanted) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!wanted.equals(state(table))) {
      assertThat(System.nanoTime()).as("%s reaches %s", table, wanted).isLessThan(until);
      Thread.sleep(50);
    }
  }

  @Test
  void aBuildWhoseSessionDies_leavesAnInvalidIndex_thatTheNextSweepRebuilds() throws Exception {
    Collection c = create("cut");
    IndexBuilds.Load load = a.indexBuilds().begin(c);
    copy(a, c, rows("y", 1000, 5));
    try (Connection blocker = TestDatabase.connect(url)) {
      blocker.setAutoCommit(false);
      try (Statement s = blocker.createStatement()) {
        s.execute("LOCK TABLE jointspace." + c.table() + " IN ROW EXCLUSIVE MODE");
      }
      load.close();
      awaitState(c.table(), "building");
      long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!"f".equals(valid(c.table()))) {
        assertThat(System.nanoTime()).isLessThan(until);
        Thread.sleep(50);
      }
      // the builder's backend dies, as it does when its server is killed
      assertThat(scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
          + " WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND pid <> pg_backend_pid()")).isEqualTo("1");
      blocker.rollback();
    }
    Thread.sleep(500);
    assertThat(valid(c.table())).as("left invalid").isEqualTo("f");
    assertThat(state(c.table())).isEqualTo("building");
    b.indexBuilds().sweep();
    assertThat(state(c.table())).isEqualTo("ready");
    assertThat(valid(c.table())).isEqualTo("t");
  }
}
