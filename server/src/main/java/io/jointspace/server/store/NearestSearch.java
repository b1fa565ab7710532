package io.jointspace.server.store;

import com.pgvector.PGvector;
import io.jointspace.server.errors.InvalidInputException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import java.util.function.Supplier;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nearest-neighbour search over a collection's table, one round trip to PostgreSQL per
 * statement: the settings it needs ({@code statement_timeout}, {@code hnsw.ef_search}, plan
 * settings) go as {@code set_config(..., true)} in the same execute as the search statement,
 * which pgjdbc sends with one Sync, so both run in one implicit transaction and the settings
 * end with it (see {@link Database#inRoundTrips}).
 *
 * <p>A table no larger than {@link #EXACT_ROWS} rows of its vectors make (its size on disk) is
 * ranked exactly, whether it has its HNSW index yet or not (a bulk load builds it at the end), so a
 * small collection answers the same before and after its index exists. Larger tables:
 * unfiltered, one HNSW index scan (again, with more candidates, when its hits say the query is
 * far from the data and the request left ef_search to the server: {@link Widening}); filtered, a walk of the HNSW index that filters as it goes
 * (pgvector's iterative scan), bounded in the rows it may read; when it finds fewer than
 * top_k, every match is ranked exactly (the GIN index finds them), which counts them: for a
 * minute, searches with the same filter rank exactly at once when few rows matched, and walk
 * again, ten times as far, before ranking when many more did ({@link SelectiveFilters}); a walk
 * whose nearest hit is far from the data walks again, wider ({@link #walkedWider}).
 * A filter that requires a value with a partial index of its own ({@link KeyIndexes}) walks
 * that index, which the planner picks, with an unfiltered search's ef_search. The table's
 * size comes from {@link TableSizes} (read at most every 2 s), so each search sends the one
 * statement its plan needs. Exact rankings break ties in distance by id. The plan each search
 * took ({@link SearchPlan}) is logged at DEBUG and told to the store's {@link ReadListener}.
 *
 * <p>The collection may come from {@link CollectionCatalog#cached}: every search statement
 * checks, in its own snapshot, that the catalog row still has the epoch and creation time of
 * {@code collection} (a rollout that adds, switches or drops a table bumps the epoch), and
 * returns no rows otherwise. A search with no rows then reads the catalog row and throws
 * {@link CollectionChangedException} when it changed, so no search answers from a table the
 * collection no longer uses.
 */
final class NearestSearch {
  private static final Logger log = LoggerFactory.getLogger(NearestSearch.class);
  private final Database db;
  private final int walkTuples;
  private final int smallRows;
  private final SelectiveFilters selective;
  /** Which filters a partial index serves, per table. */
  private final KeyIndexes keys;
  /** Table sizes for the small-table rule, read at most every {@link TableSizes#FRESH_FOR}. */
  private final TableSizes sizes = new TableSizes();
  /** Tables' scales: how far their items' own neighbours are ({@link Widening}). */
  private final Widening.Scales scales = new Widening.Scales();
  /** Told which plan each search took. */
  private final ReadListener listener;

  /**
   * @param walkTuples the most rows a filtered walk may read before every match is ranked exactly
   * @param smallRows a table no larger than this many rows make is ranked exactly ({@link #EXACT_ROWS}); -1: none is
   * @param selective the filters whose walks found too few lately, shared by the searches of a store
   * @param keys the partial indexes of indexed keys, as the store's index sweep last read them
   * @param listener told which plan each search took
   */
  NearestSearch(Database db, int walkTuples, int smallRows, SelectiveFilters selective, KeyIndexes keys,
      ReadListener listener) {
    this.db = db;
    this.listener = listener;
    this.keys = keys;
    this.walkTuples = walkTuples;
    this.smallRows = smallRows;
    this.selective = selective;
  }

  /**
   * How many rows filters (per table, with their values) matched when every match was last
   * ranked exactly, after a walk of the HNSW index had found fewer than top_k: a filter that at
   * most {@link #EXACT_ROWS} rows match is ranked exactly at once, and one that more rows match
   * than a farther walk reads ({@link #fartherTuples}) walks farther before it is ranked. An entry
   * is trusted for {@link #TRUST_NANOS}; then the filter is learned again, so a filter that came
   * to match more or fewer rows is planned for what it matches now. Bounded: past {@link #MAX}
   * entries it starts over.
   */
  static final class SelectiveFilters {
    static final int MAX = 10_000;
    static final long TRUST_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(60);

    private record Seen(long matched, long at) {}

    private final java.util.concurrent.ConcurrentHashMap<String, Seen> seen =
        new java.util.concurrent.ConcurrentHashMap<>();

    static String key(String table, FilterSql.Compiled filter, int topK) {
      return table + '\0' + topK + '\0' + filter.key();
    }

    /** The rows the filter matched when it was last ranked exactly, within {@link #TRUST_NANOS}; -1 if unknown. */
    long matched(String key) {
      Seen s = seen.get(key);
      return s != null && System.nanoTime() - s.at() < TRUST_NANOS ? s.matched() : -1;
    }

    void matched(String key, long matched) {
      if (seen.size() >= MAX) {
        seen.clear();
      }
      seen.put(key, new Seen(matched, System.nanoTime()));
    }
  }

  /** The hnsw.ef_search a search uses: {@code max(64, 2 * topK)}, at most pgvector's 1000. */
  static int defaultEfSearch(int topK) {
    return Math.min(Limits.MAX_EF_SEARCH, Math.max(64, 2 * topK));
  }

  /**
   * The {@code topK} nearest items, best first.
   *
   * @param efSearch HNSW candidate list size; 0 for {@link #defaultEfSearch}
   * @throws CollectionChangedException when the collection's tables are no longer those of
   *     {@code collection}: read it again and retry
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
    // a required equality that a partial index serves is written as a literal, for the walk's generic plan
    FilterSql.Compiled filter = query.filter() == null ? null
        : FilterSql.compile(query.filter(), "filter", keys.covered(collection.table()));
    if (query.vector() != null) {
      ItemStore.checkVector(query.vector(), collection, "vector.values");
    } else {
      ItemStore.checkId(query.itemId(), "id");
    }
    CollectionSpec spec = collection.spec();
    String table = SqlNames.qualified(collection.table());
    // the query vector goes once, as a binary real[] parameter, converted once per statement (a
    // sub-select, which PostgreSQL runs once as an InitPlan): a cast in the expression itself is
    // run again for every row a generic plan returns: 11 to 25 us more of a 0.43 to 0.48 ms
    // statement on the benchmark's 512 dimensions (p50s, both forms alternating on one connection)
    String distance = "embedding " + spec.metric().operator() + " (SELECT ?::real[]::vector" + ItemStore.castFor(spec)
        + ")";
    String columns = (query.includeMetadata() ? ", metadata::text" : "") + (query.includeVectors() ? ", embedding::vector" : "");
    List<String> conditions = new ArrayList<>();
    List<Slot> where = new ArrayList<>(List.of(Slot.VECTOR, Slot.GUARD));
    conditions.add(GUARD);
    if (filter != null) {
      conditions.add(filter.sql());
      where.add(Slot.FILTER);
    }
    if (query.itemId() != null) {
      conditions.add("id <> ?");
      where.add(Slot.ID);
    }
    // LIMITs are validated integer literals; ORDER BY the output column is the bare distance, which the index serves
    String head = "SELECT id, " + distance + " AS distance" + columns;
    String from = " FROM " + table + " WHERE " + String.join(" AND ", conditions);
    String select = head + from;
    // every match ranked: OFFSET 0 keeps the ORDER BY out of the scan, so no plan (whatever the
    // settings when it was made) can answer it with the HNSW index; the last column counts the matches
    String exact = "SELECT *, count(*) OVER () AS matched FROM (" + select + " OFFSET 0) m";
    String exactSql = exact + " ORDER BY distance, id LIMIT " + query.topK();
    // a small table is ranked exactly, a larger one through the index (a filtered walk returns
    // its top_k nearly in order, sorted below; an unfiltered one at least Widening.SAMPLE, for
    // its estimate of how far the query is from the data). Walking on to twice top_k matches
    // and keeping the nearest top_k found no more of the true top 10 on the benchmark's table
    // (recall@10 0.982 and 0.981 for a 10% range, the same to the fourth digit for 10% and 1%
    // equalities and a 5% and; 300 noisy queries each) and read twice the rows: a 10% range
    // walk took 3.3 to 3.9 ms for 20 rows, 2.2 to 2.6 ms for 10 (pgbench, 1 client)
    int indexRows = filter == null ? Math.max(query.topK(), Widening.SAMPLE) : query.topK();
    String indexSql = head + ", -1::bigint AS matched" + from + " ORDER BY distance LIMIT " + indexRows;
    long smallBytes = smallRows < 0 ? -1 : (long) smallRows * (spec.vectorType().bytes(spec.dimension()) + ROW_BYTES);
    // a query far from every item alike: the widest walk, on past its list, and its rows, nearly
    // in order, ranked exactly; "+ 0" keeps the planner from taking them as sorted by distance
    // (pgvector's own advice for re-ranking an iterative scan's rows). The walk reads ids and
    // distances only, the top rows' columns are read after: converting every walked row's
    // metadata to text took a fifth of the statement's time (EXPLAIN ANALYZE). Written only for
    // the searches that take this plan
    Supplier<String> flatSql = () -> "WITH w AS MATERIALIZED (SELECT id, " + distance
        + " AS distance" + from + " ORDER BY distance LIMIT " + Widening.FLAT_ROWS + "), top AS (SELECT id, distance"
        + " FROM w ORDER BY distance + 0, id LIMIT " + indexRows + ") SELECT top.id, top.distance" + columns
        + ", -1::bigint AS matched FROM top JOIN " + table + " USING (id) ORDER BY top.distance, top.id";
    Statements statements = new Statements(exactSql, indexSql, flatSql, where);
    return db.inRoundTrips((c, timeout) -> {
      float[] vector = query.vector() != null ? query.vector() : storedVector(c, collection, query.itemId(), timeout);
      Bound bound = new Bound(vector, filter, query, spec.metric(), collection, table);
      Found found;
      if (smallBytes >= 0 && sizes.bytes(c, table, timeout) <= smallBytes) {
        // ranked exactly, with the index or without: the same answer before and after a build
        found = new Found(run(c, exactSql, where, bound, settings(timeout).exact(), false).hits(), SearchPlan.SMALL, ef);
      } else if (filter == null) {
        found = unfiltered(c, timeout, statements, bound, efSearch, ef);
      } else {
        found = filtered(c, timeout, statements, bound, efSearch, ef);
      }
      List<SearchHit> hits = found.hits();
      SearchPlan plan = found.plan();
      if (hits.isEmpty()) {
        requireCurrent(c, collection);
      }
      // iterative scans return nearly sorted rows: order them exactly, best first, ties by id as SQL does
      List<SearchHit> out = new ArrayList<>(hits);
      out.sort(Comparator.comparingDouble(SearchHit::score).reversed().thenComparing(SearchHit::id));
      List<SearchHit> top = out.size() > query.topK() ? out.subList(0, query.topK()) : out;
      listener.onSearch(plan);
      if (log.isDebugEnabled()) {
        log.debug("Search of '{}' for the top {}: plan {}, {} hits{}", collection.name(), query.topK(), plan,
            top.size(), plan.walkedWider() ? ", ef_search " + found.ef() : "");
      }
      return Collections.unmodifiableList(top);
    });
  }

  /**
   * A search's statements: every match ranked, the index scan, the widest index scan on past its
   * candidate list with its rows ranked ({@link Widening#isFlat}), and what their parameters are.
   */
  private record Statements(String exact, String index, Supplier<String> flat, List<Slot> where) {}

  /** What a plan found, the plan, and the ef_search of its last walk. */
  private record Found(List<SearchHit> hits, SearchPlan plan, int ef) {}

  /**
   * One HNSW index scan; when the request left ef_search to the server and the hits are far
   * from the data, again, wider, until two walks in a row agree or a wider walk finds hits that
   * are not far (the first one had lost its way) ({@link Widening}).
   */
  private Found unfiltered(Connection c, @Nullable Duration timeout, Statements s, Bound bound, int efSearch, int ef)
      throws SQLException {
    Metric metric = bound.metric();
    List<SearchHit> hits = run(c, s.index(), s.where(), bound, settings(timeout).ef(ef), true).hits();
    Widening.Scale scale = efSearch == 0 ? scale(c, bound.collection(), timeout) : Widening.Scale.NONE;
    if (!Widening.isFar(metric, hits, scale.distance()) || !indexValid(c, bound)) {
      return new Found(hits, SearchPlan.INDEX, ef);
    }
    if (Widening.isFlat(metric, bound.vector(), hits, scale)) {
      hits = run(c, s.flat().get(), s.where(), bound, settings(timeout).ef(Limits.MAX_EF_SEARCH).onPastTheList(), true)
          .hits();
      return new Found(hits, SearchPlan.FLAT, Limits.MAX_EF_SEARCH);
    }
    return widened(c, s, bound, hits, ef, Math.max(bound.query().topK(), Widening.SAMPLE), 0,
        width -> settings(timeout).ef(width), wider -> Widening.isFar(metric, wider, scale.distance()), SearchPlan.WIDENED);
  }

  /**
   * Walks {@code s}'s index scan again after a first walk of {@code ef} candidates, each time
   * wider ({@link Widening#wider}), until two walks in a row agree on their nearest {@code
   * compared} hits, a walk's hits are no longer {@code far}, or pgvector's most candidates were
   * walked; a wider walk with fewer than {@code needed} hits ends it too, leaving the narrower
   * walk's. The rule for unfiltered and for filtered searches alike; they differ in how a walk is
   * told far and in its settings ({@code walk}, given the candidate list's width).
   */
  private static Found widened(Connection c, Statements s, Bound bound, List<SearchHit> first, int ef, int compared,
      int needed, IntFunction<Settings> walk, Predicate<List<SearchHit>> far,
      SearchPlan plan) throws SQLException {
    List<SearchHit> hits = first;
    int walkedEf = ef;
    while (walkedEf < Limits.MAX_EF_SEARCH) {
      int width = Widening.wider(walkedEf, walkedEf == ef);
      List<SearchHit> wider = run(c, s.index(), s.where(), bound, walk.apply(width), true).hits();
      if (wider.size() < needed) {
        break; // read its bound of rows first: the narrower walk's hits stand
      }
      List<SearchHit> narrower = hits;
      hits = wider;
      walkedEf = width;
      if (!far.test(hits) || Widening.agree(narrower, hits, compared)) {
        break;
      }
    }
    return new Found(hits, plan, walkedEf);
  }

  /**
   * A filtered search. A filter that requires a value with a partial index of its own walks that
   * index. Otherwise: ranked exactly at once when few rows matched it lately; else a walk of the
   * HNSW graph that filters as it goes, and when that reads its bound of rows without finding
   * enough matches (few match near the query), a walk ten times as far if many more rows matched
   * lately than it reads (a caption of red shapes filtered on blue ones: the matches are farther
   * off), then every match ranked exactly, which counts them for the next searches ({@link
   * SelectiveFilters}).
   */
  private Found filtered(Connection c, @Nullable Duration timeout, Statements s, Bound bound, int efSearch, int ef)
      throws SQLException {
    SearchQuery query = bound.query();
    String key = SelectiveFilters.key(bound.table(), bound.filter(), query.topK());
    boolean keyed = bound.filter().keyed();
    long matched = keyed ? -1 : selective.matched(key);
    if (matched >= 0 && matched <= EXACT_ROWS) {
      Ranked ranked = run(c, s.exact(), s.where(), bound, settings(timeout).exact(), false);
      selective.matched(key, ranked.matched());
      return new Found(ranked.hits(), SearchPlan.EXACT, ef);
    }
    // on a partial index every item the walk meets has the value: it needs no more candidates
    // than an unfiltered search
    int walkEf = efSearch != 0 || keyed ? ef : filteredEfSearch(query.topK());
    List<SearchHit> hits = run(c, s.index(), s.where(), bound, settings(timeout).ef(walkEf).walk(walkTuples), true)
        .hits();
    SearchPlan plan = keyed ? SearchPlan.KEYED : SearchPlan.WALK;
    if (hits.size() < query.topK() && matched > fartherTuples(walkTuples)) {
      hits = run(c, s.index(), s.where(), bound, settings(timeout).ef(walkEf).walk(fartherTuples(walkTuples)), true)
          .hits();
      plan = SearchPlan.WALK_FARTHER;
    }
    if (hits.size() >= query.topK()) {
      // only a walk of the whole graph: a farther walk found matches that lie away from the query,
      // not a query away from the data; a partial index's walk is an unfiltered walk of a smaller
      // graph, which found its top 10 between clusters in one walk (walkedWider)
      Found wider = efSearch == 0 && plan == SearchPlan.WALK ? walkedWider(c, timeout, s, bound, walkEf, hits) : null;
      return wider != null ? wider : new Found(hits, plan, walkEf);
    }
    // fewer than it looked for within its bound of rows: the few it found need not be the nearest
    Ranked ranked = run(c, s.exact(), s.where(), bound, settings(timeout).exact(), false);
    if (!keyed) {
      selective.matched(key, ranked.matched());
    }
    return new Found(ranked.hits(), keyed ? SearchPlan.KEYED_THEN_EXACT : SearchPlan.WALK_THEN_EXACT, walkEf);
  }

  /**
   * A filtered walk that found its top_k, walked again wider when even its nearest hit is far
   * from the data ({@link Widening#isNearestFar}): a query between two clusters, whose first walk
   * settled among the matches of one neighbourhood and never reached nearer ones in the other.
   * Widened as an unfiltered search is ({@link #widened}), until two walks agree on 9 of every 10
   * hits or a wider walk's nearest hit is not far; a wider walk that finds fewer than top_k within
   * its bound of rows leaves the narrower one's hits. Null when the first walk's hits stand. On the
   * benchmark's 100,000 vectors, a 10% range filter, 300 queries between two clusters: recall@10
   * 0.765 from the first walk, 0.981 so (2.4 walks a query); no query near the data was widened.
   * Not for a walk of a partial index ({@link KeyIndexes}): the same queries filtered on a 10%
   * value with its own index found 0.999 of their top 10 in one walk, and widened they would have
   * walked twice.
   */
  @Nullable
  private Found walkedWider(Connection c, @Nullable Duration timeout, Statements s, Bound bound, int ef,
      List<SearchHit> first) throws SQLException {
    Metric metric = bound.metric();
    double scale = scale(c, bound.collection(), timeout).distance();
    if (!Widening.isNearestFar(metric, first, scale) || !indexValid(c, bound)) {
      return null;
    }
    int topK = bound.query().topK();
    return widened(c, s, bound, first, ef, topK, topK, width -> settings(timeout).ef(width).walk(walkTuples),
        wider -> Widening.isNearestFar(metric, wider, scale), SearchPlan.WALK_WIDENED);
  }

  /**
   * Whether the table's HNSW index is valid: one without it (a bulk load) was ranked whole, and
   * walking again would rank it whole again.
   */
  private static boolean indexValid(Connection c, Bound bound) throws SQLException {
    return IndexBuilds.valid(c, IndexBuilds.indexName(bound.collection().table())) == Boolean.TRUE;
  }

  /**
   * The scale of {@code table} ({@link Widening}) and the items sampled for it, measured in a
   * round trip of its own with the default ef_search when it is missing or old; none when it
   * cannot be told (the inner product has no distance: no round trip), and when measuring it
   * failed (a timeout): this search is then not widened, and the table is measured again later.
   */
  private Widening.Scale scale(Connection c, Collection collection, @Nullable Duration timeout) throws SQLException {
    CollectionSpec spec = collection.spec();
    if (spec.metric() == Metric.INNER_PRODUCT) {
      return Widening.Scale.NONE;
    }
    String table = SqlNames.qualified(collection.table());
    return scales.of(table, () -> {
      long rows = Math.max(1, sizes.bytes(c, table, timeout) / (spec.vectorType().bytes(spec.dimension()) + ROW_BYTES));
      Settings settings = settings(timeout).ef(defaultEfSearch(Widening.SAMPLE));
      List<Double> distances = new ArrayList<>();
      List<float[]> sample = new ArrayList<>();
      try (PreparedStatement p = settings.prepare(c, Widening.scaleSql(table, spec.metric().operator(), rows), false)) {
        p.setString(settings.next(), IndexBuilds.indexName(collection.table()));
        try (ResultSet r = settings.results(p)) {
          while (r.next()) {
            double d = r.getDouble(1);
            if (!r.wasNull()) {
              distances.add(d);
            }
            sample.add(((PGvector) r.getObject(2)).toArray());
          }
        }
      } catch (SQLException e) {
        if (!"57014".equals(e.getSQLState())) {
          throw e;
        }
        log.warn("Measuring the scale of {} for far queries ran out of time; measured again in {} min", table,
            TimeUnit.NANOSECONDS.toMinutes(Widening.SCALE_FOR_NANOS));
        return Widening.Scale.NONE;
      }
      double distance = Widening.scale(spec.metric(), distances);
      return Double.isNaN(distance) ? Widening.Scale.NONE : Widening.Scale.of(spec.metric(), distance, sample);
    });
  }

  /** Rows a filtered walk may read by default before it walks farther ({@link #fartherTuples}). */
  static final int WALK_TUPLES = 500;

  /**
   * Rows a second walk may read when the first read its bound without enough matches, taken
   * when the filter matched more rows than this at its last exact ranking (so ranking them all
   * again would read more): {@value #FARTHER} times the first walk's bound. A text query whose
   * nearest images mostly fail the filter (the scenes of another color) found none in 500 rows
   * and its 20 in 1,066, in 2.1 ms, where ranking every match of that color took 5.4 ms for
   * 2,472 of them (psql, 20,000 scenes of the demo model), a cost that grows with the table.
   */
  static int fartherTuples(int walkTuples) {
    return (int) Math.min(Integer.MAX_VALUE, (long) walkTuples * FARTHER);
  }

  static final int FARTHER = 10;

  /**
   * A table no larger than this many rows make is ranked exactly, and so is a
   * filter that at most this many rows match once a walk with it found too few ({@link
   * SelectiveFilters}): ranking 2000 rows costs about what a walk that finds its top_k among
   * them does.
   */
  static final int EXACT_ROWS = 2000;

  /** Bytes a row takes in a table besides its vector (tuple header, id, metadata, timestamps), about. */
  static final int ROW_BYTES = 40;

  /** Hits and, for the exact ranking, how many rows matched (-1 otherwise). */
  private record Ranked(List<SearchHit> hits, long matched) {}

  /**
   * The hnsw.ef_search of a filtered walk unless the request sets one: an unfiltered search's
   * for twice top_k rows, {@code max(64, 4 * topK)}, at most 1000.
   * The iterative scan goes on past the first candidates until enough rows match, so a wider
   * first list buys little: on the benchmark's table, over JDBC, ef_search 64 found 0.976 to 1.0
   * of the true top 10 against 0.987 to 1.0 at 200 (10% equality, 10%, 5% and 4% ranges, a 5%
   * {@code and}; 60 to 100 noisy queries each), in 55% to 90% of the time.
   */
  static int filteredEfSearch(int topK) {
    return defaultEfSearch(Math.min(Limits.MAX_TOP_K, 2 * topK));
  }

  /** What a statement's parameters are, in order. */
  private enum Slot { VECTOR, GUARD, FILTER, ID }

  /** True while the collection's catalog row is the one {@code collection} was read from. */
  private static final String GUARD = "EXISTS (SELECT 1 FROM jointspace.collections WHERE name = ? AND epoch = ?"
      + " AND created_at = ?::timestamptz)";

  /** What a search statement's parameters are bound to, and how its distances become scores. */
  private record Bound(float[] vector, FilterSql.Compiled filter, SearchQuery query, Metric metric,
      Collection collection, String table) {}

  /** Settings for one statement, applied with {@code set_config(name, value, true)} in its round trip. */
  private static final class Settings {
    final Map<String, String> values = new LinkedHashMap<>();

    Settings ef(int ef) {
      values.put("hnsw.ef_search", Integer.toString(ef));
      return this;
    }

    /**
     * Plans the statement as a filtered HNSW walk reading at most {@code tuples} rows, with one
     * plan for every call once it is a server-side prepared statement (a generic plan: the walk
     * of the table's HNSW index, or of the partial index whose predicate the filter's literal
     * containment test proves, whatever the other values).
     */
    Settings walk(int tuples) {
      values.put("hnsw.iterative_scan", "relaxed_order");
      values.put("hnsw.max_scan_tuples", Integer.toString(tuples));
      values.put("enable_seqscan", "off");
      values.put("enable_bitmapscan", "off");
      values.put("plan_cache_mode", "force_generic_plan");
      return this;
    }

    /**
     * An unfiltered HNSW walk that goes on past its candidate list when the statement asks for
     * more rows than the list holds (pgvector's iterative scan; its rows then come nearly in
     * order), and is never planned as a sequential scan.
     */
    Settings onPastTheList() {
      values.put("hnsw.iterative_scan", "relaxed_order");
      values.put("enable_seqscan", "off");
      return this;
    }

    /** For the statement that ranks every match: one process (the cores serve other calls), a plan for its values. */
    Settings exact() {
      values.put("max_parallel_workers_per_gather", "0");
      values.put("plan_cache_mode", "force_custom_plan");
      return this;
    }

    /**
     * {@code sql} after these settings in one statement (one round trip when it runs), the
     * settings bound; its own parameters start at {@link #next}. Unless {@code prepared}, never a
     * server-side prepared statement ({@link #run} says which are).
     */
    PreparedStatement prepare(Connection c, String sql, boolean prepared) throws SQLException {
      StringBuilder s = new StringBuilder();
      for (int i = 0; i < values.size(); i++) {
        s.append(i == 0 ? "SELECT " : ", ").append("set_config(?, ?, true)");
      }
      PreparedStatement p = c.prepareStatement(values.isEmpty() ? sql : s + "; " + sql);
      try {
        if (!prepared) {
          unprepared(p);
        }
        int index = 1;
        for (Map.Entry<String, String> e : values.entrySet()) {
          p.setString(index++, e.getKey());
          p.setString(index++, e.getValue());
        }
        return p;
      } catch (SQLException | RuntimeException e) {
        p.close();
        throw e;
      }
    }

    /** The index of the statement's first own parameter, after the settings'. */
    int next() {
      return 2 * values.size() + 1;
    }

    /** Runs {@code p} from {@link #prepare} and returns the statement's rows, past the settings' row. */
    ResultSet results(PreparedStatement p) throws SQLException {
      p.execute();
      if (!values.isEmpty() && !p.getMoreResults()) {
        throw new IllegalStateException("the statement after the settings returned no result set");
      }
      return p.getResultSet();
    }
  }

  /**
   * The settings every search statement runs with: its timeout, and JIT compilation off. The
   * planner costs a filtered walk as reading the whole HNSW index when it expects few matches
   * (it cannot tell the walk stops at top_k), which on a large table passed {@code
   * jit_above_cost}: each call compiled its statement, 47-85 ms against 18-20 ms without for a
   * walk with a selective filter on 100,000 rows (EXPLAIN ANALYZE). No search reads enough rows
   * for compiled expressions to pay that back.
   */
  private static Settings settings(@Nullable Duration timeout) {
    Settings s = new Settings();
    if (timeout != null) {
      s.values.put("statement_timeout", Long.toString(Math.max(1, timeout.toMillis())));
    }
    s.values.put("jit", "off");
    return s;
  }

  /**
   * Runs a search statement, its settings in the same round trip.
   *
   * @param prepared whether pgjdbc may make it a server-side prepared statement (from its fifth
   *     use on a connection), which PostgreSQL parses once and, with a generic plan, plans once:
   *     for the index scans, unfiltered and filtered, whose plan suits every call (their settings
   *     are read when they run, and a filter's containment test that a partial index serves is a
   *     literal in the statement's text). Planning a filtered statement looks at every partial
   *     index's predicate: 0.6 ms of a 1.8 ms walk with 110 of them (pgbench). The statement that
   *     ranks every match is planned for each call's values (they decide how the GIN index is read)
   */
  private static Ranked run(Connection c, String sql, List<Slot> slots, Bound bound, Settings settings,
      boolean prepared) throws SQLException {
    SearchQuery query = bound.query();
    List<SearchHit> hits = new ArrayList<>(query.topK());
    long matched = -1;
    try (PreparedStatement p = settings.prepare(c, sql, prepared)) {
      int i = settings.next();
      for (Slot slot : slots) {
        switch (slot) {
          case VECTOR -> p.setObject(i++, bound.vector());
          case GUARD -> i = bindGuard(p, i, bound.collection());
          case FILTER -> i = bound.filter().bind(c, p, i);
          case ID -> p.setString(i++, query.itemId());
        }
      }
      try (ResultSet r = settings.results(p)) {
        while (r.next()) {
          int col = 3;
          float score = score(bound.metric(), r.getDouble(2));
          String metadata = query.includeMetadata() ? r.getString(col++) : null;
          float[] v = query.includeVectors() ? ((PGvector) r.getObject(col++)).toArray() : null;
          matched = r.getLong(col);
          hits.add(new SearchHit(r.getString(1), score, metadata, v));
        }
      }
    }
    return new Ranked(hits, matched);
  }

  /** Keeps pgjdbc from making {@code p} a server-side prepared statement: planned for each call. */
  static void unprepared(PreparedStatement p) throws SQLException {
    p.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(0);
  }

  /** Collections' creation times as the guard binds them (formatting one took 2.5% of a Search's Java samples). */
  private static final com.github.benmanes.caffeine.cache.Cache<Instant, String> CREATED_AT_TEXT =
      com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(10_000).build();

  private static int bindGuard(PreparedStatement p, int i, Collection collection) throws SQLException {
    p.setString(i++, collection.name());
    p.setLong(i++, collection.epoch());
    // as ISO-8601 text, cast in the statement: a parameter of unspecified type, as setTimestamp
    // sends, makes pgjdbc describe a prepared statement in a round trip of its own, which ends
    // the implicit transaction the settings before it were made in; and pgjdbc's own timestamp
    // binding (a Calendar per call) took 6% of the server's Java samples in a Search (JFR)
    p.setString(i++, CREATED_AT_TEXT.get(collection.createdAt(), Instant::toString));
    return i;
  }

  /**
   * Checks that the catalog row is still the one {@code collection} was read from.
   *
   * @throws CollectionNotFoundException when the collection is gone
   * @throws CollectionChangedException when its tables changed (or it was made anew)
   */
  private static void requireCurrent(Connection c, Collection collection) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "SELECT epoch, created_at FROM jointspace.collections WHERE name = ?")) {
      p.setString(1, collection.name());
      try (ResultSet r = p.executeQuery()) {
        if (!r.next()) {
          throw new CollectionNotFoundException("collection '" + collection.name() + "' does not exist");
        }
        if (r.getLong(1) != collection.epoch() || !r.getTimestamp(2).toInstant().equals(collection.createdAt())) {
          throw new CollectionChangedException("collection '" + collection.name() + "' changed meanwhile");
        }
      }
    }
  }

  /** Higher is closer: cosine similarity, inner product, or minus the L2 distance. */
  private static float score(Metric metric, double distance) {
    return (float) (metric == Metric.COSINE ? 1 - distance : -distance);
  }

  private static float[] storedVector(Connection c, Collection collection, String id, @Nullable Duration timeout)
      throws SQLException {
    Settings settings = settings(timeout);
    String select = "SELECT embedding::vector FROM " + SqlNames.qualified(collection.table()) + " WHERE id = ?";
    try (PreparedStatement p = settings.prepare(c, select, false)) {
      p.setString(settings.next(), id);
      try (ResultSet r = settings.results(p)) {
        if (!r.next()) {
          requireCurrent(c, collection);
          throw new CollectionNotFoundException("id '" + SqlNames.shorten(id) + "' is not stored in collection '"
              + collection.name() + "'");
        }
        return ((PGvector) r.getObject(1)).toArray();
      }
    }
  }
}
