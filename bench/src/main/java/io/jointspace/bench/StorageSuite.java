package io.jointspace.bench;

import com.google.protobuf.Value;
import io.grpc.Status;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.FieldValue;
import io.jointspace.api.v1.Filter;
import io.jointspace.api.v1.GetModelMetadataResponse;
import io.jointspace.api.v1.IndexParameters;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.Metric;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.Vector;
import io.jointspace.client.JointspaceClient;
import io.jointspace.client.JointspaceException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The storage benchmark: UpsertStream ingest against binary COPY straight into an identical
 * table, then recall, latency and throughput of Search (unfiltered and filtered) over a
 * clustered synthetic set, against exact search. Needs a running PostgreSQL with pgvector
 * ({@code bench/run-storage.sh} starts one); starts the server as a child JVM.
 */
@Command(name = "storage", mixinStandardHelpOptions = true,
    description = "UpsertStream vs binary COPY ingest; Search recall, latency and QPS; writes a section of the report.")
final class StorageSuite implements Callable<Integer> {
  @Option(names = "--database-url", required = true, description = "postgresql://... with pgvector.")
  String databaseUrl;

  @Option(names = "--model-dir", defaultValue = "models/example",
      description = "A model without an encoder spec (raw tensors only), copied into a model repository of its own;"
          + " the collections bind it and take vectors. Default: ${DEFAULT-VALUE}.")
  String modelDir;

