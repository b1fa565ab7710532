package io.jointspace.server.store;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.jointspace.server.errors.InvalidInputException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Partial HNSW indexes for the frequent values of a collection's indexed keys
 * ({@link CollectionSpec#indexedKeys()}): for each value such a key holds in at least
 * {@link #MIN_ITEMS} items (the {@link #MAX_VALUES} most frequent per key), an index of the
 * items holding it, {@code CREATE INDEX ... USING hnsw (embedding ...) WHERE metadata @>
 * '{"key": value}'}. This is pgvector's own advice for filtering on a few distinct values: a
 * search whose filter requires {@code key = value} (alone or in an {@code and}) is planned on
 * that index, as its filter's containment test implies the index's predicate, and walks a graph
 * of matching items only, where a walk of the whole graph passes over every item that does not
 * match (docs/sql.md, "Filtered search").
 *
 * <p>PostgreSQL keeps what exists: each partial index is named {@code <table>_k<8 hex digits>}
 * (a hash of its key and value) and carries its key and value as its comment, so every server
 * process reads the same state and a server that dies leaves nothing it cannot read. The
 * indexes are made and dropped by {@link IndexBuilds}' sweep while it holds the table's
 * exclusive build lock: one server at a time per table, never during a bulk load, and stopped
 * by a drop of the table ({@link IndexBuilds#stop}). Each sweep of every server reads which
 * are valid ({@link #refresh}), so that its searches know which filters an index serves
 * ({@link #covered}).
 *
 * <p>The values are found by reading the whole table (one pass per key), on the first sweep of
 * a server and again once writes changed at least {@link #RESCAN_CHANGES} items and a tenth of
 * the table (PostgreSQL's statistics count them), or when the keys change. A partial index whose
 * key is no longer indexed, or that is invalid (a build cut short) or carries no readable
 * comment, is dropped, and built again when still wanted.
 *
 * <p>Thread safety: {@link #covered} from gRPC threads; the rest on the sweep's thread.
 */
public final class KeyIndexes {
  private static final Logger log = LoggerFactory.getLogger(KeyIndexes.class);
  /** Indexed keys a collection may have. */
  static final int MAX_KEYS = 8;
  /** Items a value needs for an index of its own: fewer are ranked exactly, quickly. */
  static final int MIN_ITEMS = 100;
  /** Values of one key that get an index of their own, the most frequent first. */
  static final int MAX_VALUES = 100;
  /** Writes (inserted, updated, deleted rows) since the last pass that make the values be read again, at least. */
  static final long RESCAN_CHANGES = 100;

  /** Per table (unqualified name): the containment of each valid partial index, as {@link FilterSql} writes it. */
  private final Map<String, Set<String>> covered = new ConcurrentHashMap<>();
  /** Per table: when its values were last read, in this process. */
  private final Map<String, Pass> passes = new ConcurrentHashMap<>();

  /** What a value pass saw: the keys, and the table's write count and rows then. */
  private record Pass(List<String> keys, long writes, long rows) {}

  /** A partial index: its name, its key path as given, and its value as JSON text. */
  record KeyIndex(String name, String key, String valueJson, boolean valid) {
    String containment() {
      return FilterSql.containment(path(key), valueJson);
    }
  }

  /**
   * Checks indexed keys as CreateCollection and UpdateCollection take them.
   *
   * @throws InvalidInputException naming {@code field} and the index of a bad key
   */
  static void checkKeys(List<String> keys, String field) {
    if (keys.size() > MAX_KEYS) {
      throw new LimitExceededException(field + " has " + keys.size() + " keys, over the limit of " + MAX_KEYS);
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < keys.size(); i++) {
      String key = keys.get(i);
      String at = field + "[" + i + "]";
      if (key.length() > Limits.MAX_KEY_CHARS) {
        throw new LimitExceededException(at + " is " + key.length() + " characters, over the limit of "
            + Limits.MAX_KEY_CHARS);
      }
      if (key.isEmpty() || path(key).stream().anyMatch(String::isEmpty)) {
        throw new InvalidInputException(at + " is empty or has an empty part (keys are separated by '.')");
      }
      if (key.indexOf('\0') >= 0) {
        throw new InvalidInputException(at + " contains a NUL character");
      }
      if (!seen.add(key)) {
        throw new InvalidInputException(at + " repeats the key '" + key + "'");
      }
    }
  }

  private static List<String> path(String key) {
    return List.of(key.split("\\.", -1));
  }

  /**
   * The containment tests ({@link FilterSql#containment}) of the valid partial indexes of
   * {@code table} (unqualified), as this process last read them: a filter that requires one of
   * them is served by that index, which holds exactly the items it matches.
   */
  Set<String> covered(String table) {
    return covered.getOrDefault(table, Set.of());
  }

  /** Forgets what it knew of tables other than {@code tables}. */
  void retain(Collection<String> tables) {
    covered.keySet().retainAll(tables);
    passes.keySet().retainAll(tables);
  }

  /** Forgets {@code table}'s partial indexes (a bulk load dropped them). */
  void forget(String table) {
    covered.remove(table);
    passes.remove(table);
  }

  /** Reads which partial indexes of {@code table} are valid, for {@link #covered}. */
  List<KeyIndex> refresh(Connection c, String table) throws SQLException {
    List<KeyIndex> found = list(c, table);
    Set<String> valid = new HashSet<>();
    for (KeyIndex k : found) {
      if (k.valid() && k.key() != null) {
        valid.add(k.containment());
      }
    }
    if (valid.isEmpty()) {
      covered.remove(table);
    } else {
      covered.put(table, Set.copyOf(valid));
    }
    return found;
  }

  /** The partial indexes of {@code table}, by their names; key and value null where the comment cannot be read. */
  static List<KeyIndex> list(Connection c, String table) throws SQLException {
    List<KeyIndex> out = new ArrayList<>();
    try (PreparedStatement p = c.prepareStatement("SELECT i.relname, x.indisvalid, obj_description(i.oid, 'pg_class')"
        + " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        + " WHERE x.indrelid = to_regclass(?) AND " + isKeyIndex("i.relname", "?::text") + " ORDER BY i.relname")) {
      p.setString(1, SqlNames.qualified(table));
      p.setString(2, table);
      p.setString(3, table);
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          String key = null;
          String value = null;
          String comment = r.getString(3);
          if (comment != null) {
            try {
              JsonObject o = JsonParser.parseString(comment).getAsJsonObject();
              key = o.get("key").getAsString();
              value = o.get("value").toString();
            } catch (RuntimeException e) {
              key = null; // not one of ours as written: dropped by the next pass
            }
          }
          out.add(new KeyIndex(r.getString(1), key, value, r.getBoolean(2)));
        }
      }
    }
    return out;
  }

  /**
   * Brings {@code table}'s partial indexes in line with {@code spec}'s indexed keys: drops
   * those of other keys and broken ones, reads the values when due, builds the missing ones.
   * Called with the table's exclusive build lock held on {@code c}, in auto-commit mode.
   */
  void maintain(Connection c, CollectionSpec spec, String table, int memoryMb) throws SQLException {
    List<KeyIndex> existing = refresh(c, table);
    Set<String> keys = new HashSet<>(spec.indexedKeys());
    Set<String> kept = new HashSet<>();
    boolean dropped = false;
    for (KeyIndex k : existing) {
      if (k.valid() && k.key() != null && keys.contains(k.key())) {
        kept.add(k.name());
        continue;
      }
      try (Statement s = c.createStatement()) {
        s.execute("DROP INDEX CONCURRENTLY IF EXISTS " + Database.SCHEMA + "." + SqlNames.quote(k.name()));
      }
      dropped = true;
      log.info("Dropped partial index {} of {} (key {}: {})", k.name(), table, k.key(),
          k.key() == null ? "no readable comment" : !k.valid() ? "invalid" : "no longer indexed");
    }
    if (dropped) {
      refresh(c, table);
    }
    if (keys.isEmpty()) {
      passes.remove(table);
      return;
    }
    long[] stats = writesAndRows(c, table);
    Pass last = passes.get(table);
    boolean due = dropped || last == null || !last.keys().equals(spec.indexedKeys())
        || stats[0] - last.writes() >= Math.max(RESCAN_CHANGES, last.rows() / 10);
    if (!due) {
      return;
    }
    Map<String, List<String>> wanted = new LinkedHashMap<>();
    for (String key : spec.indexedKeys()) {
      wanted.put(key, frequentValues(c, table, key));
    }
    passes.put(table, new Pass(spec.indexedKeys(), stats[0], stats[1]));
    int built = 0;
    for (Map.Entry<String, List<String>> e : wanted.entrySet()) {
      for (String value : e.getValue()) {
        String name = indexName(table, e.getKey(), value);
        if (kept.contains(name)) {
          continue;
        }
        long t0 = System.nanoTime();
        build(c, spec, table, name, e.getKey(), value, memoryMb);
        built++;
        log.info("Built partial index {} of {} for {} = {} in {} ms", name, table, e.getKey(), value,
            (System.nanoTime() - t0) / 1_000_000);
        refresh(c, table); // searches use each one as soon as it is there
      }
    }
    if (built > 0) {
      log.info("Table {}: {} partial indexes built for keys {}", table, built, spec.indexedKeys());
    }
  }

  /** The table's rows inserted, updated and deleted so far, and its live rows (PostgreSQL's statistics). */
  private static long[] writesAndRows(Connection c, String table) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT coalesce(n_tup_ins + n_tup_upd + n_tup_del, 0),"
        + " coalesce(n_live_tup, 0) FROM pg_stat_user_tables WHERE relid = to_regclass(?)")) {
      p.setString(1, SqlNames.qualified(table));
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? new long[] {r.getLong(1), r.getLong(2)} : new long[] {0, 0};
      }
    }
  }

  /** The values (JSON text) of {@code key} held by at least {@link #MIN_ITEMS} items, most frequent first. */
  private static List<String> frequentValues(Connection c, String table, String key) throws SQLException {
    List<String> values = new ArrayList<>();
    try (PreparedStatement p = c.prepareStatement("SELECT v::text FROM (SELECT jsonb_path_query_first(metadata,"
        + " ?::jsonpath, '{}'::jsonb, true) AS v FROM " + SqlNames.qualified(table) + ") s"
        + " WHERE jsonb_typeof(v) IN ('string', 'number', 'boolean')"
        + " GROUP BY v HAVING count(*) >= ? ORDER BY count(*) DESC, v LIMIT ?")) {
      p.setString(1, FilterSql.jsonPath(path(key).toArray(String[]::new)));
      p.setInt(2, MIN_ITEMS);
      p.setInt(3, MAX_VALUES);
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          values.add(r.getString(1));
        }
      }
    }
    return values;
  }

  /**
   * SQL true when the index named {@code indexName} (an SQL expression) is named as {@link
   * #indexName} names the partial indexes of the table named {@code table} (an expression).
   */
  static String isKeyIndex(String indexName, String table) {
    return "starts_with(" + indexName + ", " + table + " || '_k') AND length(" + indexName + ") = length(" + table
        + ") + 10";
  }

  /** {@code <table>_k} and the first 8 hex digits of SHA-256 of the key and value. */
  static String indexName(String table, String key, String valueJson) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256")
          .digest((key + '\0' + valueJson).getBytes(StandardCharsets.UTF_8));
      return table + "_k" + HexFormat.of().formatHex(d, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void build(Connection c, CollectionSpec spec, String table, String name, String key, String valueJson,
      int memoryMb) throws SQLException {
    String containment = FilterSql.containment(path(key), valueJson);
    JsonObject comment = new JsonObject();
    comment.addProperty("key", key);
    comment.add("value", JsonParser.parseString(valueJson));
    IndexBuilds.createIndex(c, CollectionCatalog.hnswIndexSql(spec, table, name, true,
        "metadata @> " + SqlNames.literal(containment) + "::jsonb"), memoryMb);
    try (Statement s = c.createStatement()) {
      s.execute("COMMENT ON INDEX " + Database.SCHEMA + "." + SqlNames.quote(name) + " IS "
          + SqlNames.literal(comment.toString()));
    }
  }
}
