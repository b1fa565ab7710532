package io.jointspace.server.store;

import io.jointspace.server.errors.InvalidInputException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.annotation.Nullable;

/**
 * Collections: the catalog rows, and the table, indexes and view of each. Creating and
 * deleting are single transactions, so a collection exists completely or not at all.
 */
public final class CollectionCatalog {
  /** Collections {@link #cached} keeps at most; past it, the cache starts over. */
  static final int MAX_CACHED = 10_000;

  private final Database db;
  private final java.util.concurrent.ConcurrentHashMap<String, Collection> cache =
      new java.util.concurrent.ConcurrentHashMap<>();

  public CollectionCatalog(Database db) {
    this.db = db;
  }

  /**
   * Creates the catalog row, the item table with its HNSW and GIN indexes, and the view.
   *
   * @throws CollectionExistsException when the collection, or a table or view of its name in
   *     {@code public}, exists
   */
  public Collection create(CollectionSpec spec) {
    return create(spec, null);
  }

  /** As {@link #create(CollectionSpec)}, following {@code following}'s model label when not null. */
  public Collection create(CollectionSpec spec, @Nullable Collection.Following following) {
    validate(spec);
    String table = SqlNames.table(spec.name(), spec.modelVersion());
    return db.inTransaction(c -> {
      // one creator at a time: the name checks below and the DDL must not interleave
      try (Statement s = c.createStatement()) {
        s.execute("SELECT pg_advisory_xact_lock(hashtext('jointspace.collections'))");
      }
      if (find(c, spec.name()).isPresent()) {
        throw new CollectionExistsException("collection '" + spec.name() + "' already exists");
      }
      try (PreparedStatement p = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL, to_regclass(?) IS NOT NULL")) {
        p.setString(1, "public." + SqlNames.quote(spec.name()));
        p.setString(2, SqlNames.qualified(table));
        try (ResultSet r = p.executeQuery()) {
          r.next();
          if (r.getBoolean(1)) {
            throw new CollectionExistsException("name '" + spec.name() + "': a table or view of that name exists in"
                + " schema public; the collection's view needs it");
          }
          if (r.getBoolean(2)) {
            throw new CollectionExistsException("name '" + spec.name() + "': table " + SqlNames.qualified(table)
                + " exists already");
          }
        }
      }
      try (PreparedStatement p = c.prepareStatement("SELECT catcode FROM pg_get_keywords() WHERE word = ?")) {
        p.setString(1, spec.name());
        try (ResultSet r = p.executeQuery()) {
          if (r.next() && !"U".equals(r.getString(1))) {
            throw new InvalidInputException("name '" + spec.name() + "' is an SQL keyword; the view needs a name"
                + " usable without quotes");
          }
        }
      }
      try (PreparedStatement p = c.prepareStatement("""
          INSERT INTO jointspace.collections (name, model_name, model_version, dimension, metric, vector_type,
              hnsw_m, hnsw_ef_construction, keep_sources, description, active_table, model_label, label_policy,
              indexed_keys)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?)""")) {
        p.setString(1, spec.name());
        p.setString(2, spec.modelName());
        p.setLong(3, spec.modelVersion());
        p.setInt(4, spec.dimension());
        p.setString(5, spec.metric().catalogName());
        p.setString(6, spec.vectorType().sqlName());
        p.setInt(7, spec.m());
        p.setInt(8, spec.efConstruction());
        p.setBoolean(9, spec.keepSources());
        p.setString(10, spec.description());
        p.setString(11, table);
        p.setString(12, following == null ? null : following.label());
        p.setString(13, following == null ? null : following.policyJson());
        p.setArray(14, c.createArrayOf("text", spec.indexedKeys().toArray()));
        p.executeUpdate();
      }
      VersionTable active = new VersionTable(spec.modelName(), spec.modelVersion(), table, spec.dimension());
      addTable(c, spec.name(), active, "active");
      createTable(c, spec, active, true);
      createView(c, spec.name(), active, spec.vectorType());
      createVersionView(c, spec.name(), active, spec.vectorType());
      return find(c, spec.name()).orElseThrow();
    });
  }