  @Option(names = "--rows", defaultValue = "100000", description = "Search set size. Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(names = "--dimension", defaultValue = "512", description = "Default: ${DEFAULT-VALUE}.")
  int dimension;

  @Option(names = "--clusters", defaultValue = "1000", description = "Gaussian clusters. Default: ${DEFAULT-VALUE}.")
  int clusters;

  @Option(names = "--spread", defaultValue = "0.5",
      description = "Within-cluster standard deviation per coordinate, centers' being 1. Default: ${DEFAULT-VALUE}.")
  double spread;

  @Option(names = "--seed", defaultValue = "20240611", description = "Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--ingest-rows", defaultValue = "10000",
      description = "Rows of the ingest comparison (the first rows of the set). Default: ${DEFAULT-VALUE}.")
  int ingestRows;

  @Option(names = "--message-items", defaultValue = "1000", description = "Items per UpsertStream message. Default: ${DEFAULT-VALUE}.")
  int messageItems;

  @Option(names = "--in-flight", defaultValue = "2",
      description = "UpsertStream messages sent ahead of their answers. Default: ${DEFAULT-VALUE}.")
  int inFlight;

  @Option(names = "--queries", defaultValue = "300", description = "Default: ${DEFAULT-VALUE}.")
  int queries;

  @Option(names = "--query-noise", defaultValue = "0.2",
      description = "Norm of the Gaussian noise added to a stored unit vector to make a query. Default: ${DEFAULT-VALUE}.")
  double queryNoise;

  @Option(names = "--top-k", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}.")
  int topK;

  @Option(names = "--ef-search", defaultValue = "0", description = "Sent with each Search; 0: the server's default.")
  int efSearch;

  @Option(names = "--m", defaultValue = "16", description = "HNSW m of the collections. Default: ${DEFAULT-VALUE}.")
  int m;

  @Option(names = "--ef-construction", defaultValue = "64", description = "Default: ${DEFAULT-VALUE}.")
  int efConstruction;

  @Option(names = "--clients", defaultValue = "1,8", split = ",", description = "Concurrent Search clients. Default: ${DEFAULT-VALUE}.")
  int[] clients;

  @Option(names = "--warmup-s", defaultValue = "3", description = "Default: ${DEFAULT-VALUE}.")
  long warmup;

  @Option(names = "--duration-s", defaultValue = "15", description = "Measured seconds per load run. Default: ${DEFAULT-VALUE}.")
  long duration;

  @Option(names = "--server-heap", defaultValue = "2g", description = "Default: ${DEFAULT-VALUE}.")
  String heap;

  @Option(names = "--index-memory-mb", defaultValue = "1024",
      description = "maintenance_work_mem (MiB) of the HNSW index builds, the server's (storage.index_build_memory_mb)"
          + " and the hand-made one's (the graph should fit). Default: ${DEFAULT-VALUE}.")
  int indexMemoryMb;

  @Option(names = "--version-cycles", defaultValue = "100",
      description = "Load/unload cycles of a model version (UploadVersion, DeleteVersion) while RSS is watched;"
          + " 0: none. Default: ${DEFAULT-VALUE}.")
  int versionCycles;

  @Option(names = "--keep", description = "Keep the search collection (bench_search) afterwards.")
  boolean keep;

  @Option(names = "--out", defaultValue = "docs/benchmarks.md",
      description = "Report: its storage-benchmark section is replaced (or appended). Default: ${DEFAULT-VALUE}.")
  String out;

  @Option(names = "--logs", defaultValue = "bench/target", description = "Default: ${DEFAULT-VALUE}.")
  String logs;

  @Option(names = "--command", defaultValue = "bench/run-storage.sh", description = "The command line the report names.")
  String command;

  @Option(names = "--database-note", defaultValue = "", description = "How the database was provided, for the report.")
  String databaseNote;

  /** /proc/loadavg when the run started: other work on the machine shows in the timings. */
  String loadAtStart;

  static final String MODEL = "example";
  static final String SEARCH = "bench_search";
  static final String COPY_A = "bench_copy_a";
  static final String COPY_B = "bench_copy_b";
  static final String INGEST = "bench_ingest";
  static final String HAND = "bench_hand";

  /** Filters measured, by name; null is unfiltered. */
  enum Mode {
    unfiltered("none", null),
    group10("group = \"g0\" (~10%)", Filter.newBuilder().setEquals(FieldValue.newBuilder().setKey("group")
        .setValue(Value.newBuilder().setStringValue("g0"))).build()),
    shard1("shard = 0 (~1%)", Filter.newBuilder().setEquals(FieldValue.newBuilder().setKey("shard")
        .setValue(Value.newBuilder().setNumberValue(0))).build());

    final String label;
    final Filter filter;

    Mode(String label, Filter filter) {
      this.label = label;
      this.filter = filter;
    }

    boolean admits(VectorData d, int i) {
      return switch (this) {
        case unfiltered -> true;
        case group10 -> d.group[i] == 0;
        case shard1 -> d.shard[i] == 0;
      };
    }
  }

  /** Everything measured, for the report. */
  record Results(String modelVersion, String modelNote, String postgres, String pgvector, String sharedBuffers,
      double generateSeconds, StorageClient.Ingest stream, double copyA, double copyB, double[] handCopySeconds,
      double[] handIndexSeconds, StorageClient.Ingest bulk, double bulkReadySeconds, Rss.Summary ingestRss,
      double rssBeforeIngest, double[] liveHeapIngest, Rss.Summary cycleRss, double rssAfterFirstCycle,
      double[] liveHeapCycles, double cycleSeconds, double vacuumSeconds, long storedRows, String tableSize, String indexSize, Map<Mode, Integer> matching,
      double exactSeconds, Map<Mode, Double> recall, Map<Mode, Double> hitsReturned,
      Map<Mode, List<StorageClient.Load>> loads, double minutes) {}

  @Override
  public Integer call() throws Exception {
    long t0 = System.nanoTime();
    loadAtStart = StorageReport.loadAverage();
    Path logDir = Main.path(logs);
    Files.createDirectories(logDir);
    Path repo = modelRepository(Main.path(modelDir), logDir.resolve("storage-models"));

    long g0 = System.nanoTime();
    log("generating %d x %d vectors (%d clusters, spread %.2f, seed %d)", rows, dimension, clusters, spread, seed);
    VectorData data = VectorData.generate(rows, dimension, clusters, spread, seed);
    double generateSeconds = (System.nanoTime() - g0) / 1e9;

    Results results;
    // bulk loads only into empty collections: the ingest comparison below writes with the index
    Path config = logDir.resolve("storage-server.textproto");
    Files.writeString(config, "storage { index_build_memory_mb: " + indexMemoryMb + " bulk_load_max_rows: 1 }\n");
    try (ServerProcess server = ServerProcess.startWithDatabase(repo, config, databaseUrl,
        List.of(JointspaceClient.model(MODEL)), heap, logDir.resolve("server-storage.log"));
        DirectDb db = new DirectDb(databaseUrl)) {
      JointspaceClient control = server.client;
      GetModelMetadataResponse meta = control.modelMetadata(JointspaceClient.model(MODEL));
      String modelNote = meta.hasEncoder() ? "has an encoder spec" : "has no encoder spec";
      log("model %s version %d %s (GetModelMetadata)", MODEL, meta.getModel().getVersion(), modelNote);
      for (String c : List.of(COPY_A, COPY_B, INGEST, HAND, SEARCH)) {
        drop(control, c);
      }
      for (String c : List.of(COPY_A, INGEST, COPY_B)) {
        create(control, c);
        // one item, so that the stream below is no bulk load: all three load with their index in place
        control.upsert(c, List.of(io.jointspace.api.v1.Item.newBuilder().setId("seed")
            .setVector(StorageClient.item(data, 0).getVector()).build()));
      }

      // ingest: COPY, UpsertStream, COPY again, the same rows into identical tables
      int messages = (ingestRows + messageItems - 1) / messageItems;
      log("ingest: building %d items (%d messages) and the COPY payload", ingestRows, messages);
      List<Item> prepared = new ArrayList<>(ingestRows);
      for (int i = 0; i < ingestRows; i++) {
        prepared.add(StorageClient.item(data, i));
      }
      byte[] payload = DirectDb.copyPayload(data, 0, ingestRows);
      StorageClient client = new StorageClient(server.load);
      double copyA = db.copy(db.tableOf(COPY_A), payload);
      log("binary COPY (1st): %d rows in %.2f s, %.0f rows/s", ingestRows, copyA, ingestRows / copyA);
      StorageClient.Ingest stream = client.ingest(INGEST, prepared.iterator(), messageItems, inFlight);
      log("UpsertStream: %d rows in %d messages, %.2f s, %.0f rows/s", stream.rows(), stream.messages(),
          stream.seconds(), stream.rowsPerSecond());
      prepared.clear();
      double copyB = db.copy(db.tableOf(COPY_B), payload);
      log("binary COPY (2nd): %d rows in %.2f s, %.0f rows/s", ingestRows, copyB, ingestRows / copyB);
      drop(control, COPY_A);
      drop(control, COPY_B);
      drop(control, INGEST);

      // the search set, by hand: binary COPY into a table without its HNSW index, then CREATE INDEX;
      // once before the bulk load and once after it, so that the baseline brackets it in time
      log("hand-made load: building the COPY payload of %d rows", rows);
      byte[] all = DirectDb.copyPayload(data, 0, rows);
      double[] handCopy = new double[2];
      double[] handIndex = new double[2];
      handLoad(control, db, all, handCopy, handIndex, 0);

      // the search set through the server: one UpsertStream into the new collection (a bulk load:
      // no HNSW index while it runs, built by the server once it ends), until the index is ready
      create(control, SEARCH);
      String searchTable = db.tableOf(SEARCH);
      double liveBefore = Rss.liveHeapMib(server.pid());
      double rssBefore = Rss.kilobytes(server.pid()) / 1024.0;
      log("bulk load: UpsertStream of %d rows into %s (server RSS %.0f MiB)", rows, SEARCH, rssBefore);
      long b0 = System.nanoTime();
      Rss ingestWatch = Rss.sample(server.pid(), 250);
      StorageClient.Ingest bulk = client.ingest(SEARCH, StorageClient.items(data, 0, rows), messageItems, inFlight);
      Rss.Summary ingestRss = ingestWatch.finish(0.1);
      log("bulk load: %d rows committed in %.1f s, %.0f rows/s; RSS %.0f MiB at 10%%, %.0f at the end, %.0f at most",
          bulk.rows(), bulk.seconds(), bulk.rowsPerSecond(), ingestRss.atWarm(), ingestRss.atEnd(), ingestRss.max());
      while (!"ready".equals(db.scalar("SELECT hnsw FROM jointspace.collection_tables WHERE table_name = '"
          + searchTable.substring(searchTable.indexOf('"') + 1, searchTable.length() - 1).replace("'", "''") + "'"))) {
        Thread.sleep(100);
      }
      double bulkReady = (System.nanoTime() - b0) / 1e9;
      double liveAfter = Rss.liveHeapMib(server.pid());
      log("bulk load: searchable (HNSW index ready) %.1f s after the stream began; live heap after a full GC %.0f MiB"
          + " before the load, %.0f after", bulkReady, liveBefore, liveAfter);
      handLoad(control, db, all, handCopy, handIndex, 1);
      all = null;
      double handMean = (handCopy[0] + handIndex[0] + handCopy[1] + handIndex[1]) / 2;
      log("bulk load %.1f s until searchable; hand-made %.1f s (mean of before and after): ratio %.2f", bulkReady,
          handMean, bulkReady / handMean);
      String table = searchTable;
      double vacuum = db.vacuumAnalyze(table);
      long stored = control.getCollection(SEARCH).getItemCount();
      String tableSize = db.scalar("SELECT pg_size_pretty(pg_table_size('" + table.replace("'", "''") + "'))");
      String indexSize = db.scalar("SELECT pg_size_pretty(pg_indexes_size('" + table.replace("'", "''") + "'))");
      log("stored %d rows; VACUUM ANALYZE %.1f s; table %s, indexes %s", stored, vacuum, tableSize, indexSize);

      // exact answers
      float[][] qs = data.queries(queries, queryNoise, seed + 1);
      long e0 = System.nanoTime();
      Map<Mode, int[][]> exact = new LinkedHashMap<>();
      Map<Mode, Integer> matching = new LinkedHashMap<>();
      for (Mode mode : Mode.values()) {
        exact.put(mode, data.exactTopK(qs, topK, i -> mode.admits(data, i)));
        matching.put(mode, data.count(i -> mode.admits(data, i)));
      }
      double exactSeconds = (System.nanoTime() - e0) / 1e9;
      log("exact top-%d of %d queries, 3 filters: %.1f s", topK, queries, exactSeconds);

      // recall, one query at a time
      Map<Mode, List<SearchRequest>> requests = new LinkedHashMap<>();
      Map<Mode, Double> recall = new LinkedHashMap<>();
      Map<Mode, Double> returned = new LinkedHashMap<>();
      for (Mode mode : Mode.values()) {
        List<SearchRequest> list = new ArrayList<>();
        for (float[] q : qs) {
          Vector.Builder v = Vector.newBuilder();
          for (float x : q) {
            v.addValues(x);
          }
          SearchRequest.Builder r = SearchRequest.newBuilder().setCollection(SEARCH).setVector(v).setTopK(topK)
              .setEfSearch(efSearch);
          if (mode.filter != null) {
            r.setFilter(mode.filter);
          }
          list.add(r.build());
        }
        requests.put(mode, list);
        double sum = 0;
        long hits = 0;
        int[][] truth = exact.get(mode);
        for (int q = 0; q < qs.length; q++) {
          int[] got = client.search(list.get(q));
          hits += got.length;
          sum += overlap(got, truth[q]) / (double) Math.max(1, Math.min(topK, truth[q].length));
        }
        recall.put(mode, sum / qs.length);
        returned.put(mode, hits / (double) qs.length);
        log("recall@%d %s: %.4f (%.2f hits per query)", topK, mode.label, sum / qs.length, hits / (double) qs.length);
      }

      // latency and throughput, closed loop
      Map<Mode, List<StorageClient.Load>> loads = new LinkedHashMap<>();
      for (Mode mode : Mode.values()) {
        List<StorageClient.Load> list = new ArrayList<>();
        for (int n : clients) {
          StorageClient.Load l = client.closedLoop(requests.get(mode), n, warmup * 1000, duration * 1000);
          log("search %s, %d clients: %.1f QPS, p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, %d errors", mode.label, n,
              l.qps(), l.p50() / 1e3, l.p95() / 1e3, l.p99() / 1e3, l.errors());
          list.add(l);
        }
        loads.put(mode, list);
      }
      if (!keep) {
        drop(control, SEARCH);
      }

      // memory: load/unload cycles of a model version
      Rss.Summary cycleRss = null;
      double rssFirst = 0;
      double cycleSeconds = 0;
      double[] liveCycles = {-1, -1};
      if (versionCycles > 0) {
        VersionCycles cycles = new VersionCycles(control.channel(), MODEL, Main.path(modelDir).resolve("1"));
        long c0 = System.nanoTime();
        // version numbers never used before: the database keeps the numbers of deleted uploads
        long base = System.currentTimeMillis() * 1000;
        cycles.cycle(base);
        liveCycles[0] = Rss.liveHeapMib(server.pid());
        rssFirst = Rss.kilobytes(server.pid()) / 1024.0;
        Rss watch = Rss.sample(server.pid(), 250);
        for (int i = 1; i < versionCycles; i++) {
          cycles.cycle(base + i);
        }
        cycleRss = watch.finish(0.1);
        cycleSeconds = (System.nanoTime() - c0) / 1e9;
        liveCycles[1] = Rss.liveHeapMib(server.pid());
        log("%d version load/unload cycles in %.1f s: RSS %.0f MiB after the first, %.0f at 10%%, %.0f at the end,"
            + " %.0f at most", versionCycles, cycleSeconds, rssFirst, cycleRss.atWarm(), cycleRss.atEnd(),
            cycleRss.max());
      }
      results = new Results(Long.toString(meta.getModel().getVersion()), modelNote,
          db.scalar("SHOW server_version"), db.scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'"),
          db.scalar("SHOW shared_buffers"), generateSeconds, stream, copyA, copyB, handCopy, handIndex, bulk, bulkReady,
          ingestRss, rssBefore, new double[] {liveBefore, liveAfter}, cycleRss, rssFirst, liveCycles, cycleSeconds, vacuum, stored, tableSize,
          indexSize, matching, exactSeconds, recall, returned, loads, (System.nanoTime() - t0) / 60e9);
    }
    String section = new StorageReport(this).markdown(results);
    Path outPath = Main.path(out);
    String doc = Files.exists(outPath) ? Files.readString(outPath) : "";
    Files.writeString(outPath, MarkedSection.STORAGE.replace(doc, section));
    log("wrote the storage section of %s (%.1f min)", outPath, results.minutes());
    return 0;
  }

  /** One hand-made load of the set into a new collection, dropped afterwards; its times at {@code at}. */
  private void handLoad(JointspaceClient control, DirectDb db, byte[] payload, double[] copy, double[] index, int at)
      throws Exception {
    create(control, HAND);
    String[] hnsw = db.hnswIndex(HAND);
    db.dropIndex(hnsw[0]);
    copy[at] = db.copy(db.tableOf(HAND), payload);
    index[at] = db.createIndex(hnsw[1], indexMemoryMb + "MB");
    log("hand-made load (%s): binary COPY of %d rows without the HNSW index %.1f s, CREATE INDEX %.1f s, %.1f s in all",
        at == 0 ? "before" : "after", rows, copy[at], index[at], copy[at] + index[at]);
    drop(control, HAND);
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

  /** A model repository at {@code repo} holding only {@code source}'s versions, as model {@value #MODEL}. */
  static Path modelRepository(Path source, Path repo) throws IOException {
    if (Files.exists(repo)) {
      try (Stream<Path> s = Files.walk(repo)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    copyTree(source, repo.resolve(MODEL));
    return repo;
  }

  /** Copies the folder {@code source} to {@code target}, files and folders. */
  static void copyTree(Path source, Path target) throws IOException {
    try (Stream<Path> s = Files.walk(source)) {
      for (Path p : s.toList()) {
        Path to = target.resolve(source.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  /** Creates {@code name}; UNAVAILABLE (CreateCollection is not retried by the client) is tried again for a minute. */
  private void create(JointspaceClient client, String name) throws InterruptedException {
    CreateCollectionRequest request = CreateCollectionRequest.newBuilder().setName(name)
        .setModel(JointspaceClient.model(MODEL)).setDimension(dimension).setMetric(Metric.COSINE)
        .setIndex(IndexParameters.newBuilder().setM(m).setEfConstruction(efConstruction))
        .setDescription("storage benchmark").build();
    for (int attempt = 0; ; attempt++) {
      try {
        client.createCollection(request);
        return;
      } catch (JointspaceException e) {
        if (e.code() != Status.Code.UNAVAILABLE || attempt > 120) {
          throw e;
        }
        Thread.sleep(500);
      }
    }
  }

  static void drop(JointspaceClient client, String name) {
    try {
      client.deleteCollection(name);
    } catch (JointspaceException e) {
      if (e.code() != Status.Code.NOT_FOUND) {
        throw e;
      }
    }
  }

  static void log(String format, Object... args) {
    System.err.printf(Locale.ROOT, "bench: " + format + "%n", args);
  }
}
