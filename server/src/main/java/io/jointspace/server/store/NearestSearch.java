package io.jointspace.server.store;

import com.pgvector.PGvector;
import io.jointspace.server.errors.InvalidInputException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nearest-neighbour search over a collection's table. Unfiltered: one HNSW index scan.
 * Filtered: when few rows match, every match is ranked exactly in one statement that also
 * counts them; when many match, pgvector's iterative scan walks the index, filtering as it
 * goes, until top_k match (falling back to exact ranking when the walk stops early). The plan
 * each search took is logged at DEBUG.
 */
final class NearestSearch {
  private static final Logger log = LoggerFactory.getLogger(NearestSearch.class);
  private final Database db;
  private final int exactFilterRows;

  NearestSearch(Database db, int exactFilterRows) {
    this.db = db;
    this.exactFilterRows = exactFilterRows;
  }

  /** The hnsw.ef_search a search uses: {@code max(64, 2 * topK)}, at most pgvector's 1000. */
  static int defaultEfSearch(int topK) {
    return Math.min(Limits.MAX_EF_SEARCH, Math.max(64, 2 * topK));
  }

  /**
   * The {@code topK} nearest items, best first.
   *
   * @param efSearch HNSW candidate list size; 0 for {@link #defaultEfSearch} (unfiltered) or
   *     {@link #filteredEfSearch} (filtered walks)
   */
  List<SearchHit> search(Collection collection, SearchQuery query, int efSearch) {
    if (query.topK() < 1) {
      throw new InvalidInputException("top_k must be positive, got " + query.topK());
    }
    if (query.topK() > Limits.MAX_TOP_K) {
      throw new LimitExceededException("top_k " + query.topK() + " is over the limit of " + Limits.MAX_TOP_K);
    }
    if (efSearch < 0 || efSearch > Limits.MAX_EF_SEARCH) {
      throw new InvalidInputException("ef_search must be within 1.." + Limits.MAX_EF_SEARCH + " (0 for the default), got "
          + efSearch);
    }
    int ef = efSearch == 0 ? defaultEfSearch(query.topK()) : efSearch;
    FilterSql.Compiled filter = query.filter() == null ? null : FilterSql.compile(query.filter(), "filter");
    if (query.vector() != null) {
      ItemStore.checkVector(query.vector(), collection, "vector.values");
    } else {
      ItemStore.checkId(query.itemId(), "id");
    }
    CollectionSpec spec = collection.spec();
    String table = SqlNames.qualified(collection.table());
    String distance = "embedding " + spec.metric().operator() + " ?::vector" + ItemStore.castFor(spec);
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
      Bound bound = new Bound(vector, filter, query, spec.metric());
      try (Statement s = c.createStatement()) {
        s.execute("SET LOCAL hnsw.ef_search = " + ef);
      }
      List<SearchHit> hits;
      Plan plan;
      long matched = -1;
      if (filter == null) {
        hits = run(c, nearest, bound).hits();
        plan = Plan.INDEX;
      } else {
        // Few matches: rank them all exactly, in one statement that also counts them (the GIN
        // index finds equals/in matches). Many: walk the HNSW graph, filtering as it goes
        // (pgvector's iterative scan), which finds top_k of them without reading them all.
        exact(c);
        Ranked few = run(c, fewMatches, bound);
        hits = few.hits();
        matched = few.matched();
        plan = Plan.EXACT;
        if (few.matched() > exactFilterRows) {
          plan = Plan.WALK;
          walk(c, LONG_WALK_TUPLES);
          if (efSearch == 0) {
            // a wider candidate list per step keeps recall up when only a few percent match
            try (Statement s = c.createStatement()) {
              s.execute("SET LOCAL hnsw.ef_search = " + filteredEfSearch(query.topK()));
            }
          }
          hits = run(c, nearest, bound).hits();
          if (hits.size() < query.topK()) {
            // the walk stopped (hnsw.max_scan_tuples) before top_k matches: rank exactly
            exact(c);
            hits = run(c, nearest, bound).hits();
            plan = Plan.WALK_THEN_EXACT;
          }
        }
      }
      if (log.isDebugEnabled()) {
        log.debug("Search of '{}' for the top {}: plan {}{}", collection.name(), query.topK(), plan,
            matched < 0 ? "" : matched > exactFilterRows ? ", over " + exactFilterRows + " rows match"
                : ", " + matched + " rows match");
      }
      // iterative scans return nearly sorted rows: order them exactly, best first
      List<SearchHit> out = new ArrayList<>(hits);
      out.sort(Comparator.comparingDouble(SearchHit::score).reversed());
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
  static int filteredEfSearch(int topK) {
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

  /**
   * How a search found its hits: {@code INDEX} (unfiltered HNSW scan), {@code EXACT} (every
   * match ranked), {@code WALK} (filtered HNSW walk), {@code WALK_THEN_EXACT} (the walk found
   * fewer than top_k, so every match was ranked).
   */
  enum Plan { INDEX, EXACT, WALK, WALK_THEN_EXACT }

  /** What a statement's parameters are, in order. */
  private enum Slot { VECTOR, FILTER, ID }

  /** A search statement; {@code counts} when its last column is the number of matching rows. */
  private record SearchSql(String sql, List<Slot> slots, boolean counts) {}

  /** What a search statement's parameters are bound to, and how its distances become scores. */
  private record Bound(float[] vector, FilterSql.Compiled filter, SearchQuery query, Metric metric) {}

  /** Hits and, for a counting statement, how many rows matched (-1 otherwise). */
  private record Ranked(List<SearchHit> hits, long matched) {}

  @SafeVarargs
  private static List<Slot> concat(List<Slot>... parts) {
    List<Slot> out = new ArrayList<>();
    for (List<Slot> p : parts) {
      out.addAll(p);
    }
    return out;
  }

  /** Runs a search statement. */
  private static Ranked run(Connection c, SearchSql statement, Bound bound) throws SQLException {
    SearchQuery query = bound.query();
    List<SearchHit> hits = new ArrayList<>(query.topK());
    long matched = statement.counts() ? 0 : -1;
    try (PreparedStatement p = c.prepareStatement(statement.sql())) {
      PGvector q = new PGvector(bound.vector());
      int i = 1;
      for (Slot slot : statement.slots()) {
        switch (slot) {
          case VECTOR -> p.setObject(i++, q);
          case FILTER -> i = bound.filter().bind(c, p, i);
          case ID -> p.setString(i++, query.itemId());
        }
      }
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          int col = 3;
          float score = score(bound.metric(), r.getDouble(2));
          String metadata = query.includeMetadata() ? r.getString(col++) : null;
          float[] v = query.includeVectors() ? ((PGvector) r.getObject(col++)).toArray() : null;
          if (statement.counts()) {
            matched = r.getLong(col);
          }
          hits.add(new SearchHit(r.getString(1), score, metadata, v));
        }
      }
    }
    return new Ranked(hits, matched);
  }

  /** Higher is closer: cosine similarity, inner product, or minus the L2 distance. */
  private static float score(Metric metric, double distance) {
    return (float) (metric == Metric.COSINE ? 1 - distance : -distance);
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