  private static void validate(CollectionSpec spec) {
    SqlNames.collection(spec.name(), "name");
    SqlNames.modelName(spec.modelName(), "model.name");
    if (spec.modelVersion() <= 0) {
      throw new InvalidInputException("model.version must be positive, got " + spec.modelVersion());
    }
    int maxDim = spec.vectorType().maxIndexedDimension();
    if (spec.dimension() < 1 || spec.dimension() > maxDim) {
      throw new InvalidInputException("dimension " + spec.dimension() + " is outside 1.." + maxDim
          + ", what an HNSW index on " + spec.vectorType().sqlName() + " supports");
    }
    if (spec.m() < 2 || spec.m() > 100) {
      throw new InvalidInputException("index.m must be within 2..100, got " + spec.m());
    }
    if (spec.efConstruction() < 4 || spec.efConstruction() > 1000 || spec.efConstruction() < 2 * spec.m()) {
      throw new InvalidInputException("index.ef_construction must be within 4..1000 and at least 2 * m ("
          + 2 * spec.m() + "), got " + spec.efConstruction());
    }
    checkDescription(spec.description());
    KeyIndexes.checkKeys(spec.indexedKeys(), "indexed_keys");
  }

  private static void checkDescription(String description) {
    if (description.length() > 4096) {
      throw new LimitExceededException("description is " + description.length()
          + " characters, over the limit of 4096");
    }
  }

