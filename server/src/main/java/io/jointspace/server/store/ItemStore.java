package io.jointspace.server.store;

import com.pgvector.PGvector;
import io.jointspace.server.errors.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
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
  /** One for the store: it keeps the table sizes it read and the filters it found selective. */
  private final NearestSearch nearest;

  public ItemStore(Database db) {
    this(db, new KeyIndexes(), ReadListener.NONE);
  }

  /**
   * @param keys the partial indexes of indexed keys, as the store's index sweep reads them
   * @param listener told which plan each search took
   */
  ItemStore(Database db, KeyIndexes keys, ReadListener listener) {
    this(db, NearestSearch.WALK_TUPLES, NearestSearch.EXACT_ROWS, keys, listener);
  }

  ItemStore(Database db, int walkTuples, int smallRows) {
    this(db, walkTuples, smallRows, new KeyIndexes(), ReadListener.NONE);
  }

  /**
   * @param walkTuples the most rows a filtered search's HNSW walk reads before it ranks every match exactly
   * @param smallRows a table no larger than this many rows make is ranked exactly, with or without its index; -1: none is
   */
  ItemStore(Database db, int walkTuples, int smallRows, KeyIndexes keys, ReadListener listener) {
    this.db = db;
    this.nearest = new NearestSearch(db, walkTuples, smallRows, new NearestSearch.SelectiveFilters(), keys, listener);
  }

  /**
   * Inserts or replaces items by id (the last one wins when an id repeats), in the active
   * table and, during a rollout, in the other version's table.
   *
   * @param replicaItems the same items embedded by the rollout's other version (empty without
   *     a rollout); an id missing here is removed from that version (it cannot be embedded there)
   * @param field the request field holding the items, for messages ("items")
   * @return the number of items written
   * @throws CollectionChangedException when the collection's tables changed since {@code
   *     collection} was read: nothing is written
   */
  public int upsert(Collection collection, List<ItemWrite> items, List<ItemWrite> replicaItems, String field) {
    return write(collection, items, replicaItems, field, Limits.MAX_ITEMS_PER_UPSERT, false);
  }

  /**
   * As {@link #upsert}, with binary COPY: the bulk path. New ids are copied straight into the
   * table; otherwise they go through a stage table and one {@code INSERT ... ON CONFLICT}.
   */
  public int copyUpsert(Collection collection, List<ItemWrite> items, List<ItemWrite> replicaItems, String field) {
    return write(collection, items, replicaItems, field, Limits.MAX_ITEMS_PER_STREAM_MESSAGE, true);
  }

  private int write(Collection collection, List<ItemWrite> items, List<ItemWrite> replicaItems, String field, int max,
      boolean bulk) {
    List<ItemWrite> rows = rows(collection, items, field, max);
    if (rows.isEmpty()) {
      return 0;
    }
    Collection replica = collection.replica().map(collection::at).orElse(null);
    List<ItemWrite> replicaRows = replica == null ? List.of() : rows(replica, replicaItems, field, max);
    return db.inTransaction(c -> {
      lockEpoch(c, collection);
      if (replica != null) {
        String[] ids = ids(rows);
        // the backfill's claims on these items end here: what a client writes wins
        dropWork(c, collection.rollout().id(), ids);
        writeRows(c, replica, replicaRows, bulk);
        java.util.Set<String> embedded = new java.util.HashSet<>();
        replicaRows.forEach(r -> embedded.add(r.id()));
        List<String> notThere = new ArrayList<>();
        for (String id : ids) {
          if (!embedded.contains(id)) {
            notThere.add(id);
          }
        }
        deleteRows(c, replica.table(), notThere.toArray(new String[0]));
      }
      writeRows(c, collection, rows, bulk);
      return items.size();
    });
  }

  private static void writeRows(Connection c, Collection collection, List<ItemWrite> rows, boolean bulk)
      throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    CollectionSpec spec = collection.spec();
    String table = SqlNames.qualified(collection.table());
    if (!bulk) {
      String sql = "INSERT INTO " + table + " (id, embedding, metadata, source_text, source_image) VALUES (?, ?::vector"
          + cast(spec) + ", ?::jsonb, ?, ?) " + ON_CONFLICT;
      try (PreparedStatement p = c.prepareStatement(sql)) {
        for (ItemWrite item : rows) {
          p.setString(1, item.id());
          p.setObject(2, new PGvector(item.vector()));
          p.setString(3, item.metadataJson());
          p.setString(4, item.sourceText());
          p.setBytes(5, item.sourceImage());
          p.addBatch();
        }
        p.executeBatch();
      }
      return;
    }
    if (spec.vectorType() == VectorType.VECTOR && noneStored(c, table, rows)) {
      Savepoint before = c.setSavepoint();
      try {
        copy(c, "COPY " + table + " " + BinaryCopy.COLUMNS + " FROM STDIN (FORMAT binary)", rows);
        c.releaseSavepoint(before);
        return;
      } catch (SQLException e) {
        if (!"23505".equals(e.getSQLState())) {
          throw e;
        }
        c.rollback(before); // another writer stored one of these ids meanwhile: upsert below
      }
    }
    try (Statement s = c.createStatement()) {
      s.execute("CREATE TEMP TABLE IF NOT EXISTS jointspace_stage (id text, embedding vector,"
          + " metadata jsonb, source_text text, source_image bytea) ON COMMIT DELETE ROWS");
      s.execute("TRUNCATE pg_temp.jointspace_stage");
    }
    copy(c, "COPY pg_temp.jointspace_stage " + BinaryCopy.COLUMNS + " FROM STDIN (FORMAT binary)", rows);
    try (Statement s = c.createStatement()) {
      s.executeUpdate("INSERT INTO " + table + " " + BinaryCopy.COLUMNS
          + " SELECT id, embedding" + cast(spec) + ", metadata, source_text, source_image"
          + " FROM pg_temp.jointspace_stage " + ON_CONFLICT);
    }
  }

  /**
   * Locks the collection's catalog row against table changes until the transaction ends, and
   * checks that its tables are still those {@code collection} names.
   */
  static void lockEpoch(Connection c, Collection collection) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "SELECT epoch FROM jointspace.collections WHERE name = ? FOR SHARE")) {
      p.setString(1, collection.name());
      try (ResultSet r = p.executeQuery()) {
        if (!r.next()) {
          throw new CollectionNotFoundException("collection '" + collection.name() + "' was deleted meanwhile");
        }
        if (r.getLong(1) != collection.epoch()) {
          throw new CollectionChangedException("collection '" + collection.name() + "' changed its model versions"
              + " while the write was prepared");
        }
      }
    }
  }

  /** Removes the backfill work of {@code ids}: their new vectors come from this write. */
  static void dropWork(Connection c, long rolloutId, String[] ids) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "DELETE FROM jointspace.rollout_work WHERE rollout_id = ? AND item_id = ANY (?)")) {
      p.setLong(1, rolloutId);
      p.setArray(2, c.createArrayOf("text", ids));
      p.executeUpdate();
    }
  }

  private static int deleteRows(Connection c, String table, String[] ids) throws SQLException {
    if (ids.length == 0) {
      return 0;
    }
    try (PreparedStatement p = c.prepareStatement(
        "DELETE FROM " + SqlNames.qualified(table) + " WHERE id = ANY (?)")) {
      p.setArray(1, c.createArrayOf("text", ids));
      return p.executeUpdate();
    }
  }

  private static String[] ids(List<ItemWrite> rows) {
    String[] ids = new String[rows.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = rows.get(i).id();
    }
    return ids;
  }

  static void copy(Connection c, String sql, List<ItemWrite> rows) throws SQLException {
    PGConnection pg = c.unwrap(PGConnection.class);
    try (PGCopyOutputStream out = new PGCopyOutputStream(pg, sql, 1 << 16)) {
      BinaryCopy.write(rows, out);
    } catch (IOException e) {
      throw e.getCause() instanceof SQLException sql2 ? sql2 : new SQLException("COPY failed: " + e.getMessage(), "08006", e);
    }
  }

  /** Whether none of the ids is stored yet. */
  private static boolean noneStored(Connection c, String table, List<ItemWrite> rows) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "SELECT EXISTS (SELECT 1 FROM " + table + " WHERE id = ANY (?))")) {
      p.setArray(1, c.createArrayOf("text", ids(rows)));
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

  /**
   * Checks every item and returns the rows to write: one per id (the last occurrence wins),
   * without sources when the collection does not keep them.
   */
  private static List<ItemWrite> rows(Collection collection, List<ItemWrite> items, String field, int max) {
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
        throw new InvalidInputException(at + ".input.text contains a NUL character, which PostgreSQL cannot store");
      }
      last.remove(item.id());
      last.put(item.id(), collection.spec().keepSources() ? item
          : new ItemWrite(item.id(), item.vector(), item.metadataJson(), null, null));
    }
    List<ItemWrite> out = new ArrayList<>(last.values());
    // one lock order for every writer (rows, then the backfill's claims): no deadlocks between them
    out.sort(java.util.Comparator.comparing(ItemWrite::id));
    return out;
  }

  /** Validates an item id (non-empty, at most {@link Limits#MAX_ID_BYTES}, no NUL). */
  public static void checkId(String id, String field) {
    if (id == null || id.isEmpty()) {
      throw new InvalidInputException(field + " is empty");
    }
    int bytes = id.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > Limits.MAX_ID_BYTES) {
      throw new LimitExceededException(field + " is " + bytes + " bytes, over the limit of " + Limits.MAX_ID_BYTES);
    }
    if (id.indexOf('\0') >= 0) {
      throw new InvalidInputException(field + " contains a NUL character");
    }
  }

  static void checkVector(float[] v, Collection collection, String field) {
    if (v.length != collection.spec().dimension()) {
      throw new InvalidInputException(field + " has " + v.length + " values; collection '" + collection.name()
          + "' stores " + collection.spec().dimension());
    }
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        throw new InvalidInputException(field + "[" + i + "] is " + v[i] + "; vectors hold finite numbers");
      }
      if (collection.spec().vectorType() == VectorType.HALFVEC && Math.abs(v[i]) > 65504f) {
        throw new InvalidInputException(field + "[" + i + "] is " + v[i] + ", outside the half-precision range");
      }
    }
  }

  private static void checkMetadata(String json, String field) {
    int bytes = json.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > Limits.MAX_METADATA_BYTES) {
      throw new LimitExceededException(field + " is " + bytes + " bytes as JSON, over the limit of "
          + Limits.MAX_METADATA_BYTES);
    }
    if (JsonText.hasNul(json)) {
      throw new InvalidInputException(field + " contains a NUL character, which PostgreSQL cannot store");
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

  /**
   * Stored items among {@code ids}, in the order of {@code ids}; missing ones are left out.
   *
   * @throws LimitExceededException when the items come to more than
   *     {@link Limits#MAX_GET_ANSWER_BYTES} (measured in the database before any is read), and
   *     {@code ids} names more than one item; the message says how many of the first ids fit
   */
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
      checkAnswerSize(c, collection, ids, vectors, sources);
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

  /** Bytes an item is counted for besides its id, metadata, vector and source: timestamps, framing. */
  private static final int ITEM_OVERHEAD_BYTES = 64;

  /**
   * Refuses a Get whose items would come to more than {@link Limits#MAX_GET_ANSWER_BYTES}:
   * their sizes are read first (the lengths of TOASTed values come from their headers, so
   * nothing large is read or sent for this), then the items only when they fit. A Get of a
   * single stored item is always answered. Skipped when the ids cannot reach the limit.
   */
  private static void checkAnswerSize(Connection c, Collection collection, List<String> ids, boolean vectors,
      boolean sources) throws SQLException {
    long vectorBytes = vectors ? 4L * collection.spec().dimension() + 8 : 0;
    long mostPerItem = Limits.MAX_ID_BYTES + 2L * Limits.MAX_METADATA_BYTES + vectorBytes + ITEM_OVERHEAD_BYTES;
    if (!sources && ids.size() * mostPerItem <= Limits.MAX_GET_ANSWER_BYTES) {
      return;
    }
    String sql = "SELECT id, octet_length(id) + octet_length(metadata::text)"
        + (sources ? " + coalesce(octet_length(source_text), 0) + coalesce(octet_length(source_image), 0)" : "")
        + " FROM " + SqlNames.qualified(collection.table()) + " WHERE id = ANY (?)";
    Map<String, Long> sizes = new HashMap<>();
    try (PreparedStatement p = c.prepareStatement(sql)) {
      p.setArray(1, c.createArrayOf("text", ids.toArray()));
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          sizes.put(r.getString(1), r.getLong(2) + vectorBytes + ITEM_OVERHEAD_BYTES);
        }
      }
    }
    // one pass: the whole answer's size, and where it first passes the limit
    long total = 0;
    long fitting = 0;
    int firstOver = -1;
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < ids.size(); i++) {
      Long size = seen.add(ids.get(i)) ? sizes.get(ids.get(i)) : null;
      if (size == null) {
        continue;
      }
      if (firstOver < 0 && total > 0 && total + size > Limits.MAX_GET_ANSWER_BYTES) {
        firstOver = i;
        fitting = total;
      }
      total += size;
    }
    if (firstOver >= 0) {
      throw new LimitExceededException("ids: the items asked for come to about " + total + " bytes"
          + (sources ? " with their sources" : "") + ", over the limit of " + Limits.MAX_GET_ANSWER_BYTES
          + " bytes for one Get answer; the items of the first " + firstOver + " ids fit (" + fitting + " bytes), ids["
          + firstOver + "] would pass the limit: ask for fewer ids at a time");
    }
  }

  /**
   * Up to {@code max} ids stored in both {@code collection}'s table and {@code other}, the
   * same ones each time (ordered by a hash of the id): the sample an evaluation compares.
   */
  public List<String> sampleShared(Collection collection, VersionTable other, int max) {
    return db.read(c -> {
      List<String> out = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement("SELECT a.id FROM " + SqlNames.qualified(collection.table())
          + " a JOIN " + SqlNames.qualified(other.table()) + " b ON b.id = a.id ORDER BY md5(a.id) LIMIT ?")) {
        p.setInt(1, max);
        try (ResultSet r = p.executeQuery()) {
          while (r.next()) {
            out.add(r.getString(1));
          }
        }
      }
      return out;
    });
  }

  /** Deletes {@code ids} from every version the collection writes; returns how many the active one held. */
  public int delete(Collection collection, List<String> ids) {
    checkIds(ids, "ids");
    if (ids.isEmpty()) {
      return 0;
    }
    String[] sorted = new java.util.TreeSet<>(ids).toArray(new String[0]);
    return db.inTransaction(c -> {
      lockEpoch(c, collection);
      if (collection.rollout() != null) {
        dropWork(c, collection.rollout().id(), sorted);
        deleteRows(c, collection.rollout().replica().table(), sorted);
      }
      return deleteRows(c, collection.table(), sorted);
    });
  }

  /**
   * The {@code topK} nearest items, best first ({@link NearestSearch}).
   *
   * @param efSearch HNSW candidate list size; 0 for the defaults
   */
  public List<SearchHit> search(Collection collection, SearchQuery query, int efSearch) {
    return nearest.search(collection, query, efSearch);
  }

  /** The hnsw.ef_search of an unfiltered search: {@code max(64, 2 * topK)}, at most pgvector's 1000. */
  public static int defaultEfSearch(int topK) {
    return NearestSearch.defaultEfSearch(topK);
  }

  /** {@code ::halfvec(d)} for half-precision collections; vectors travel as {@code vector}. */
  static String castFor(CollectionSpec spec) {
    return cast(spec);
  }
}
