package io.jointspace.server.store;

import com.pgvector.PGvector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.postgresql.PGConnection;
import org.postgresql.copy.PGCopyOutputStream;

/**
 * Items of a collection: upsert (row by row or binary COPY), get, delete and nearest-neighbour
 * search. Every write is one transaction and returns only after it has committed.
 */
public final class ItemStore {
  private final Database db;
  private final int exactFilterRows;

  public ItemStore(Database db) {
    this(db, EXACT_FILTER_ROWS);
  }

  /** @param exactFilterRows up to how many matches a filtered search ranks exactly */
  ItemStore(Database db, int exactFilterRows) {
    this.db = db;
    this.exactFilterRows = exactFilterRows;
  }

  /**
   * Inserts or replaces items by id (the last one wins when an id repeats).
   *
   * @param field the request field holding the items, for messages ("items")
   * @return the number of items written
   */
  public int upsert(Collection collection, List<ItemWrite> items, String field) {
    List<ItemWrite> unique = validate(collection, items, field, Limits.MAX_ITEMS_PER_UPSERT);
    if (unique.isEmpty()) {
      return 0;
    }
    CollectionSpec spec = collection.spec();
    String sql = "INSERT INTO " + SqlNames.qualified(collection.table())
        + " (id, embedding, metadata, source_text, source_image) VALUES (?, ?::vector" + cast(spec)
        + ", ?::jsonb, ?, ?) " + ON_CONFLICT;
    return db.inTransaction(c -> {
      try (PreparedStatement p = c.prepareStatement(sql)) {
        for (ItemWrite item : unique) {
          p.setString(1, item.id());
          p.setObject(2, new PGvector(item.vector()));
          p.setString(3, item.metadataJson());
          p.setString(4, spec.keepSources() ? item.sourceText() : null);
          p.setBytes(5, spec.keepSources() ? item.sourceImage() : null);
          p.addBatch();
        }
        p.executeBatch();
      }
      return items.size();
    });
  }