  /** Records {@code t} as one of the collection's tables, in {@code state}. */
  static void addTable(Connection c, String collection, VersionTable t, String state) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("INSERT INTO jointspace.collection_tables (collection,"
        + " model_version, table_name, state, dimension, model_name) VALUES (?, ?, ?, ?, ?, ?)")) {
      p.setString(1, collection);
      p.setLong(2, t.version());
      p.setString(3, t.table());
      p.setString(4, state);
      p.setInt(5, t.dimension());
      p.setString(6, t.modelName());
      p.executeUpdate();
    }
  }

  /**
   * The item table and its metadata index, and its HNSW index unless {@code withHnsw} is false
   * (a rollout's target, indexed once its rows are in: {@link #createHnswIndex}). Identifiers
   * come from validated names, numbers are formatted ints.
   */
  static void createTable(Connection c, CollectionSpec spec, VersionTable vt, boolean withHnsw) throws SQLException {
    String table = vt.table();
    String t = SqlNames.qualified(table);
    VectorType type = spec.vectorType();
    try (Statement s = c.createStatement()) {
      s.execute("CREATE TABLE " + t + " ("
          + "id text PRIMARY KEY, "
          + "embedding " + type.column(vt.dimension()) + " NOT NULL, "
          + "metadata jsonb NOT NULL DEFAULT '{}', "
          + "source_text text, "
          + "source_image bytea, "
          + "created_at timestamptz NOT NULL DEFAULT now(), "
          + "updated_at timestamptz NOT NULL DEFAULT now())");
      // keep vectors inline and uncompressed while they fit comfortably in a page
      s.execute("ALTER TABLE " + t + " ALTER COLUMN embedding SET STORAGE "
          + (type.bytes(vt.dimension()) <= 4000 ? "PLAIN" : "EXTERNAL"));
      if (withHnsw) {
        s.execute(hnswIndexSql(spec, table, false));
      } else {
        IndexBuilds.setState(c, table, "absent");
      }
      s.execute("CREATE INDEX " + SqlNames.quote(table + "_metadata") + " ON " + t + " USING gin (metadata)");
    }
  }

  /** {@code CREATE INDEX [CONCURRENTLY]} of the HNSW index of {@code table}. */
  static String hnswIndexSql(CollectionSpec spec, String table, boolean concurrently) {
    return hnswIndexSql(spec, table, table + "_hnsw", concurrently, null);
  }

  /**
   * {@code CREATE INDEX [CONCURRENTLY] name} of an HNSW index of {@code table} with the
   * collection's metric and parameters, over the rows {@code where} (SQL) holds for, or all.
   */
  static String hnswIndexSql(CollectionSpec spec, String table, String name, boolean concurrently,
      @Nullable String where) {
    return "CREATE INDEX " + (concurrently ? "CONCURRENTLY " : "") + SqlNames.quote(name) + " ON "
        + SqlNames.qualified(table) + " USING hnsw (embedding " + spec.metric().operatorClass(spec.vectorType())
        + ") WITH (m = " + spec.m() + ", ef_construction = " + spec.efConstruction() + ")"
        + (where == null ? "" : " WHERE " + where);
  }

  /**
   * (Re)points the collection's view at {@code t}, in place: the view's {@code embedding}
   * column has no dimension, so it stays the same view (with its grants, and the views users
   * built on it) when a rollout changes the dimension. A view made before that (with the
   * dimension in its column type) is made again once.
   */
  static void createView(Connection c, String collection, VersionTable t, VectorType type) throws SQLException {
    String view = "public." + SqlNames.quote(collection);
    try (Statement s = c.createStatement()) {
      s.execute("SAVEPOINT view_replace");
      try {
        s.execute("CREATE OR REPLACE VIEW " + view + " AS " + viewQuery(t, type));
        s.execute("RELEASE SAVEPOINT view_replace");
      } catch (SQLException e) {
        if (!"42P16".equals(e.getSQLState())) { // cannot change a column's type: an older view
          throw e;
        }
        s.execute("ROLLBACK TO SAVEPOINT view_replace");
        s.execute("DROP VIEW " + view);
        s.execute("CREATE VIEW " + view + " AS " + viewQuery(t, type));
      }
      s.execute("COMMENT ON VIEW " + view + " IS 'Jointspace collection " + collection + " (model "
          + t.modelName() + " version " + t.version() + ")'");
    }
  }

  /**
   * The view of one version's table: {@code public.<collection>__v<version>}.
   *
   * @throws StoreConflictException when a table or view of that name exists in {@code public}
   */
  static void createVersionView(Connection c, String collection, VersionTable t, VectorType type)
      throws SQLException {
    String name = SqlNames.versionView(collection, t.version());
    String view = "public." + SqlNames.quote(name);
    if (relationExists(c, view)) {
      throw new StoreConflictException("a table or view named public." + name + " exists; it is the name of the"
          + " view of collection '" + collection + "' version " + t.version() + ": rename or drop it", null);
    }
    try (Statement s = c.createStatement()) {
      s.execute("CREATE VIEW " + view + " AS " + viewQuery(t, type));
      s.execute("COMMENT ON VIEW " + view + " IS 'Jointspace collection " + collection + ", the items of model "
          + t.modelName() + " version " + t.version() + "'");
    }
  }

  static boolean relationExists(Connection c, String qualifiedName) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      p.setString(1, qualifiedName);
      try (ResultSet r = p.executeQuery()) {
        r.next();
        return r.getBoolean(1);
      }
    }
  }

  private static String viewQuery(VersionTable t, VectorType type) {
    // embedding::vector (or ::halfvec) has no dimension; pgvector's index still serves it
    return "SELECT id, embedding::" + type.sqlName() + " AS embedding, metadata, source_text, source_image, "
        + "'" + SqlNames.modelName(t.modelName(), "model") + "'::text AS model_name, "
        + t.version() + "::bigint AS model_version, created_at, updated_at FROM " + SqlNames.qualified(t.table());
  }


  /** @throws CollectionNotFoundException when there is no such collection */
  public Collection get(String name) {
    SqlNames.collection(name, "name");
    Collection read = db.read(c -> require(c, name));
    remember(read);
    return read;
  }

  /**
   * The collection as this process last read it, read now when it has not: no database round
   * trip when it has. It may be out of date (another server process, or a rollout step, may
   * have changed it since): only for work that checks, in the statement that reads the table,
   * that the catalog row still has this {@link Collection#epoch} and creation time, as
   * {@link ItemStore#search} does, and that reads it again with {@link #get} (which refreshes
   * the cache) when the check fails.
   *
   * @throws CollectionNotFoundException when there is no such collection
   */
  public Collection cached(String name) {
    SqlNames.collection(name, "name");
    Collection c = cache.get(name);
    return c != null ? c : get(name);
  }

  /**
   * Changes the description and the indexed keys (each when not null) and returns the
   * collection as it is now. The partial indexes of added keys are built, and those of removed
   * keys dropped, by the index sweep ({@link IndexBuilds#keysChanged}).
   *
   * @throws CollectionNotFoundException when there is no such collection
   */
  public Collection update(String name, @Nullable String description, @Nullable List<String> indexedKeys) {
    SqlNames.collection(name, "name");
    if (description != null) {
      checkDescription(description);
    }
    if (indexedKeys != null) {
      KeyIndexes.checkKeys(indexedKeys, "indexed_keys");
    }
    Collection updated = db.inTransaction(c -> {
      lockRow(c, name);
      try (PreparedStatement p = c.prepareStatement("UPDATE jointspace.collections SET description ="
          + " coalesce(?, description), indexed_keys = coalesce(?, indexed_keys) WHERE name = ?")) {
        p.setString(1, description);
        p.setArray(2, indexedKeys == null ? null : c.createArrayOf("text", indexedKeys.toArray()));
        p.setString(3, name);
        p.executeUpdate();
      }
      return require(c, name);
    });
    remember(updated);
    return updated;
  }

  /** Drops what {@link #cached} holds for {@code name}. */
  public void forget(String name) {
    cache.remove(name);
  }

  private void remember(Collection c) {
    if (cache.size() >= MAX_CACHED) {
      cache.clear();
    }
    cache.put(c.name(), c);
  }

  /**
   * Locks the collection's catalog row for the rest of the transaction (writes and rollout
   * steps hold or wait for it).
   *
   * @throws CollectionNotFoundException when there is no such collection
   */
  static void lockRow(Connection c, String name) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM jointspace.collections WHERE name = ? FOR UPDATE")) {
      p.setString(1, name);
      try (ResultSet r = p.executeQuery()) {
        if (!r.next()) {
          throw new CollectionNotFoundException("collection '" + name + "' does not exist");
        }
      }
    }
  }

  static Collection require(Connection c, String name) throws SQLException {
    return find(c, name).orElseThrow(() -> new CollectionNotFoundException("collection '" + name + "' does not exist"));
  }

  public List<Collection> list() {
    return db.read(c -> {
      List<Collection> out = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement(SELECT + " ORDER BY c.name");
          ResultSet r = p.executeQuery()) {
        while (r.next()) {
          out.add(row(r));
        }
      }
      return out;
    });
  }

  /** Collections that follow a model label, by name. */
  public List<Collection> following() {
    return db.read(c -> {
      List<Collection> out = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement(SELECT + " WHERE c.model_label IS NOT NULL ORDER BY c.name");
          ResultSet r = p.executeQuery()) {
        while (r.next()) {
          out.add(row(r));
        }
      }
      return out;
    });
  }

  /**
   * Estimated numbers of items of {@code collections}, by collection name, read from
   * PostgreSQL's catalog and statistics without reading the tables: the row count of the
   * table's last VACUUM or ANALYZE ({@code pg_class.reltuples}) scaled to its current size in
   * pages, as the query planner estimates it; before the table was first analyzed, the live
   * rows the statistics system counts ({@code n_live_tup}). Either may lag recent writes and
   * differ from {@link #count}. A collection whose table is gone meanwhile is left out.
   */
  public Map<String, Long> estimatedCounts(List<Collection> collections) {
    if (collections.isEmpty()) {
      return Map.of();
    }
    Map<String, String> byTable = new HashMap<>();
    for (Collection collection : collections) {
      byTable.put(collection.table(), collection.name());
    }
    return db.read(c -> {
      Map<String, Long> out = new HashMap<>();
      try (PreparedStatement p = c.prepareStatement("SELECT t.relname, CASE"
          + " WHEN t.reltuples < 0 THEN pg_stat_get_live_tuples(t.oid)"
          + " WHEN t.relpages = 0 THEN t.reltuples"
          + " ELSE coalesce(t.reltuples / t.relpages"
          + " * (pg_relation_size(t.oid) / current_setting('block_size')::float8), t.reltuples) END"
          + " FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace"
          + " WHERE n.nspname = ? AND t.relname = ANY (?)")) {
        p.setString(1, Database.SCHEMA);
        p.setArray(2, c.createArrayOf("text", byTable.keySet().toArray()));
        try (ResultSet r = p.executeQuery()) {
          while (r.next()) {
            out.put(byTable.get(r.getString(1)), Math.max(0, Math.round(r.getDouble(2))));
          }
        }
      }
      return out;
    });
  }

  /** Exact number of items: reads the whole table (or its primary key index). */
  public long count(Collection collection) {
    return db.read(c -> {
      try (Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SELECT count(*) FROM " + SqlNames.qualified(collection.table()))) {
        r.next();
        return r.getLong(1);
      }
    });
  }

  /** Drops the view, every table of the collection, and its catalog rows. */
  public void delete(String name) {
    SqlNames.collection(name, "name");
    cache.remove(name);
    db.inTransaction(c -> {
      // writes and rollout steps hold or wait for this row: none runs across the drop
      lockRow(c, name);
      try (Statement s = c.createStatement()) {
        s.execute("SET LOCAL lock_timeout = '10s'");
      }
      // as an abort does: a rollout's work first (the backfill holds work rows, then the target
      // table), then its index build (only an open rollout can have one)
      try (PreparedStatement p = c.prepareStatement("DELETE FROM jointspace.rollout_work WHERE rollout_id IN"
          + " (SELECT id FROM jointspace.rollouts WHERE collection = ?)")) {
        p.setString(1, name);
        p.executeUpdate();
      }
      try (PreparedStatement p = c.prepareStatement("SELECT id FROM jointspace.rollouts WHERE collection = ?"
          + " AND state NOT IN ('finalized', 'aborted')")) {
        p.setString(1, name);
        try (ResultSet r = p.executeQuery()) {
          while (r.next()) {
            Backfill.stopIndexBuild(c, r.getLong(1));
          }
        }
      }
      List<Long> versions = new ArrayList<>();
      List<String> tables = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement(
          "SELECT table_name, model_version FROM jointspace.collection_tables WHERE collection = ?")) {
        p.setString(1, name);
        try (ResultSet r = p.executeQuery()) {
          while (r.next()) {
            tables.add(r.getString(1));
            versions.add(r.getLong(2));
          }
        }
      }
      try (Statement s = c.createStatement()) {
        s.execute("DROP VIEW IF EXISTS public." + SqlNames.quote(name));
        for (int i = 0; i < tables.size(); i++) {
          s.execute("DROP VIEW IF EXISTS public." + SqlNames.quote(SqlNames.versionView(name, versions.get(i))));
          IndexBuilds.stop(c, tables.get(i));
          // without CASCADE: a view of a user's on a table is an error (FAILED_PRECONDITION), not dropped
          s.execute("DROP TABLE IF EXISTS " + SqlNames.qualified(tables.get(i)));
        }
      }
      try (PreparedStatement p = c.prepareStatement("DELETE FROM jointspace.collections WHERE name = ?")) {
        p.setString(1, name);
        p.executeUpdate();
      }
      return null;
    });
  }


  private static final String SELECT = """
      SELECT c.name, c.model_name, c.model_version, c.dimension, c.metric, c.vector_type, c.hnsw_m,
             c.hnsw_ef_construction, c.keep_sources, c.description, c.active_table, c.created_at, c.epoch,
             r.id, r.state, r.unembeddable, r.from_model, r.from_version, r.from_table, r.from_dimension,
             r.to_model, r.to_version, r.to_table, r.to_dimension, c.model_label, c.label_policy::text,
             c.indexed_keys
      FROM jointspace.collections c
      LEFT JOIN jointspace.rollouts r ON r.collection = c.name AND r.state NOT IN ('finalized', 'aborted')""";

  static Optional<Collection> find(Connection c, String name) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(SELECT + " WHERE c.name = ?")) {
      p.setString(1, name);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? Optional.of(row(r)) : Optional.empty();
      }
    }
  }

  private static Collection row(ResultSet r) throws SQLException {
    CollectionSpec spec = new CollectionSpec(r.getString(1), r.getString(2), r.getLong(3), r.getInt(4),
        Metric.fromCatalog(r.getString(5)), VectorType.fromCatalog(r.getString(6)), r.getInt(7), r.getInt(8),
        r.getBoolean(9), r.getString(10), List.of((String[]) r.getArray(27).getArray()));
    String active = r.getString(11);
    Collection.OpenRollout rollout = null;
    long rolloutId = r.getLong(14);
    if (!r.wasNull()) {
      VersionTable from = new VersionTable(r.getString(17), r.getLong(18), r.getString(19), r.getInt(20));
      VersionTable to = new VersionTable(r.getString(21), r.getLong(22), r.getString(23), r.getInt(24));
      rollout = new Collection.OpenRollout(rolloutId, RolloutState.fromCatalog(r.getString(15)),
          Unembeddable.fromCatalog(r.getString(16)), active.equals(to.table()) ? from : to);
    }
    String label = r.getString(25);
    return new Collection(spec, active, r.getTimestamp(12).toInstant(), r.getLong(13), rollout,
        label == null ? null : new Collection.Following(label, r.getString(26)));
  }
}
