package io.jointspace.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HNSW index of item tables: bulk loads without it, and building it once the rows are in.
 *
 * <p>Each table's index state is in {@code collection_tables.hnsw}: {@code ready},
 * {@code absent} (dropped for a bulk load, or a rollout's target before its backfill ends) or
 * {@code building}. A bulk load is an UpsertStream into the active table of a collection
 * holding fewer than {@link IndexBuildOptions#bulkLoadMaxRows()} items, without an open
 * rollout: {@link #begin} drops the index (the table is small, so this is cheap), the
 * stream's messages are copied in without it, and when the last bulk load on that table ends,
 * in any server process, the index is made with {@code CREATE INDEX CONCURRENTLY} in the
 * background (writes go on meanwhile) and marked ready.
 *
 * <p>Which loads are open is kept by PostgreSQL, so that every server process sharing the
 * database agrees and a process that dies leaves nothing behind: each open load holds the
 * table's advisory lock in shared mode (one session per process holds it for all of that
 * process's loads on the table), and a build takes it exclusively, so it starts only when no
 * load is open anywhere, and no load starts while it runs (a stream arriving then writes with
 * the index being built). A build cut short by a crash leaves an invalid index
 * ({@code pg_index.indisvalid} false) and the state {@code building}; a load whose process
 * died leaves {@code absent}. Every server looks for both at start and then every
 * {@link #SWEEP_EVERY}, and rebuilds.
 *
 * <p>While a table's index is not ready, the planner finds no valid HNSW index, so searches
 * read and rank every row: exact answers, slower, under the call's deadline.
 *
 * <p>Thread safety: {@link #begin} and {@link Load#close} are called from gRPC threads; builds
 * run one at a time on this object's own thread.
 */
public final class IndexBuilds implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IndexBuilds.class);
  /** How often a server looks for tables whose index should be (re)built. */
  static final Duration SWEEP_EVERY = Duration.ofSeconds(30);
  private static final String LOCK_CLASS = "hashtext('jointspace.hnsw')";

  private final Database db;
  private final IndexBuildOptions options;
  private final KeyIndexes keys;
  private final ScheduledExecutorService builder = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "hnsw-index-build");
    t.setDaemon(true);
    return t;
  });

  /** Open loads of this process, by table; their shared locks are held by {@link #session}. */
  @GuardedBy("this")
  private final Map<String, Integer> open = new HashMap<>();
  @GuardedBy("this")
  @Nullable private Connection session;
  private volatile boolean started;

  public IndexBuilds(Database db, IndexBuildOptions options) {
    this(db, options, new KeyIndexes());
  }

  /** @param keys the partial indexes of indexed keys, which this object's sweep makes and reads */
  IndexBuilds(Database db, IndexBuildOptions options, KeyIndexes keys) {
    this.db = db;
    this.options = options;
    this.keys = keys;
  }

  public IndexBuildOptions options() {
    return options;
  }

  /** Looks for indexes to (re)build now and every {@link #SWEEP_EVERY}. */
  public void start() {
    if (!started) {
      started = true;
      builder.scheduleWithFixedDelay(this::sweep, 0, SWEEP_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** A bulk load open on one table; {@link #close} it when its stream ends, however it ends. */
  public final class Load implements AutoCloseable {
    private final Collection collection;
    private boolean closed;

    private Load(Collection collection) {
      this.collection = collection;
    }

    public String table() {
      return collection.table();
    }

    /** Ends this load; the last one open on its table, in this process, lets go of the table. */
    @Override
    public void close() {
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
      }
      if (release(collection.table())) {
        builder.execute(() -> buildIfIdle(collection));
      }
    }
  }

  /**
   * Starts a bulk load into {@code collection}'s active table when it qualifies (no open
   * rollout, fewer than {@link IndexBuildOptions#bulkLoadMaxRows()} rows, or a bulk load open
   * on it already), dropping its HNSW index; null when it does not, or when the index is
   * being built now: then the stream writes with the index.
   */
  @Nullable
  public Load begin(Collection collection) {
    if (options.bulkLoadMaxRows() <= 0 || collection.rollout() != null) {
      return null;
    }
    String table = collection.table();
    synchronized (this) {
      Integer n = open.get(table);
      if (n != null) {
        open.put(table, n + 1);
        return new Load(collection);
      }
      try {
        if (!sessionLock(table)) {
          if (open.isEmpty()) {
            closeSession(); // it holds no lock: keep no connection out of the pool for it
          }
          return null; // a build holds the table
        }
      } catch (SQLException e) {
        closeSession();
        throw db.translate(e);
      }
      boolean bulk;
      try {
        bulk = db.inTransaction(c -> dropForLoad(c, collection));
      } catch (RuntimeException e) {
        sessionUnlock(table);
        throw e;
      }
      if (!bulk) {
        sessionUnlock(table);
        return null;
      }
      open.put(table, 1);
    }
    log.info("Bulk load into collection '{}': its HNSW index is built once the load ends", collection.name());
    return new Load(collection);
  }

  /** In one transaction: whether the table takes a bulk load, and if so its index dropped and marked absent. */
  private boolean dropForLoad(Connection c, Collection collection) throws SQLException {
    ItemStore.lockEpoch(c, collection);
    String state;
    try (PreparedStatement p = c.prepareStatement(
        "SELECT hnsw FROM jointspace.collection_tables WHERE table_name = ? FOR UPDATE")) {
      p.setString(1, collection.table());
      try (ResultSet r = p.executeQuery()) {
        if (!r.next()) {
          return false;
        }
        state = r.getString(1);
      }
    }
    if (state.equals("absent")) {
      return true; // another process's load, or one whose process died: join it
    }
    long limit = options.bulkLoadMaxRows();
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT count(*) FROM (SELECT 1 FROM " + SqlNames.qualified(collection.table())
            + " LIMIT " + limit + ") x")) {
      r.next();
      if (r.getLong(1) >= limit) {
        return false;
      }
    }
    // the drop waits for searches and writes in flight on the table; when they keep it busy,
    // this stream writes with the index instead
    java.sql.Savepoint before = c.setSavepoint();
    try (Statement s = c.createStatement()) {
      s.execute("SET LOCAL lock_timeout = '2s'");
      s.execute("DROP INDEX IF EXISTS " + indexName(collection.table()));
      // the partial indexes of indexed keys too: the sweep builds them again after the load
      for (KeyIndexes.KeyIndex k : KeyIndexes.list(c, collection.table())) {
        s.execute("DROP INDEX IF EXISTS " + Database.SCHEMA + "." + SqlNames.quote(k.name()));
      }
    } catch (SQLException e) {
      if (!"55P03".equals(e.getSQLState())) {
        throw e;
      }
      c.rollback(before);
      log.info("Collection '{}' is busy: this stream writes with its HNSW index", collection.name());
      return false;
    }
    setState(c, collection.table(), "absent");
    keys.forget(collection.table());
    return true;
  }

  /** Ends one load of {@code table}; true when it was this process's last one on it. */
  private synchronized boolean release(String table) {
    Integer n = open.get(table);
    if (n == null) {
      return false;
    }
    if (n > 1) {
      open.put(table, n - 1);
      return false;
    }
    open.remove(table);
    sessionUnlock(table);
    return true;
  }

  @GuardedBy("this")
  private boolean sessionLock(String table) throws SQLException {
    if (session == null) {
      session = db.session();
    }
    try (PreparedStatement p = session.prepareStatement(
        "SELECT pg_try_advisory_lock_shared(" + LOCK_CLASS + ", hashtext(?))")) {
      p.setString(1, table);
      try (ResultSet r = p.executeQuery()) {
        r.next();
        return r.getBoolean(1);
      }
    }
  }

  @GuardedBy("this")
  private void sessionUnlock(String table) {
    if (session == null) {
      return;
    }
    try (PreparedStatement p = session.prepareStatement(
        "SELECT pg_advisory_unlock_shared(" + LOCK_CLASS + ", hashtext(?))")) {
      p.setString(1, table);
      p.execute();
    } catch (SQLException e) {
      log.warn("Could not release the bulk-load lock of {} ({}); closing its session releases it", table,
          e.getMessage());
      closeSession();
      open.clear(); // the session's locks are gone with it
      return;
    }
    if (open.isEmpty()) {
      closeSession();
    }
  }

  @GuardedBy("this")
  private void closeSession() {
    if (session != null) {
      try {
        session.close();
      } catch (SQLException ignored) {
        // a broken connection: the pool evicts it, and its locks went with its backend
      }
      session = null;
    }
  }

  /**
   * Builds {@code collection}'s table's index unless a bulk load is open on it anywhere or
   * another server builds it; on this object's thread.
   */
  private void buildIfIdle(Collection collection) {
    String table = collection.table();
    try {
      // a load open (its end builds) or a build running elsewhere holds the lock: nothing to do
      db.read(c -> holding(c, table, () -> {
        String state = state(c, table);
        if (state == null) {
          return; // the collection was deleted, or this version's table dropped
        }
        if (!"ready".equals(state) || valid(c, indexName(table)) != Boolean.TRUE) {
          long t0 = System.nanoTime();
          if (build(c, collection.spec(), table, options.memoryMb())) {
            log.info("HNSW index of collection '{}' ({}) built in {} ms", collection.name(), table,
                (System.nanoTime() - t0) / 1_000_000);
          }
        }
        // then the partial indexes of its indexed keys, as the catalog has them now
        java.util.Optional<Collection> now = CollectionCatalog.find(c, collection.name());
        if (now.isPresent()) {
          keys.maintain(c, now.get().spec(), table, options.memoryMb());
        }
      }));
    } catch (RuntimeException e) {
      // the table went away (collection deleted), a cancel, an outage: the sweep tries again
      log.warn("Building the HNSW index of {} failed: {}", table, e.getMessage());
    }
  }

  /** Work done while holding a table's build lock. */
  @FunctionalInterface
  private interface LockedWork {
    void run() throws SQLException;
  }

  /**
   * Runs {@code work} holding {@code table}'s build lock exclusively on {@code c} (a session
   * lock, released after it); nothing when a load or another build holds the lock.
   *
   * @return whether it ran
   */
  private static boolean holding(Connection c, String table, LockedWork work) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT pg_try_advisory_lock(" + LOCK_CLASS + ", hashtext(?))")) {
      p.setString(1, table);
      try (ResultSet r = p.executeQuery()) {
        r.next();
        if (!r.getBoolean(1)) {
          return false;
        }
      }
    }
    try {
      work.run();
    } finally {
      try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_unlock(" + LOCK_CLASS + ", hashtext(?))")) {
        p.setString(1, table);
        p.execute();
      }
    }
    return true;
  }

  /**
   * Tables whose index is not ready (a load or a build cut short by a crash, or a load that
   * ended in a process that could not build), except rollout targets still backfilling
   * ({@link Backfill#finish} builds those): each built unless a load is open on it.
   */
  void sweep() {
    List<Collection> due;
    try {
      due = tables("SELECT t.collection, t.table_name FROM jointspace.collection_tables t"
          + " WHERE t.hnsw <> 'ready' AND NOT EXISTS (SELECT 1 FROM jointspace.rollouts r"
          + " WHERE r.to_table = t.table_name AND NOT r.index_built"
          + " AND r.state NOT IN ('finalized', 'aborted'))");
    } catch (RuntimeException e) {
      log.debug("Index sweep skipped: {}", e.getMessage());
      return;
    }
    for (Collection c : due) {
      buildIfIdle(c);
    }
    sweepKeys();
  }

  /**
   * Every table with a ready HNSW index whose collection has indexed keys, or that has partial
   * indexes of keys: reads which of those are valid (for this process's searches) and, unless
   * another server holds the table, brings them in line with the keys ({@link KeyIndexes#maintain}).
   */
  void sweepKeys() {
    List<Collection> tables;
    try {
      tables = tables("SELECT t.collection, t.table_name FROM jointspace.collection_tables t"
          + " JOIN jointspace.collections c ON c.name = t.collection WHERE t.hnsw = 'ready'"
          + " AND (cardinality(c.indexed_keys) > 0 OR EXISTS (SELECT 1 FROM pg_index x"
          + " JOIN pg_class i ON i.oid = x.indexrelid"
          + " WHERE x.indrelid = to_regclass(format('jointspace.%I', t.table_name))"
          + " AND " + KeyIndexes.isKeyIndex("i.relname", "t.table_name") + "))"
          + " ORDER BY t.collection, t.table_name");
    } catch (RuntimeException e) {
      log.debug("Partial index sweep skipped: {}", e.getMessage());
      return;
    }
    keys.retain(tables.stream().map(Collection::table).toList());
    for (Collection collection : tables) {
      keysIfIdle(collection);
    }
  }

  /**
   * The tables {@code sql} names (collection, table name), each as its collection is now in
   * the catalog with that table in place of the active one; collections deleted meanwhile left out.
   */
  private List<Collection> tables(String sql) {
    return db.read(c -> {
      List<String[]> rows = new ArrayList<>();
      try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
        while (r.next()) {
          rows.add(new String[] {r.getString(1), r.getString(2)});
        }
      }
      List<Collection> out = new ArrayList<>();
      for (String[] row : rows) {
        CollectionCatalog.find(c, row[0]).ifPresent(col -> out.add(new Collection(col.spec(), row[1],
            col.createdAt(), col.epoch(), col.rollout(), col.following())));
      }
      return out;
    });
  }

  /** Runs {@link #sweepKeys} soon, on this object's thread (a collection's indexed keys changed). */
  public void keysChanged() {
    builder.execute(this::sweepKeys);
  }

  private void keysIfIdle(Collection collection) {
    String table = collection.table();
    try {
      db.read(c -> {
        keys.refresh(c, table);
        // a load open, or another server building, holds the lock: that server maintains them
        return holding(c, table, () -> {
          if ("ready".equals(state(c, table))) {
            keys.maintain(c, collection.spec(), table, options.memoryMb());
          }
        });
      });
    } catch (RuntimeException e) {
      log.warn("Building the partial indexes of {} failed: {}", table, e.getMessage());
    }
  }

  /**
   * Builds the HNSW index of {@code table} unless a valid one is there: drops an invalid one
   * (left by a server that died building it), then {@code CREATE INDEX CONCURRENTLY} with
   * {@code maintenance_work_mem} of {@code memoryMb}, marking the table {@code building}, then
   * {@code ready}. The one path for bulk loads and rollout backfills. {@code c} must be in
   * auto-commit mode (no statement timeout: an index build serves no call).
   *
   * @return whether it built one
   */
  static boolean build(Connection c, CollectionSpec spec, String table, int memoryMb) throws SQLException {
    String index = indexName(table);
    Boolean valid = valid(c, index);
    if (valid == Boolean.TRUE) {
      setState(c, table, "ready");
      return false;
    }
    setState(c, table, "building");
    try (Statement s = c.createStatement()) {
      if (valid != null) {
        s.execute("DROP INDEX CONCURRENTLY IF EXISTS " + index);
      }
    }
    createIndex(c, CollectionCatalog.hnswIndexSql(spec, table, true), memoryMb);
    setState(c, table, "ready");
    return true;
  }

  /**
   * Runs {@code createIndex} (a {@code CREATE INDEX CONCURRENTLY}) on {@code c} with
   * {@code maintenance_work_mem} of {@code memoryMb}, then resets the session.
   */
  static void createIndex(Connection c, String createIndex, int memoryMb) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("SET maintenance_work_mem = '" + memoryMb + "MB'");
      // a build whose server died stops within a second (leaving an invalid index for the next
      // server), instead of running on for nobody and holding the table's lock meanwhile
      s.execute("SET client_connection_check_interval = '1s'");
      try {
        s.execute(createIndex);
      } finally {
        s.execute("RESET maintenance_work_mem");
        s.execute("RESET client_connection_check_interval");
      }
    }
  }

  /**
   * Called in a transaction that drops {@code table}: stops a build of its index (cancelling
   * the session that holds the table's lock exclusively) and keeps any from starting until the
   * transaction ends, so the drop neither waits for nor deadlocks with
   * {@code CREATE INDEX CONCURRENTLY}. Bulk loads (shared holders) are not waited for.
   */
  static void stop(Connection c, String table) throws SQLException {
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      try (PreparedStatement p = c.prepareStatement(
          "SELECT pg_try_advisory_xact_lock_shared(" + LOCK_CLASS + ", hashtext(?))")) {
        p.setString(1, table);
        try (ResultSet r = p.executeQuery()) {
          r.next();
          if (r.getBoolean(1)) {
            return;
          }
        }
      }
      try (PreparedStatement p = c.prepareStatement("SELECT pg_cancel_backend(pid) FROM pg_locks"
          + " WHERE locktype = 'advisory' AND classid = " + LOCK_CLASS + "::oid AND objid = hashtext(?)::oid"
          + " AND objsubid = 2 AND mode = 'ExclusiveLock' AND granted AND pid <> pg_backend_pid()")) {
        p.setString(1, table);
        p.execute();
      }
      if (System.nanoTime() > until) {
        throw new StoreUnavailableException("the database is busy, retry: the index build of " + table
            + " did not stop within 10 s", null);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StoreUnavailableException("interrupted while stopping the index build of " + table, null);
      }
    }
  }

  /** {@code ready}, {@code absent} or {@code building}; null when the table is not in the catalog. */
  @Nullable
  static String state(Connection c, String table) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT hnsw FROM jointspace.collection_tables WHERE table_name = ?")) {
      p.setString(1, table);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? r.getString(1) : null;
      }
    }
  }

  /** The index state of {@code collection}'s active table. */
  public String state(Collection collection) {
    return db.read(c -> {
      String s = state(c, collection.table());
      return s == null ? "absent" : s;
    });
  }

  static void setState(Connection c, String table, String state) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "UPDATE jointspace.collection_tables SET hnsw = ? WHERE table_name = ?")) {
      p.setString(1, state);
      p.setString(2, table);
      p.executeUpdate();
    }
  }

  /** Whether the index named by the parameter (schema-qualified) is valid; no row when there is none. */
  static final String VALIDITY = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(?)";

  /** Whether the index is valid; null when there is none. */
  @Nullable
  static Boolean valid(Connection c, String index) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(VALIDITY)) {
      p.setString(1, index);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? r.getBoolean(1) : null;
      }
    }
  }

  /** The schema-qualified name of {@code table}'s HNSW index. */
  static String indexName(String table) {
    return Database.SCHEMA + "." + SqlNames.quote(table + "_hnsw");
  }

  /** Stops the sweep; a build running now is ended with the pool's connections. */
  @Override
  public void close() {
    builder.shutdownNow();
    synchronized (this) {
      closeSession();
      open.clear();
    }
  }
}
