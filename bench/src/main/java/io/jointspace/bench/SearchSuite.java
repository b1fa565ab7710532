package io.jointspace.bench;

import com.google.protobuf.Value;
import com.pgvector.PGvector;
import io.grpc.Status;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.FieldValue;
import io.jointspace.api.v1.Filter;
import io.jointspace.api.v1.Filters;
import io.jointspace.api.v1.IndexParameters;
import io.jointspace.api.v1.Metric;
import io.jointspace.api.v1.Range;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.Vector;
import io.jointspace.client.JointspaceClient;
import io.jointspace.client.JointspaceException;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.ItemStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import javax.annotation.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Search against plain SQL: the same k-NN query as one SQL statement on the collection's view
 * from a JDBC client of its own (the server's ef_search set in its session, metadata returned)
 * and as gRPC Search by vector, side by side at 1 and 8 clients, with the CPU each costs per
 * call; then filtered searches (equality at 10% and 1%, a range, an {@code and} of two keys)
 * against unfiltered, with recall@10 against brute force; then queries far from the data (between
 * two clusters, unfiltered and with the range filter, random directions, and captions against a
 * collection of rendered scenes embedded
 * by {@code shapes-clip}), recall@10 at the server's default and at ef_search 64, and their
 * latency. Needs PostgreSQL with pgvector
 * ({@code bench/run-search.sh} starts one); starts the server as a child JVM.
 */
@Command(name = "search", mixinStandardHelpOptions = true,
    description = "Search vs plain SQL overhead, filtered search latency and recall; writes a section of the report.")
final class SearchSuite implements Callable<Integer> {
  @Option(names = "--database-url", required = true, description = "postgresql://... with pgvector.")
  String databaseUrl;

  @Option(names = "--model-dir", defaultValue = "models/example", description = "Default: ${DEFAULT-VALUE}.")
  String modelDir;

  @Option(names = "--rows", defaultValue = "100000", description = "Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(names = "--dimension", defaultValue = "512", description = "Default: ${DEFAULT-VALUE}.")
  int dimension;

  @Option(names = "--clusters", defaultValue = "1000", description = "Default: ${DEFAULT-VALUE}.")
  int clusters;

  @Option(names = "--spread", defaultValue = "0.5", description = "Default: ${DEFAULT-VALUE}.")
  double spread;

  @Option(names = "--seed", defaultValue = "20240611", description = "Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--queries", defaultValue = "300", description = "Default: ${DEFAULT-VALUE}.")
  int queries;

  @Option(names = "--query-noise", defaultValue = "0.2", description = "Default: ${DEFAULT-VALUE}.")
  double queryNoise;

  @Option(names = "--top-k", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}.")
  int topK;

  @Option(names = "--m", defaultValue = "16", description = "Default: ${DEFAULT-VALUE}.")
  int m;

  @Option(names = "--ef-construction", defaultValue = "64", description = "Default: ${DEFAULT-VALUE}.")
  int efConstruction;

  @Option(names = "--clients", defaultValue = "1,8", split = ",", description = "Default: ${DEFAULT-VALUE}.")
  int[] clients;

  @Option(names = "--rounds", defaultValue = "2",
      description = "SQL / gRPC windows per client count, alternating. Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Option(names = "--warmup-s", defaultValue = "3", description = "Default: ${DEFAULT-VALUE}.")
  long warmup;

  @Option(names = "--duration-s", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}.")
  long duration;

  @Option(names = "--jit-warmup-s", defaultValue = "90",
      description = "At most this long, gRPC Search (all shapes) in 4 s windows until the server's JIT compiler threads"
          + " use under 5%% of a core; 0 skips it. Default: ${DEFAULT-VALUE}.")
  long jitWarmup;

  @Option(names = "--server-heap", defaultValue = "2g", description = "Default: ${DEFAULT-VALUE}.")
  String heap;

  @Option(names = "--maintenance-work-mem", defaultValue = "1GB", description = "Default: ${DEFAULT-VALUE}.")
  String maintenanceWorkMem;

  @Option(names = "--filters", defaultValue = "group10,shard1,range10,and5", split = ",",
      description = "Filtered shapes to time (none for no filtered windows). Default: ${DEFAULT-VALUE}.")
  List<String> filters;

  @Option(names = "--indexed-keys", defaultValue = "group,shard", split = ",",
      description = "The collection's indexed keys (UpdateCollection), whose values get partial HNSW indexes;"
          + " 'none' for none. Default: ${DEFAULT-VALUE}.")
  List<String> indexedKeys;

  @Option(names = "--far-queries", defaultValue = "true", negatable = true, fallbackValue = "true",
      description = "Also queries far from the data: between two clusters (unfiltered and with the range filter),"
          + " random directions, and text against the scene collection. Default: ${DEFAULT-VALUE}.")
  boolean farQueries;

  @Option(names = "--scenes", defaultValue = "20000",
      description = "Rendered scenes in the cross-modal collection (shapes-clip); 0 for none. Default: ${DEFAULT-VALUE}.")
  int scenes;

  @Option(names = "--scene-model-dir", defaultValue = "models/shapes-clip", description = "Default: ${DEFAULT-VALUE}.")
  String sceneModelDir;

  @Option(names = "--reuse",
      description = "Keep the collection afterwards and reuse one made by an earlier run with the same data options.")
  boolean reuse;

  @Option(names = "--no-report", description = "Print the section instead of writing it into --out.")
  boolean noReport;

  @Option(names = "--out", defaultValue = "docs/benchmarks.md", description = "Default: ${DEFAULT-VALUE}.")
  String out;

  @Option(names = "--logs", defaultValue = "bench/target", description = "Default: ${DEFAULT-VALUE}.")
  String logs;

  @Option(names = "--command", defaultValue = "bench/run-search.sh", description = "The command line the report names.")
  String command;

  @Option(names = "--database-note", defaultValue = "", description = "How the database was provided, for the report.")
  String databaseNote;

  static final String COLLECTION = "bench_knn";

  String loadAtStart;

  /** What the JIT warm-up did, for the report. */
  String jit = "skipped";

  /** Query shapes: unfiltered and four filters over the metadata {n, group, shard}. */
  enum Shape {
    none("none"),
    group10("group = \"g0\" (~10%)"),
    shard1("shard = 0 (~1%)"),
    range10("n < rows / 10 (range, ~10%)"),
    and5("group = \"g1\" and shard < 50 (~5%)");

    final String label;

    Shape(String label) {
      this.label = label;
    }

    Filter filter(int rows) {
      return switch (this) {
        case none -> null;
        case group10 -> equals("group", Value.newBuilder().setStringValue("g0").build());
        case shard1 -> equals("shard", Value.newBuilder().setNumberValue(0).build());
        case range10 -> Filter.newBuilder().setRange(Range.newBuilder().setKey("n")
            .setLt(Value.newBuilder().setNumberValue(rows / 10))).build();
        case and5 -> Filter.newBuilder().setAnd(Filters.newBuilder()
            .addFilters(equals("group", Value.newBuilder().setStringValue("g1").build()))
            .addFilters(Filter.newBuilder().setRange(Range.newBuilder().setKey("shard")
                .setLt(Value.newBuilder().setNumberValue(50))))).build();
      };
    }

    boolean admits(VectorData d, int i) {
      return switch (this) {
        case none -> true;
        case group10 -> d.group[i] == 0;
        case shard1 -> d.shard[i] == 0;
        case range10 -> i < d.size() / 10;
        case and5 -> d.group[i] == 1 && d.shard[i] < 50;
      };
    }

    private static Filter equals(String key, Value v) {
      return Filter.newBuilder().setEquals(FieldValue.newBuilder().setKey(key).setValue(v)).build();
    }
  }

  /** One closed-loop window: latencies and CPU per call of each process. */
  record Window(String path, int clients, long ok, long errors, double seconds, double p50, double p99, double mean,
      double serverMsPerCall, double postgresMsPerCall, double benchMsPerCall, double machineCores) {
    double qps() {
      return ok / seconds;
    }
  }

  /** One call of a closed loop; false when it failed. */
  @FunctionalInterface
  interface Call {
    boolean run(int client, int query) throws Exception;
  }

  /**
   * Queries of one kind far from (or, for comparison, near) the data: Search requests with the
   * server's default ef_search, the same with ef_search 64 set, and the exact answers; the
   * filter whose windows in "Filtered search" give the near p50 to compare with (none: the
   * collection's near queries'); whether its recall is one of the targets (not for a set that
   * only shows what one walk of ef_search 64 costs beside the default).
   */
  record FarSet(String name, String label, String collection, List<SearchRequest> requests,
      List<SearchRequest> fixedEf, int[][] truth, Shape nearFilter, boolean target) {

    /** The same queries with ef_search 64 set, timed too: what the default's wider walks cost beside one walk. */
    FarSet oneWalk() {
      return new FarSet(name + ", ef_search 64", "the same, one walk of `ef_search: 64` (never widened)", collection,
          fixedEf, fixedEf, truth, nearFilter, false);
    }
  }

  /** Recall of a far set at the server's default and at ef_search 64, and its closed-loop windows. */
  record FarResult(FarSet set, double recall, double fixedEfRecall, List<Window> windows) {}

  record Results(String postgres, String pgvector, String sharedBuffers, boolean reused, double loadSeconds,
      double indexSeconds, List<String> keys, int keyIndexes, double keySeconds, long stored, String tableSize, String indexSize, Map<Shape, Integer> matching,
      double sqlRecall, Map<Shape, Double> recall, Map<Shape, Double> returned, List<Window> overhead,
      Map<Shape, List<Window>> filtered, List<FarResult> far, @Nullable SceneSet scenes, double minutes) {}

  private long serverPid;
  private long postmasterPid;

  @Override
  public Integer call() throws Exception {
    long t0 = System.nanoTime();
    loadAtStart = StorageReport.loadAverage();
    Path logDir = Main.path(logs);
    Files.createDirectories(logDir);
    Path repo = StorageSuite.modelRepository(Main.path(modelDir), logDir.resolve("search-models"));
    boolean crossModal = farQueries && scenes > 0;
    List<io.jointspace.api.v1.ModelSpec> await = new ArrayList<>(List.of(JointspaceClient.model(StorageSuite.MODEL)));
    if (crossModal) {
      StorageSuite.copyTree(Main.path(sceneModelDir), repo.resolve(SceneSet.MODEL));
      await.add(JointspaceClient.model(SceneSet.MODEL));
    }
    log("generating %d x %d vectors", rows, dimension);
    VectorData data = VectorData.generate(rows, dimension, clusters, spread, seed);
    String marker = String.format(java.util.Locale.ROOT, "search benchmark: rows %d, dimension %d, clusters %d,"
        + " spread %s, seed %d, m %d, ef_construction %d", rows, dimension, clusters, spread, seed, m, efConstruction);
    int ef = ItemStore.defaultEfSearch(topK);
    Results results;
    try (ServerProcess server = ServerProcess.startWithDatabase(repo, null, databaseUrl, await, heap,
        logDir.resolve("server-search.log")); DirectDb db = new DirectDb(databaseUrl)) {
      serverPid = server.pid();
      postmasterPid = Cpu.parentOf(Long.parseLong(db.scalar("SELECT pg_backend_pid()")));
      JointspaceClient control = server.client;
      boolean reused = reuse && reusable(control, COLLECTION, marker, rows);
      double loadSeconds = 0;
      double indexSeconds = 0;
      if (reused) {
        log("reusing collection %s", COLLECTION);
      } else {
        StorageSuite.drop(control, COLLECTION);
        control.createCollection(CreateCollectionRequest.newBuilder().setName(COLLECTION)
            .setModel(JointspaceClient.model(StorageSuite.MODEL)).setDimension(dimension).setMetric(Metric.COSINE)
            .setIndex(IndexParameters.newBuilder().setM(m).setEfConstruction(efConstruction))
            .setDescription(marker).build());
        String[] hnsw = db.hnswIndex(COLLECTION);
        db.dropIndex(hnsw[0]);
        String table = db.tableOf(COLLECTION);
        long l0 = System.nanoTime();
        for (int from = 0; from < rows; from += 10_000) {
          db.copy(table, DirectDb.copyPayload(data, from, Math.min(rows, from + 10_000)));
        }
        loadSeconds = (System.nanoTime() - l0) / 1e9;
        log("binary COPY of %d rows: %.1f s; building the HNSW index", rows, loadSeconds);
        indexSeconds = db.createIndex(hnsw[1], maintenanceWorkMem);
        log("HNSW index built in %.1f s", indexSeconds);
        db.vacuumAnalyze(table);
      }
      String table = db.tableOf(COLLECTION);
      List<String> keys = indexedKeys.contains("none") ? List.of() : indexedKeys;
      int wantedKeyIndexes = 0;
      for (String key : keys) {
        wantedKeyIndexes += frequentValues(data, key);
      }
      long k0 = System.nanoTime();
      control.setIndexedKeys(COLLECTION, keys);
      int keyIndexes = waitForKeyIndexes(db, table, wantedKeyIndexes);
      double keySeconds = (System.nanoTime() - k0) / 1e9;
      log("indexed keys %s: %d partial indexes in %.1f s", keys, keyIndexes, keySeconds);
      long stored = control.getCollection(COLLECTION).getItemCount();
      String tableSize = db.scalar("SELECT pg_size_pretty(pg_table_size('" + table.replace("'", "''") + "'))");
      String indexSize = db.scalar("SELECT pg_size_pretty(pg_indexes_size('" + table.replace("'", "''") + "'))");

      float[][] qs = data.queries(queries, queryNoise, seed + 1);
      Map<Shape, int[][]> truth = new LinkedHashMap<>();
      Map<Shape, Integer> matching = new LinkedHashMap<>();
      for (Shape shape : Shape.values()) {
        truth.put(shape, data.exactTopK(qs, topK, i -> shape.admits(data, i)));
        matching.put(shape, data.count(i -> shape.admits(data, i)));
      }
      log("exact answers ready");

      Map<Shape, List<SearchRequest>> requests = new LinkedHashMap<>();
      for (Shape shape : Shape.values()) {
        List<SearchRequest> list = new ArrayList<>();
        Filter f = shape.filter(rows);
        for (float[] q : qs) {
          Vector.Builder v = Vector.newBuilder();
          for (float x : q) {
            v.addValues(x);
          }
          SearchRequest.Builder r = SearchRequest.newBuilder().setCollection(COLLECTION).setVector(v).setTopK(topK);
          if (f != null) {
            r.setFilter(f);
          }
          list.add(r.build());
        }
        requests.put(shape, list);
      }
      StorageClient grpc = new StorageClient(server.load);
      List<FarSet> farSets = new ArrayList<>();
      SceneSet sceneSet = null;
      if (farQueries) {
        // the near queries again with ef_search set: one walk each, what the default costs beside it
        List<SearchRequest> near64 = requests.get(Shape.none).stream().map(r -> r.toBuilder().setEfSearch(ef).build())
            .toList();
        farSets.add(new FarSet("near64", "near the data, `ef_search: " + ef + "` set (never widened)", COLLECTION,
            near64, near64, truth.get(Shape.none), Shape.none, true));
        float[][] between = data.between(queries, seed + 2);
        farSets.add(farSet("between", "between two clusters (the normalized sum of two random items)", COLLECTION,
            data, between, Shape.none));
        FarSet betweenFiltered = farSet("between, " + Shape.range10.label, "the same queries filtered on "
            + Shape.range10.label + ", a filter no partial index serves, so the search walks the whole graph",
            COLLECTION, data, between, Shape.range10);
        farSets.add(betweenFiltered);
        farSets.add(betweenFiltered.oneWalk());
        farSets.add(farSet("random", "random directions (uniform unit vectors)", COLLECTION, data,
            data.directions(queries, seed + 3), Shape.none));
        log("far-query answers ready");
      }
      if (crossModal) {
        sceneSet = SceneSet.ensure(control, grpc, db, scenes, seed, reuse);
        for (boolean text : new boolean[] {false, true}) {
          List<io.jointspace.api.v1.Input> inputs = text ? SceneSet.texts(queries, seed + 4)
              : SceneSet.images(queries, seed + 5);
          float[][] embedded = sceneSet.embed(control, inputs);
          farSets.add(farSet(text ? "text" : "image", text ? "text against images (captions of new scenes)"
              : "image against images (new scenes), for comparison", SceneSet.COLLECTION, sceneSet.data,
              embedded, Shape.none));
          if (text) {
            // a filter on what the caption may not say: most captions name another color
            String[] colors = sceneSet.colors;
            FarSet textFiltered = farSet("text, color = \"" + FILTER_COLOR + "\"", "the same captions filtered on"
                + " color = \"" + FILTER_COLOR + "\" (about 1 in 8 scenes; the scenes have no indexed keys, so the"
                + " search walks the whole graph)", SceneSet.COLLECTION, sceneSet.data, embedded, Shape.none,
                Filter.newBuilder().setEquals(FieldValue.newBuilder().setKey("color")
                    .setValue(Value.newBuilder().setStringValue(FILTER_COLOR))).build(),
                i -> FILTER_COLOR.equals(colors[i]));
            farSets.add(textFiltered);
            farSets.add(textFiltered.oneWalk());
          }
        }
        log("cross-modal answers ready");
      }
      int maxClients = Arrays.stream(clients).max().orElse(1);
      try (SqlClients sql = new SqlClients(databaseUrl, maxClients, ef, topK)) {
        double sqlRecall = 0;
        for (int q = 0; q < qs.length; q++) {
          sqlRecall += overlap(sql.search(0, qs[q]), truth.get(Shape.none)[q]) / (double) topK;
        }
        sqlRecall /= qs.length;
        Map<Shape, Double> recall = new LinkedHashMap<>();
        Map<Shape, Double> returned = new LinkedHashMap<>();
        for (Shape shape : Shape.values()) {
          double sum = 0;
          long hits = 0;
          int[][] t = truth.get(shape);
          for (int q = 0; q < qs.length; q++) {
            int[] got = grpc.search(requests.get(shape).get(q));
            hits += got.length;
            sum += overlap(got, t[q]) / (double) Math.max(1, Math.min(topK, t[q].length));
          }
          recall.put(shape, sum / qs.length);
          returned.put(shape, hits / (double) qs.length);
          log("recall@%d %s: %.4f", topK, shape.label, sum / qs.length);
        }
        log("recall@%d plain SQL: %.4f", topK, sqlRecall);
        List<double[]> farRecall = new ArrayList<>();
        for (FarSet f : farSets) {
          double recallDefault = recall(grpc, f.requests(), f.truth());
          double recallFixed = recall(grpc, f.fixedEf(), f.truth());
          farRecall.add(new double[] {recallDefault, recallFixed});
          log("recall@%d %s: %.4f (ef_search %d: %.4f)", topK, f.label(), recallDefault, ef, recallFixed);
        }

        List<SearchRequest> mixed = new ArrayList<>();
        for (int q = 0; q < qs.length; q++) {
          mixed.add(requests.get(Shape.values()[q % Shape.values().length]).get(q));
        }
        jit = JitWarmUp.run(server, jitWarmup, () -> grpc.closedLoop(mixed, 2, 0, 4000));
        log("JIT warm-up: %s", jit);
        List<Window> overhead = new ArrayList<>();
        for (int n : clients) {
          for (int round = 0; round < rounds; round++) {
            overhead.add(window("SQL", n, (c, q) -> sql.search(c, qs[q]).length > 0));
            List<SearchRequest> none = requests.get(Shape.none);
            overhead.add(window("gRPC", n, (c, q) -> grpc.search(none.get(q)).length > 0));
          }
        }
        Map<Shape, List<Window>> filtered = new LinkedHashMap<>();
        for (Shape shape : Shape.values()) {
          if (shape == Shape.none || !filters.contains(shape.name())) {
            continue;
          }
          List<Window> list = new ArrayList<>();
          for (int n : clients) {
            List<SearchRequest> rs = requests.get(shape);
            list.add(window("gRPC " + shape.name(), n, (c, q) -> grpc.search(rs.get(q)).length >= 0));
          }
          filtered.put(shape, list);
        }
        List<FarResult> far = new ArrayList<>();
        for (int i = 0; i < farSets.size(); i++) {
          FarSet f = farSets.get(i);
          List<Window> list = new ArrayList<>();
          for (int n : clients) {
            list.add(window("gRPC " + f.name(), n, (c, q) -> grpc.search(f.requests().get(q)).length >= 0));
          }
          far.add(new FarResult(f, farRecall.get(i)[0], farRecall.get(i)[1], list));
        }
        results = new Results(db.scalar("SHOW server_version"),
            db.scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'"), db.scalar("SHOW shared_buffers"),
            reused, loadSeconds, indexSeconds, keys, keyIndexes, keySeconds, stored, tableSize, indexSize, matching, sqlRecall, recall, returned,
            overhead, filtered, far, sceneSet, (System.nanoTime() - t0) / 60e9);
      }
      if (!reuse) {
        StorageSuite.drop(control, COLLECTION);
        StorageSuite.drop(control, SceneSet.COLLECTION);
      }
    }
    String section = new SearchReport(this).markdown(results);
    if (noReport) {
      System.out.println(section);
    } else {
      Path outPath = Main.path(out);
      String doc = Files.exists(outPath) ? Files.readString(outPath) : "";
      Files.writeString(outPath, MarkedSection.SEARCH.replace(doc, section));
      log("wrote the search section of %s (%.1f min)", outPath, results.minutes());
    }
    return 0;
  }

  /** The color the filtered caption queries ask for. */
  static final String FILTER_COLOR = "blue";

  /**
   * Search requests for {@code queries} with {@code filter}'s filter (none: unfiltered), with the
   * exact answers over the items of {@code data} it admits; compared with that filter's near p50.
   */
  private FarSet farSet(String name, String label, String collection, VectorData data, float[][] queries,
      Shape filter) {
    return farSet(name, label, collection, data, queries, filter, filter == Shape.none ? null : filter.filter(
        data.size()), i -> filter.admits(data, i));
  }

  /**
   * Search requests for {@code queries} with {@code filter} (null: unfiltered), with the exact
   * answers over the items {@code admits}; {@code near} names the filtered windows whose p50 the
   * report compares with (none: the collection's near queries').
   */
  private FarSet farSet(String name, String label, String collection, VectorData data, float[][] queries,
      Shape near, @Nullable Filter filter, VectorData.Admit admits) {
    List<SearchRequest> requests = new ArrayList<>();
    for (float[] q : queries) {
      Vector.Builder v = Vector.newBuilder();
      for (float x : q) {
        v.addValues(x);
      }
      SearchRequest.Builder r = SearchRequest.newBuilder().setCollection(collection).setVector(v).setTopK(topK);
      if (filter != null) {
        r.setFilter(filter);
      }
      requests.add(r.build());
    }
    int ef = ItemStore.defaultEfSearch(topK);
    return new FarSet(name, label, collection, requests,
        requests.stream().map(r -> r.toBuilder().setEfSearch(ef).build()).toList(),
        data.exactTopK(queries, topK, admits), near, true);
  }

  /** Mean recall@top_k of {@code requests}, one at a time, against {@code truth}. */
  private double recall(StorageClient grpc, List<SearchRequest> requests, int[][] truth) {
    double sum = 0;
    for (int q = 0; q < requests.size(); q++) {
      sum += overlap(grpc.search(requests.get(q)), truth[q]) / (double) Math.max(1, Math.min(topK, truth[q].length));
    }
    return sum / requests.size();
  }

  /** Values of {@code key} (group or shard) held by at least 100 items, at most 100: those the server indexes. */
  private static int frequentValues(VectorData data, String key) {
    int[] values = switch (key) {
      case "group" -> data.group;
      case "shard" -> data.shard;
      default -> throw new IllegalArgumentException("--indexed-keys: the data has keys group and shard, not " + key);
    };
    Map<Integer, Integer> counts = new java.util.HashMap<>();
    for (int v : values) {
      counts.merge(v, 1, Integer::sum);
    }
    return (int) Math.min(100, counts.values().stream().filter(n -> n >= 100).count());
  }

  /** Waits (at most 30 min) until {@code table} has {@code wanted} valid partial indexes of indexed keys, and their number then. */
  private static int waitForKeyIndexes(DirectDb db, String table, int wanted) throws Exception {
    String count = "SELECT count(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        + " WHERE x.indrelid = '" + table.replace("'", "''") + "'::regclass AND x.indisvalid"
        + " AND i.relname ~ '_k[0-9a-f]{8}$'";
    long until = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(30);
    int n;
    while ((n = Integer.parseInt(db.scalar(count))) != wanted) {
      if (System.nanoTime() > until) {
        throw new IllegalStateException("the server built " + n + " of " + wanted + " partial indexes in 30 min");
      }
      Thread.sleep(500);
    }
    return n;
  }

  /** A closed loop of {@code clients} threads: warm-up, then a measured window with CPU read around it. */
  private Window window(String path, int clients, Call call) throws InterruptedException {
    long start = System.nanoTime();
    long windowStart = start + warmup * 1_000_000_000L;
    long windowEnd = windowStart + duration * 1_000_000_000L;
    long[][] lat = new long[clients][];
    long[] counts = new long[clients];
    long[] errors = new long[clients];
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < clients; t++) {
      int me = t;
      Thread thread = new Thread(() -> {
        int next = (int) ((long) me * queries / clients);
        long[] l = new long[8192];
        int n = 0;
        while (true) {
          long a = System.nanoTime();
          if (a >= windowEnd) {
            break;
          }
          boolean ok;
          try {
            ok = call.run(me, next);
          } catch (Exception e) {
            ok = false;
          }
          long b = System.nanoTime();
          next = (next + 1) % queries;
          if (a >= windowStart && b <= windowEnd) {
            if (!ok) {
              errors[me]++;
              continue;
            }
            if (n == l.length) {
              l = Arrays.copyOf(l, n * 2);
            }
            l[n++] = b - a;
          }
        }
        lat[me] = Arrays.copyOf(l, n);
        counts[me] = n;
      }, "search-client-" + t);
      threads.add(thread);
      thread.start();
    }
    Thread.sleep(Math.max(0, (windowStart - System.nanoTime()) / 1_000_000));
    long s0 = Cpu.processNanos(serverPid);
    long p0 = Cpu.treeNanos(postmasterPid);
    long b0 = Cpu.selfNanos();
    long m0 = Cpu.machineNanos();
    long w0 = System.nanoTime();
    Thread.sleep(Math.max(0, (windowEnd - System.nanoTime()) / 1_000_000));
    long s1 = Cpu.processNanos(serverPid);
    long p1 = Cpu.treeNanos(postmasterPid);
    long b1 = Cpu.selfNanos();
    long m1 = Cpu.machineNanos();
    long w1 = System.nanoTime();
    for (Thread t : threads) {
      t.join();
    }
    long total = Arrays.stream(counts).sum();
    long[] all = new long[(int) total];
    int at = 0;
    for (long[] l : lat) {
      System.arraycopy(l, 0, all, at, l.length);
      at += l.length;
    }
    Arrays.sort(all);
    double seconds = duration;
    double perCall = total == 0 ? Double.NaN : 1e6 * total;
    Window w = new Window(path, clients, total, Arrays.stream(errors).sum(), seconds,
        LoadGenerator.percentile(all, 0.50) / 1e3, LoadGenerator.percentile(all, 0.99) / 1e3,
        total == 0 ? Double.NaN : Arrays.stream(all).average().orElse(0) / 1e6,
        (s1 - s0) / perCall, (p1 - p0) / perCall, (b1 - b0) / perCall, (m1 - m0) / (double) (w1 - w0));
    log("%s, %d clients: %.1f calls/s, p50 %.3f ms, p99 %.3f ms, %d errors; CPU per call: server %.3f ms,"
        + " PostgreSQL %.3f ms, bench %.3f ms; machine %.2f cores", path, clients, w.qps(), w.p50(), w.p99(),
        w.errors(), w.serverMsPerCall(), w.postgresMsPerCall(), w.benchMsPerCall(), w.machineCores());
    return w;
  }

  /**
   * What a pgvector user runs instead of Search: one statement on the collection's view per
   * query, on a JDBC connection per client whose session has the server's default
   * {@code hnsw.ef_search}, the query vector as pgvector-java's {@link PGvector}, metadata read.
   */
  static final class SqlClients implements AutoCloseable {
    final List<Connection> connections = new ArrayList<>();
    final List<PreparedStatement> statements = new ArrayList<>();

    SqlClients(String url, int n, int efSearch, int topK) throws SQLException {
      DatabaseUrl parsed = DatabaseUrl.parse(url);
      Properties props = new Properties();
      if (parsed.user() != null) {
        props.setProperty("user", parsed.user());
      }
      if (parsed.password() != null) {
        props.setProperty("password", parsed.password());
      }
      props.setProperty("ApplicationName", "jointspace-bench-sql");
      for (int i = 0; i < n; i++) {
        Connection c = DriverManager.getConnection(parsed.jdbcUrl(), props);
        PGvector.registerTypes(c);
        try (Statement s = c.createStatement()) {
          s.execute("SET hnsw.ef_search = " + efSearch);
        }
        connections.add(c);
        statements.add(c.prepareStatement(sql(topK)));
      }
    }

    /** The statement: the collection's view, ranked by cosine distance, top_k rows with their metadata. */
    static String sql(int topK) {
      return "SELECT id, metadata, embedding <=> ? AS distance FROM public." + COLLECTION
          + " ORDER BY distance LIMIT " + topK;
    }

    int[] search(int client, float[] q) throws SQLException {
      PreparedStatement p = statements.get(client);
      p.setObject(1, new PGvector(q));
      int[] ids = new int[16];
      int n = 0;
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          String id = r.getString(1);
          r.getString(2);
          r.getDouble(3);
          if (n == ids.length) {
            ids = Arrays.copyOf(ids, n * 2);
          }
          ids[n++] = Integer.parseInt(id.substring("item-".length()));
        }
      }
      return Arrays.copyOf(ids, n);
    }

    @Override
    public void close() throws SQLException {
      for (Connection c : connections) {
        c.close();
      }
    }
  }

  private static int overlap(int[] got, int[] truth) {
    int n = 0;
    for (int g : got) {
      for (int t : truth) {
        if (g == t) {
          n++;
          break;
        }
      }
    }
    return n;
  }

  /** Whether {@code name} exists with the description {@code marker} and {@code count} items: made by an earlier run. */
  static boolean reusable(JointspaceClient client, String name, String marker, long count) {
    try {
      var c = client.getCollection(name);
      return c.getDescription().equals(marker) && c.getItemCount() == count;
    } catch (JointspaceException e) {
      if (e.code() != Status.Code.NOT_FOUND) {
        throw e;
      }
      return false;
    }
  }


  static void log(String format, Object... args) {
    System.err.printf(java.util.Locale.ROOT, "bench: " + format + "%n", args);
  }
}