  /**
   * Inserts or replaces items by id with binary COPY into a stage table, then one
   * {@code INSERT ... ON CONFLICT} into the collection: the bulk path.
   */
  public int copyUpsert(Collection collection, List<ItemWrite> items, String field) {
    List<ItemWrite> all = validate(collection, items, field, Limits.MAX_ITEMS_PER_STREAM_MESSAGE);
    if (all.isEmpty()) {
      return 0;
    }
    CollectionSpec spec = collection.spec();
    // repeated ids are collapsed by validate(); equal sizes mean every id is distinct
    List<ItemWrite> rows = spec.keepSources() ? all : withoutSources(all);
    return db.inTransaction(c -> {
      if (spec.vectorType() == VectorType.VECTOR && rows.size() == items.size() && noneStored(c, collection, rows)) {
        // only new ids: COPY straight into the table
        Savepoint before = c.setSavepoint();
        try {
          copy(c, "COPY " + SqlNames.qualified(collection.table()) + " " + BinaryCopy.TABLE_COLUMNS
              + " FROM STDIN (FORMAT binary)", rows, false);
          c.releaseSavepoint(before);
          return items.size();
        } catch (SQLException e) {
          if (!"23505".equals(e.getSQLState())) {
            throw e;
          }
          c.rollback(before); // another writer stored one of these ids meanwhile: upsert below
        }
      }
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TEMP TABLE IF NOT EXISTS jointspace_stage (seq integer, id text, embedding vector,"
            + " metadata jsonb, source_text text, source_image bytea) ON COMMIT DELETE ROWS");
      }
      copy(c, "COPY pg_temp.jointspace_stage " + BinaryCopy.STAGE_COLUMNS + " FROM STDIN (FORMAT binary)", rows,
          true);
      try (Statement s = c.createStatement()) {
        s.executeUpdate("INSERT INTO " + SqlNames.qualified(collection.table())
            + " (id, embedding, metadata, source_text, source_image)"
            + " SELECT DISTINCT ON (id) id, embedding" + cast(spec) + ", metadata, source_text, source_image"
            + " FROM pg_temp.jointspace_stage ORDER BY id, seq DESC " + ON_CONFLICT);
      }
      return items.size();
    });
  }

  private static void copy(Connection c, String sql, List<ItemWrite> rows, boolean withSeq) throws SQLException {
    PGConnection pg = c.unwrap(PGConnection.class);
    try (PGCopyOutputStream out = new PGCopyOutputStream(pg, sql, 1 << 16)) {
      BinaryCopy.write(rows, out, withSeq);
    } catch (IOException e) {
      throw e.getCause() instanceof SQLException sql2 ? sql2 : new SQLException("COPY failed: " + e.getMessage(), "08006", e);
    }
  }

  /** Whether none of the ids is stored yet. */
  private static boolean noneStored(Connection c, Collection collection, List<ItemWrite> rows) throws SQLException {
    String[] ids = new String[rows.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = rows.get(i).id();
    }
    try (PreparedStatement p = c.prepareStatement(
        "SELECT EXISTS (SELECT 1 FROM " + SqlNames.qualified(collection.table()) + " WHERE id = ANY (?))")) {
      p.setArray(1, c.createArrayOf("text", ids));
      try (ResultSet r = p.executeQuery()) {
        r.next();
        return !r.getBoolean(1);
      }
    }
  }

  private static final String ON_CONFLICT = "ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding,"
      + " metadata = EXCLUDED.metadata, source_text = EXCLUDED.source_text, source_image = EXCLUDED.source_image,"
      + " updated_at = now()";

  /** {@code ::halfvec(d)} for half-precision collections; vectors travel as {@code vector}. */
  private static String cast(CollectionSpec spec) {
    return spec.vectorType() == VectorType.HALFVEC ? "::" + spec.vectorType().column(spec.dimension()) : "";
  }

  private static List<ItemWrite> withoutSources(List<ItemWrite> items) {
    List<ItemWrite> out = new ArrayList<>(items.size());
    for (ItemWrite i : items) {
      out.add(new ItemWrite(i.id(), i.vector(), i.metadataJson(), null, null));
    }
    return out;
  }

  /** Checks every item; returns them with repeated ids collapsed to the last occurrence. */
  private static List<ItemWrite> validate(Collection collection, List<ItemWrite> items, String field, int max) {
    if (items.size() > max) {
      throw new LimitExceededException(field + " has " + items.size() + " items, over the limit of " + max
          + " per request");
    }
    Map<String, ItemWrite> last = new LinkedHashMap<>();
    for (int i = 0; i < items.size(); i++) {
      ItemWrite item = items.get(i);
      String at = field + "[" + i + "]";
      checkId(item.id(), at + ".id");
      checkVector(item.vector(), collection, at + ".vector.values");
      checkMetadata(item.metadataJson(), at + ".metadata");
      if (item.sourceText() != null && item.sourceText().indexOf('\0') >= 0) {
        throw new InvalidRequestException(at + ".input.text contains a NUL character, which PostgreSQL cannot store");
      }
      last.remove(item.id());
      last.put(item.id(), item);
    }
    return new ArrayList<>(last.values());
  }

  /** Validates an item id (non-empty, at most {@link Limits#MAX_ID_BYTES}, no NUL). */
  public static void checkId(String id, String field) {
    if (id == null || id.isEmpty()) {
      throw new InvalidRequestException(field + " is empty");
    }
    int bytes = id.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > Limits.MAX_ID_BYTES) {
      throw new LimitExceededException(field + " is " + bytes + " bytes, over the limit of " + Limits.MAX_ID_BYTES);
    }
    if (id.indexOf('\0') >= 0) {
      throw new InvalidRequestException(field + " contains a NUL character");
    }
  }

  static void checkVector(float[] v, Collection collection, String field) {
    if (v.length != collection.spec().dimension()) {
      throw new InvalidRequestException(field + " has " + v.length + " values; collection '" + collection.name()
          + "' stores " + collection.spec().dimension());
    }
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        throw new InvalidRequestException(field + "[" + i + "] is " + v[i] + "; vectors hold finite numbers");
      }
      if (collection.spec().vectorType() == VectorType.HALFVEC && Math.abs(v[i]) > 65504f) {
        throw new InvalidRequestException(field + "[" + i + "] is " + v[i] + ", outside the half-precision range");
      }
    }
  }

  private static void checkMetadata(String json, String field) {
    int bytes = json.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > Limits.MAX_METADATA_BYTES) {
      throw new LimitExceededException(field + " is " + bytes + " bytes as JSON, over the limit of "
          + Limits.MAX_METADATA_BYTES);
    }
    if (json.contains("\\u0000")) {
      throw new InvalidRequestException(field + " contains a NUL character, which PostgreSQL cannot store");
    }
  }

  private static void checkIds(List<String> ids, String field) {
    if (ids.size() > Limits.MAX_IDS) {
      throw new LimitExceededException(field + " has " + ids.size() + " ids, over the limit of " + Limits.MAX_IDS);
    }
    for (int i = 0; i < ids.size(); i++) {
      checkId(ids.get(i), field + "[" + i + "]");
    }
  }

  /** Stored items among {@code ids}, in the order of {@code ids}; missing ones are left out. */
  public List<StoredItem> get(Collection collection, List<String> ids, boolean vectors, boolean sources) {
    checkIds(ids, "ids");
    if (ids.isEmpty()) {
      return List.of();
    }
    String sql = "SELECT id, metadata::text, created_at, updated_at"
        + (vectors ? ", embedding::vector" : "")
        + (sources ? ", source_text, source_image" : "")
        + " FROM " + SqlNames.qualified(collection.table()) + " WHERE id = ANY (?)";
    Map<String, StoredItem> found = db.read(c -> {
      Map<String, StoredItem> out = new HashMap<>();
      try (PreparedStatement p = c.prepareStatement(sql)) {
        p.setArray(1, c.createArrayOf("text", ids.toArray()));
        try (ResultSet r = p.executeQuery()) {
          while (r.next()) {
            int col = 5;
            float[] v = vectors ? ((PGvector) r.getObject(col++)).toArray() : null;
            String text = sources ? r.getString(col++) : null;
            byte[] image = sources ? r.getBytes(col) : null;
            out.put(r.getString(1), new StoredItem(r.getString(1), r.getString(2), v, text, image,
                r.getTimestamp(3).toInstant(), r.getTimestamp(4).toInstant()));
          }
        }
      }
      return out;
    });
    List<StoredItem> ordered = new ArrayList<>();
    for (String id : new java.util.LinkedHashSet<>(ids)) {
      StoredItem item = found.get(id);
      if (item != null) {
        ordered.add(item);
      }
    }
    return ordered;
  }

  /** Deletes {@code ids}; returns how many were stored. */
  public int delete(Collection collection, List<String> ids) {
    checkIds(ids, "ids");
    if (ids.isEmpty()) {
      return 0;
    }
    return db.inTransaction(c -> {
      try (PreparedStatement p = c.prepareStatement(
          "DELETE FROM " + SqlNames.qualified(collection.table()) + " WHERE id = ANY (?)")) {
        p.setArray(1, c.createArrayOf("text", ids.toArray()));
        return p.executeUpdate();
      }
    });
  }

  /** The hnsw.ef_search a search uses: {@code max(64, 2 * topK)}, at most pgvector's 1000. */
  public static int defaultEfSearch(int topK) {
    return Math.min(1000, Math.max(64, 2 * topK));
  }

  /**
   * The {@code topK} nearest items, best first. Filtered searches use pgvector's iterative
   * index scan, so they keep reading the index until enough items match.
   *
   * @param efSearch HNSW candidate list size; 0 for {@link #defaultEfSearch}
   */
  public List<SearchHit> search(Collection collection, SearchQuery query, int efSearch) {
    if (query.topK() < 1) {
      throw new InvalidRequestException("top_k must be positive, got " + query.topK());
    }
    if (query.topK() > Limits.MAX_TOP_K) {
      throw new LimitExceededException("top_k " + query.topK() + " is over the limit of " + Limits.MAX_TOP_K);
    }
    if (efSearch < 0 || efSearch > 1000) {
      throw new InvalidRequestException("ef_search must be within 1..1000 (0 for the default), got " + efSearch);
    }
    int ef = efSearch == 0 ? defaultEfSearch(query.topK()) : efSearch;
    FilterSql.Compiled filter = query.filter() == null ? null : FilterSql.compile(query.filter(), "filter");
    if (query.vector() != null) {
      checkVector(query.vector(), collection, "vector.values");
    } else {
      checkId(query.itemId(), "id");
    }
    CollectionSpec spec = collection.spec();
    String table = SqlNames.qualified(collection.table());
    String distance = "embedding " + spec.metric().operator() + " ?::vector" + cast(spec);
    String columns = (query.includeMetadata() ? ", metadata::text" : "") + (query.includeVectors() ? ", embedding::vector" : "");
    List<String> conditions = new ArrayList<>();
    List<Slot> whereSlots = new ArrayList<>();
    if (filter != null) {
      conditions.add(filter.sql());
      whereSlots.add(Slot.FILTER);
    }
    if (query.itemId() != null) {
      conditions.add("id <> ?");
      whereSlots.add(Slot.ID);
    }
    String where = conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
    // LIMITs are validated integer literals
    SearchSql nearest = new SearchSql("SELECT id, " + distance + " AS distance" + columns + " FROM " + table + where
        + " ORDER BY " + distance + " LIMIT " + query.topK(), concat(List.of(Slot.VECTOR), whereSlots, List.of(Slot.VECTOR)), false);
    // filtered: the matching rows, up to a bound, ranked exactly in one statement
    String inner = (query.includeMetadata() ? ", metadata" : "") + (query.includeVectors() ? ", embedding" : "");
    SearchSql fewMatches = new SearchSql("WITH m AS MATERIALIZED (SELECT id, " + distance + " AS distance" + inner
        + " FROM " + table + where + " LIMIT " + (exactFilterRows + 1) + ") SELECT id, distance" + columns
        + ", (SELECT count(*) FROM m) AS matched FROM m ORDER BY distance LIMIT " + query.topK(),
        concat(List.of(Slot.VECTOR), whereSlots), true);
    return db.inTransaction(c -> {
      float[] vector = query.vector() != null ? query.vector() : storedVector(c, collection, query.itemId());
      try (Statement s = c.createStatement()) {
        s.execute("SET LOCAL hnsw.ef_search = " + ef);
      }
      List<SearchHit> hits;
      if (filter == null) {
        hits = run(c, nearest, vector, filter, query).hits();
      } else {
        // Few matches: rank them all exactly, in one statement that also counts them (the GIN
        // index finds equals/in matches). Many: walk the HNSW graph, filtering as it goes
        // (pgvector's iterative scan), which finds top_k of them without reading them all.
        exact(c);
        Ranked few = run(c, fewMatches, vector, filter, query);
        hits = few.hits();
        if (few.matched() > exactFilterRows) {
          walk(c, LONG_WALK_TUPLES);
          if (efSearch == 0) {
            // a wider candidate list per step keeps recall up when only a few percent match
            try (Statement s = c.createStatement()) {
              s.execute("SET LOCAL hnsw.ef_search = " + filteredEfSearch(query.topK()));
            }
          }
          hits = run(c, nearest, vector, filter, query).hits();
          if (hits.size() < query.topK()) {
            // the walk stopped (hnsw.max_scan_tuples) before top_k matches: rank exactly
            exact(c);
            hits = run(c, nearest, vector, filter, query).hits();
          }
        }
      }
      // iterative scans return nearly sorted rows; order exactly, then turn distances into scores
      hits.sort(Comparator.comparingDouble(SearchHit::score));
      List<SearchHit> out = new ArrayList<>(hits.size());
      for (SearchHit h : hits) {
        out.add(new SearchHit(h.id(), score(spec.metric(), h.score()), h.metadataJson(), h.vector()));
      }
      return Collections.unmodifiableList(out);
    });
  }

  /**
   * By default, filtered searches with at most this many matching rows rank every match
   * exactly; with more, they walk the HNSW index. Finding out costs reading up to this many
   * matching rows.
   */
  static final int EXACT_FILTER_ROWS = 2000;

  /** The hnsw.ef_search of a filtered walk unless the request sets one: {@code max(200, 20 * topK)}, at most 1000. */
  public static int filteredEfSearch(int topK) {
    return Math.min(1000, Math.max(200, 20 * topK));
  }

  /** Rows a filtered walk may read (pgvector's default hnsw.max_scan_tuples). */
  static final int LONG_WALK_TUPLES = 20_000;

  /** Plans the next statement as a filtered HNSW walk reading at most {@code tuples} rows. */
  private static void walk(Connection c, int tuples) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("SET LOCAL hnsw.iterative_scan = relaxed_order");
      s.execute("SET LOCAL hnsw.max_scan_tuples = " + tuples);
      s.execute("SET LOCAL enable_indexscan = on");
      s.execute("SET LOCAL enable_bitmapscan = off");
      s.execute("SET LOCAL enable_seqscan = off");
    }
  }

  /** Plans the next statement without the HNSW index: every matching row is ranked. */
  private static void exact(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("SET LOCAL enable_indexscan = off");
      s.execute("SET LOCAL enable_bitmapscan = on");
      s.execute("SET LOCAL enable_seqscan = on");
    }
  }

  /** What a statement's parameters are, in order. */
  private enum Slot { VECTOR, FILTER, ID }

  /** A search statement; {@code counts} when its last column is the number of matching rows. */
  private record SearchSql(String sql, List<Slot> slots, boolean counts) {}

  /** Hits (distances in {@code score}) and, for a counting statement, how many rows matched (-1 otherwise). */
  private record Ranked(List<SearchHit> hits, long matched) {}

  @SafeVarargs
  private static List<Slot> concat(List<Slot>... parts) {
    List<Slot> out = new ArrayList<>();
    for (List<Slot> p : parts) {
      out.addAll(p);
    }
    return out;
  }

  /** Runs a search statement; hits carry distances in {@code score}. */
  private static Ranked run(Connection c, SearchSql statement, float[] vector, FilterSql.Compiled filter,
      SearchQuery query) throws SQLException {
    List<SearchHit> hits = new ArrayList<>(query.topK());
    long matched = statement.counts() ? 0 : -1;
    try (PreparedStatement p = c.prepareStatement(statement.sql())) {
      PGvector q = new PGvector(vector);
      int i = 1;
      for (Slot slot : statement.slots()) {
        switch (slot) {
          case VECTOR -> p.setObject(i++, q);
          case FILTER -> i = filter.bind(c, p, i);
          case ID -> p.setString(i++, query.itemId());
        }
      }
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          int col = 3;
          double d = r.getDouble(2);
          String metadata = query.includeMetadata() ? r.getString(col++) : null;
          float[] v = query.includeVectors() ? ((PGvector) r.getObject(col++)).toArray() : null;
          if (statement.counts()) {
            matched = r.getLong(col);
          }
          hits.add(new SearchHit(r.getString(1), (float) d, metadata, v));
        }
      }
    }
    return new Ranked(hits, matched);
  }

  private static float score(Metric metric, float distance) {
    return metric == Metric.COSINE ? 1f - distance : -distance;
  }

  private static float[] storedVector(Connection c, Collection collection, String id) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "SELECT embedding::vector FROM " + SqlNames.qualified(collection.table()) + " WHERE id = ?")) {
      p.setString(1, id);
      try (ResultSet r = p.executeQuery()) {
        if (!r.next()) {
          throw new CollectionNotFoundException("id '" + SqlNames.shorten(id) + "' is not stored in collection '"
              + collection.name() + "'");
        }
        return ((PGvector) r.getObject(1)).toArray();
      }
    }
  }
}
