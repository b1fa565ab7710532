package io.jointspace.bench;

import io.grpc.Status;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.Rollout;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.Vector;
import io.jointspace.trainer.SceneGenerator;
import io.jointspace.trainer.Split;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The rollout benchmark: how fast a rollout's backfill re-embeds a collection, against the
 * same encoder's best rate in-process, and what a backfill does to live Search and Embed
 * calls on the same server. Needs a running PostgreSQL with pgvector
 * ({@code bench/run-rollout.sh} starts one); starts the server as a child JVM.
 */
@Command(name = "rollout", mixinStandardHelpOptions = true,
    description = "Backfill rate of a collection rollout against the encoder in-process; live Search and Embed"
        + " with and without a backfill; writes a section of the report.")
final class RolloutSuite implements Callable<Integer> {
  @Option(names = "--database-url", required = true, description = "postgresql://... with pgvector.")
  String databaseUrl;

  @Option(names = "--models", defaultValue = "models", description = "Model repository. Default: ${DEFAULT-VALUE}.")
  String models;

  @Option(names = "--server-config", defaultValue = "models/serve.textproto",
      description = "The server's config file (both versions loaded); the rollouts settings below are appended to"
          + " it. Default: ${DEFAULT-VALUE}.")
  String serverConfig;

  @Option(names = "--model", defaultValue = "shapes-clip", description = "Default: ${DEFAULT-VALUE}.")
  String model;

  @Option(names = "--from-version", defaultValue = "1", description = "The collections' version. Default: ${DEFAULT-VALUE}.")
  long fromVersion;

  @Option(names = "--to-version", defaultValue = "2", description = "The rollouts' target. Default: ${DEFAULT-VALUE}.")
  long toVersion;

  @Option(names = "--items", defaultValue = "4000",
      description = "Scenes in the collection whose backfill is timed. Default: ${DEFAULT-VALUE}.")
  int items;

  @Option(names = "--live-items", defaultValue = "0",
      description = "Scenes in the collection rolled out under live load; 0: enough for one window at the measured"
          + " backfill rate, with a margin. Default: ${DEFAULT-VALUE}.")
  int liveItems;

  @Option(names = "--message-items", defaultValue = "250", description = "Scenes per UpsertStream message. Default: ${DEFAULT-VALUE}.")
  int messageItems;

  @Option(names = "--backfill-threads", defaultValue = "3", description = "rollouts.backfill_threads (the server's default). Default: ${DEFAULT-VALUE}.")
  int backfillThreads;

  @Option(names = "--chunk-size", defaultValue = "64", description = "rollouts.chunk_size (the server's default). Default: ${DEFAULT-VALUE}.")
  int chunkSize;

  @Option(names = "--ceiling-ms", defaultValue = "2000",
      description = "Time per ceiling measurement (batch size, callers, input). Default: ${DEFAULT-VALUE}.")
  long ceilingMillis;

  @Option(names = "--ceiling-warmup-ms", defaultValue = "3000",
      description = "Untimed run of each ceiling path before the first measurement. Default: ${DEFAULT-VALUE}.")
  long ceilingWarmupMillis;

  @Option(names = "--rounds", defaultValue = "2",
      description = "Times the ceiling is measured (before the server starts, then right before each timed backfill"
          + " but the first) and the backfill timed (a fresh rollout each time): the best of each counts, so that a"
          + " burst of other work on the machine does not decide the ratio. Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Option(names = "--sample-ms", defaultValue = "200", description = "GetRollout interval while the backfill is timed. Default: ${DEFAULT-VALUE}.")
  long sampleMillis;

  @Option(names = "--jit-warmup-max-s", defaultValue = "90",
      description = "Longest warm-up of the server before the backfill is timed: Embed and Search load until its JIT"
          + " compiler threads use under 5%% of a core. Default: ${DEFAULT-VALUE}; 0 skips it.")
  long jitWarmupMax;

  @Option(names = "--search-callers", defaultValue = "1", description = "Closed-loop Search callers. Default: ${DEFAULT-VALUE}.")
  int searchCallers;

  @Option(names = "--embed-callers", defaultValue = "8", description = "Closed-loop Embed callers. Default: ${DEFAULT-VALUE}.")
  int embedCallers;

  @Option(names = "--embed-version", defaultValue = "2",
      description = "The version live Embed calls name (2: the backfill's target, sharing its batch queue)."
          + " Default: ${DEFAULT-VALUE}.")
  long embedVersion;

  @Option(names = "--warmup-s", defaultValue = "3", description = "Unmeasured load before each live window. Default: ${DEFAULT-VALUE}.")
  long warmup;

  @Option(names = "--duration-s", defaultValue = "15", description = "Measured seconds per live window. Default: ${DEFAULT-VALUE}.")
  long duration;

  @Option(names = "--rate-limit", defaultValue = "200",
      description = "rate_limit (items/s) of the rate-limited backfill. Default: ${DEFAULT-VALUE}.")
  double rateLimit;

  @Option(names = "--top-k", defaultValue = "10", description = "Default: ${DEFAULT-VALUE}.")
  int topK;

  @Option(names = "--queries", defaultValue = "1000", description = "Distinct Search vectors, cycled. Default: ${DEFAULT-VALUE}.")
  int queries;

  @Option(names = "--seed", defaultValue = "20261207", description = "Scenes and query vectors. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--server-heap", defaultValue = "2g", description = "Default: ${DEFAULT-VALUE}.")
  String heap;

  @Option(names = "--keep", description = "Keep the collections (bench_rollout, bench_rollout_live) afterwards.")
  boolean keep;

  @Option(names = "--out", defaultValue = "docs/benchmarks.md",
      description = "Report: its rollout-benchmark section is replaced (or appended). Default: ${DEFAULT-VALUE}.")
  String out;

  @Option(names = "--logs", defaultValue = "bench/target", description = "Default: ${DEFAULT-VALUE}.")
  String logs;

  @Option(names = "--command", defaultValue = "bench/run-rollout.sh", description = "The command line the report names.")
  String command;

  @Option(names = "--database-note", defaultValue = "", description = "How the database was provided, for the report.")
  String databaseNote;

  @Option(names = "--own-database", paramLabel = "NAME",
      description = "Create database NAME afresh on the PostgreSQL server of --database-url (dropping one an earlier"
          + " run left), run there, and drop it at the end. bench/run-rollout.sh passes bench_rollout for its"
          + " private cluster.")
  String ownDatabase;

  static final String TIMED = "bench_rollout";
  static final String LIVE = "bench_rollout_live";
  static final int[] CEILING_BATCHES = {32, 64};
  /** Scenes of the timed collection the ceiling embeds (its first ones). */
  static final int CEILING_IMAGES = 256;

  /** /proc/loadavg when the run started: other work on the machine shows in the timings. */
  String loadAtStart;
  /** The server's config file as the server got it. */
  String serverConfigText;
  /** What the warm-up before the timed backfill did. */
  String jitWarmup;

  /** What runs beside the live calls of a window. */
  enum Condition {
    idle("no rollout"),
    backfill("backfill, no rate limit"),
    limited("backfill, rate_limit");

    final String label;

    Condition(String label) {
      this.label = label;
    }
  }

  /**
   * One reading of the clocks: time, CPU so far of the server, of the PostgreSQL cluster, of
   * this process and of the whole machine (-1 when unreadable), and the rollout then (null
   * when none is read).
   */
  record Probe(long nanos, long serverCpu, long postgresCpu, long benchCpu, long machineCpu,
      @Nullable Rollout rollout) {
    long done() {
      return rollout == null ? 0 : rollout.getProgress().getDone();
    }

    static double seconds(Probe a, Probe b) {
      return (b.nanos - a.nanos) / 1e9;
    }

    /** CPU used between {@code a} and {@code b}. */
    static Cores cores(Probe a, Probe b) {
      double s = b.nanos - a.nanos;
      return new Cores((b.serverCpu - a.serverCpu) / s,
          a.postgresCpu < 0 || b.postgresCpu < 0 ? Double.NaN : (b.postgresCpu - a.postgresCpu) / s,
          (b.benchCpu - a.benchCpu) / s,
          a.machineCpu < 0 || b.machineCpu < 0 ? Double.NaN : (b.machineCpu - a.machineCpu) / s);
    }
  }

  /**
   * CPU used over an interval, in cores (CPU seconds per second): by the server, PostgreSQL,
   * this process, and the whole machine (NaN when unreadable).
   */
  record Cores(double server, double postgres, double bench, double machine) {
    /** The server, PostgreSQL and this process together. */
    double ours() {
      return server + (Double.isNaN(postgres) ? 0 : postgres) + bench;
    }

    /** What the rest of the machine used meanwhile (other processes). */
    double others() {
      return Math.max(0, machine - ours());
    }
  }

  /**
   * The timed backfill, from GetRollout samples: items and seconds from the first to the last
   * change of {@code done}, its rate, the time from StartRollout to the first and last change,
   * from the last change to the first sample with the index built and on to READY, the CPU
   * over the timed interval and the final rollout.
   */
  record Backfill(long total, int samples, long items, double seconds, double itemsPerSecond, double toFirstSeconds,
      double toLastSeconds, double toIndexSeconds, double toReadySeconds, Cores cores, Rollout last) {}

  /** One live window: the load's rate and latency (microseconds), CPU in cores, and the backfill meanwhile. */
  record Live(Condition condition, String load, int callers, Measured measured, Cores cores, double backfillPerSecond,
      @Nullable Rollout.State backfillAfter) {}

  /** What a load measured: calls per second, p50 and p99 (microseconds) of OK calls, failed calls. */
  record Measured(double perSecond, double p50, double p99, long errors) {}

  /** Everything measured, for the report. */
  record Results(List<Ceiling.ImageRate> ceiling, StorageClient.Ingest timedIngest, List<Backfill> backfills,
      StorageClient.Ingest liveIngest, List<Live> live, String postgres, String pgvector, double minutes) {
    /** The fastest timed backfill. */
    Backfill backfill() {
      return backfills.stream().max(Comparator.comparingDouble(Backfill::itemsPerSecond)).orElseThrow();
    }
  }

  @Override
  public Integer call() throws Exception {
    long t0 = System.nanoTime();
    loadAtStart = StorageReport.loadAverage();
    Path repo = Main.path(models);
    Path logDir = Main.path(logs);
    Files.createDirectories(logDir);
    serverConfigText = Files.readString(Main.path(serverConfig)).strip() + "\n\n"
        + String.format(Locale.ROOT, "rollouts { backfill_threads: %d chunk_size: %d lease_ms: 60000 }%n",
            backfillThreads, chunkSize);
    Path config = logDir.resolve("rollout-server.textproto");
    Files.writeString(config, serverConfigText);
    ModelSpec from = ModelSpec.newBuilder().setName(model).setVersion(fromVersion).build();
    ModelSpec to = ModelSpec.newBuilder().setName(model).setVersion(toVersion).build();

    int cores = Runtime.getRuntime().availableProcessors();
    List<byte[]> pngs = new ArrayList<>();
    SceneGenerator ceilingScenes = scenes(TIMED);
    for (int i = 0; i < Math.min(CEILING_IMAGES, items); i++) {
      pngs.add(Workload.png(ceilingScenes, ceilingScenes.next()));
    }
    Path versionDir = repo.resolve(model).resolve(Long.toString(toVersion));
    int[] callers = cores == 1 ? new int[] {1} : new int[] {1, cores};
    List<Ceiling.ImageRate> ceiling = ceiling(versionDir, pngs, callers, List.of());

    String url = ownDatabase == null ? databaseUrl : freshDatabase();
    Results results;
    try (ServerProcess server = ServerProcess.startWithDatabase(repo, config, url, List.of(from, to), heap,
        logDir.resolve("server-rollout.log"));
        DirectDb db = new DirectDb(url)) {
      long postmaster = Cpu.parentOf(Long.parseLong(db.scalar("SELECT pg_backend_pid()")));
      Probes probes = new Probes(server, postmaster);
      RolloutClient client = new RolloutClient(server.client);
      StorageClient storage = new StorageClient(server.load);

      StorageClient.Ingest timedIngest = ingest(client, storage, db, TIMED, items, from);
      List<SearchRequest> searches = searches(server, TIMED);
      LoadGenerator embed = new LoadGenerator(server.load, new Workload(model, embedVersion), server::cpuNanos);
      jitWarmup = JitWarmUp.run(server, jitWarmupMax, () -> {
        embed.closedLoop(Workload.Kind.image, embedCallers, 0, 4000);
        storage.closedLoop(searches, searchCallers, 0, 2000);
      });
      log("warm-up: %s", jitWarmup);

      List<Backfill> backfills = new ArrayList<>();
      for (int round = 1; round <= rounds; round++) {
        if (round > 1) {
          client.abort(TIMED);
          ceiling = ceiling(versionDir, pngs, callers, ceiling);
        }
        backfills.add(timedBackfill(client, probes, to));
      }
      double fastest = backfills.stream().mapToDouble(Backfill::itemsPerSecond).max().orElse(Double.NaN);
      int live = liveItems > 0 ? liveItems : liveSize(fastest);
      StorageClient.Ingest liveIngest = ingest(client, storage, db, LIVE, live, from);
      List<SearchRequest> liveSearches = searches(server, LIVE);

      List<Live> windows = new ArrayList<>();
      for (Condition c : Condition.values()) {
        windows.add(window(c, "Search", searchCallers, client, probes, to, () -> {
          StorageClient.Load l = storage.closedLoop(liveSearches, searchCallers, 0, duration * 1000);
          return new Measured(l.qps(), l.p50(), l.p99(), l.errors());
        }, () -> storage.closedLoop(liveSearches, searchCallers, 0, warmup * 1000)));
        windows.add(window(c, "Embed (image)", embedCallers, client, probes, to, () -> {
          LoadGenerator.Result r = embed.closedLoop(Workload.Kind.image, embedCallers, 0, duration * 1000);
          long failed = r.codes().entrySet().stream().filter(e -> e.getKey() != Status.Code.OK)
              .mapToLong(Map.Entry::getValue).sum();
          return new Measured(r.throughput(), r.p50(), r.p99(), failed);
        }, () -> embed.closedLoop(Workload.Kind.image, embedCallers, 0, warmup * 1000)));
      }
      if (!keep && ownDatabase == null) {
        client.drop(TIMED);
        client.drop(LIVE);
      }
      results = new Results(ceiling, timedIngest, backfills, liveIngest, windows, db.scalar("SHOW server_version"),
          db.scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'"), (System.nanoTime() - t0) / 60e9);
    }
    if (!keep && ownDatabase != null) {
      try (DirectDb admin = new DirectDb(databaseUrl)) {
        admin.execute("DROP DATABASE " + quoted(ownDatabase) + " WITH (FORCE)");
      }
    }
    String section = new RolloutReport(this).markdown(results);
    Path outPath = Main.path(out);
    String doc = Files.exists(outPath) ? Files.readString(outPath) : "";
    Files.writeString(outPath, MarkedSection.ROLLOUT.replace(doc, section));
    log("wrote the rollout section of %s (%.1f min)", outPath, results.minutes());
    return 0;
  }

  /**
   * Creates {@link #ownDatabase} afresh beside the database of {@link #databaseUrl}; returns
   * the URL of the new one.
   */
  private String freshDatabase() throws SQLException {
    try (DirectDb admin = new DirectDb(databaseUrl)) {
      admin.execute("DROP DATABASE IF EXISTS " + quoted(ownDatabase) + " WITH (FORCE)");
      admin.execute("CREATE DATABASE " + quoted(ownDatabase));
    }
    log("database: %s, created afresh", ownDatabase);
    return withDatabase(databaseUrl, ownDatabase);
  }

  /** {@code url} (postgresql://... or jdbc:postgresql://...) naming database {@code name} instead of its own. */
  static String withDatabase(String url, String name) {
    int host = url.indexOf("://") + 3;
    int slash = url.indexOf('/', host);
    int query = url.indexOf('?', host);
    int end = query < 0 ? url.length() : query;
    if (slash < 0 || slash > end) {
      return url.substring(0, end) + "/" + name + url.substring(end);
    }
    return url.substring(0, slash + 1) + name + url.substring(end);
  }

  private static String quoted(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  /**
   * One round of the in-process ceiling ({@link Ceiling#images}); each measurement kept only
   * where it beats the same one of {@code before}, an earlier round.
   */
  private List<Ceiling.ImageRate> ceiling(Path versionDir, List<byte[]> pngs, int[] callers,
      List<Ceiling.ImageRate> before) throws Exception {
    log("ceiling: %s in-process, images from PNG and from pixels, batch %s, callers %s", versionDir,
        Arrays.toString(CEILING_BATCHES), Arrays.toString(callers));
    List<Ceiling.ImageRate> best = new ArrayList<>();
    for (Ceiling.ImageRate r : Ceiling.images(versionDir, pngs, CEILING_BATCHES, callers, ceilingMillis,
        ceilingWarmupMillis)) {
      log("ceiling %s, batch %d, %d caller(s): %.0f images/s (%.2f cores; the machine %.2f)",
          r.fromPng() ? "from PNG" : "from pixels", r.batch(), r.callers(), r.perSecond(), r.cores(), r.machineCores());
      Ceiling.ImageRate earlier = before.stream().filter(b -> b.fromPng() == r.fromPng() && b.batch() == r.batch()
          && b.callers() == r.callers()).findFirst().orElse(null);
      best.add(earlier != null && earlier.perSecond() > r.perSecond() ? earlier : r);
    }
    return best;
  }

  /** The scenes of collection {@code name}, fixed by {@code --seed}. */
  private SceneGenerator scenes(String name) {
    return new SceneGenerator(seed + (name.equals(TIMED) ? 0 : 1), Split.ALL, 64, 64);
  }

  /**
   * Creates {@code name} on {@code from}, fills it with {@code count} scenes through
   * UpsertStream (the client's Ingest), then runs VACUUM ANALYZE on its table so that
   * autovacuum does not start in a measurement that follows.
   */
  private StorageClient.Ingest ingest(RolloutClient client, StorageClient storage, DirectDb db, String name, int count,
      ModelSpec from) throws InterruptedException, SQLException {
    client.create(name, from);
    SceneGenerator gen = scenes(name);
    log("ingest: %d scenes into %s (%s version %d), UpsertStream", count, name, model, fromVersion);
    StorageClient.Ingest in = storage.ingest(name, RolloutClient.scenes(gen, "scene", count), messageItems, 2);
    double vacuum = db.vacuumAnalyze(db.tableOf(name));
    log("ingest: %d scenes in %.1f s, %.0f items/s; VACUUM ANALYZE %.1f s", in.rows(), in.seconds(),
        in.rowsPerSecond(), vacuum);
    return in;
  }

  /**
   * Scenes for the collection rolled out under live load: enough for the longest window (the
   * wait for the backfill to start, warmup and measurement) at {@code rate}, times 1.5.
   */
  private int liveSize(double rate) {
    double seconds = warmup + duration + 5;
    int n = (int) Math.ceil(1.5 * (Double.isNaN(rate) ? 1000 : rate) * seconds / 500) * 500;
    return Math.max(2000, n);
  }

  /** {@code queries} random unit vectors of the collection's dimension, as Search requests. */
  private List<SearchRequest> searches(ServerProcess server, String collection) {
    int dim = server.client.getCollection(collection).getDimension();
    Random random = new Random(seed);
    List<SearchRequest> list = new ArrayList<>();
    for (int q = 0; q < queries; q++) {
      double[] v = new double[dim];
      double norm = 0;
      for (int i = 0; i < dim; i++) {
        v[i] = random.nextGaussian();
        norm += v[i] * v[i];
      }
      Vector.Builder vector = Vector.newBuilder();
      for (double x : v) {
        vector.addValues((float) (x / Math.sqrt(norm)));
      }
      list.add(SearchRequest.newBuilder().setCollection(collection).setVector(vector).setTopK(topK).build());
    }
    return list;
  }

  /**
   * Starts a rollout of {@value #TIMED} to {@code to} without a rate limit and samples
   * GetRollout every {@code sampleMillis} until it settles (READY, FAILED, ...).
   */
  private Backfill timedBackfill(RolloutClient client, Probes probes, ModelSpec to) throws InterruptedException {
    log("backfill: rollout of %s (%d items) to %s version %d, no rate limit, GetRollout every %d ms", TIMED, items,
        model, toVersion, sampleMillis);
    List<Probe> samples = new ArrayList<>();
    samples.add(probes.take(null));
    client.start(TIMED, to, 0);
    long start = samples.get(0).nanos();
    long until = start + TimeUnit.MINUTES.toNanos(30);
    for (int k = 1; ; k++) {
      Probe p = probes.take(client.get(TIMED));
      samples.add(p);
      if (RolloutClient.SETTLED.contains(p.rollout().getState()) || p.nanos() > until) {
        break;
      }
      long wait = start + k * sampleMillis * 1_000_000L - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
    }
    int first = -1;
    int last = -1;
    int indexed = -1;
    int ready = -1;
    for (int i = 1; i < samples.size(); i++) {
      Probe p = samples.get(i);
      if (p.done() > samples.get(i - 1).done()) {
        first = first < 0 ? i : first;
        last = i;
      }
      if (indexed < 0 && p.rollout().getProgress().getIndexBuilt()) {
        indexed = i;
      }
      if (ready < 0 && p.rollout().getState() == Rollout.State.READY) {
        ready = i;
      }
    }
    Probe end = samples.get(samples.size() - 1);
    if (end.rollout().getState() != Rollout.State.READY) {
      throw new IllegalStateException("the rollout of " + TIMED + " ended " + end.rollout().getState() + ": "
          + end.rollout().getError());
    }
    if (first < 0) {
      throw new IllegalStateException("the backfill of " + TIMED + " showed no progress");
    }
    Probe a = samples.get(first);
    Probe b = samples.get(last);
    double seconds = Probe.seconds(a, b);
    long timedItems = b.done() - a.done();
    Probe s0 = samples.get(0);
    Backfill f = new Backfill(end.rollout().getProgress().getTotal(), samples.size(), timedItems, seconds,
        last == first ? Double.NaN : timedItems / seconds, Probe.seconds(s0, a), Probe.seconds(s0, b),
        indexed < 0 ? Double.NaN : Probe.seconds(b, samples.get(indexed)), Probe.seconds(b, samples.get(ready)),
        Probe.cores(a, b), end.rollout());
    log("backfill: %d items in %.2f s between the first and last progress change: %.0f items/s; server %.2f cores,"
        + " PostgreSQL %.2f cores; last item to READY %.2f s", f.items(), f.seconds(), f.itemsPerSecond(),
        f.cores().server(), f.cores().postgres(), f.toReadySeconds());
    return f;
  }

  /** A measured load. */
  interface Load {
    Measured run() throws InterruptedException;
  }

  /** Load run unmeasured before a window. */
  interface Warm {
    void run() throws InterruptedException;
  }

  /**
   * One live window on {@value #LIVE}: under {@code condition}, a rollout started afresh (and
   * backfilling) before the warmup and aborted after the window, so that every window runs
   * beside a backfill from its start.
   */
  private Live window(Condition condition, String name, int callers, RolloutClient client, Probes probes,
      ModelSpec to, Load load, Warm warm) throws InterruptedException {
    boolean rollout = condition != Condition.idle;
    if (rollout) {
      client.startBackfill(LIVE, to, condition == Condition.limited ? rateLimit : 0);
    }
    warm.run();
    Probe a = probes.take(rollout ? client.get(LIVE) : null);
    Measured m = load.run();
    Probe b = probes.take(rollout ? client.get(LIVE) : null);
    if (rollout) {
      client.abort(LIVE);
    }
    Live l = new Live(condition, name, callers, m, Probe.cores(a, b),
        rollout ? (b.done() - a.done()) / Probe.seconds(a, b) : Double.NaN, rollout ? b.rollout().getState() : null);
    log("%s, %s: %.1f/s, p50 %.2f ms, p99 %.2f ms, %d errors; server %.2f, PostgreSQL %.2f, bench %.2f cores;"
        + " backfill %.0f items/s%s", condition.label, name, m.perSecond(), m.p50() / 1e3, m.p99() / 1e3, m.errors(),
        l.cores().server(), l.cores().postgres(), l.cores().bench(), l.backfillPerSecond(),
        rollout ? " (" + l.backfillAfter() + " at the end)" : "");
    return l;
  }

  /** Reads the clocks of one run. */
  private record Probes(ServerProcess server, long postmaster) {
    Probe take(@Nullable Rollout rollout) {
      return new Probe(System.nanoTime(), server.cpuNanos(), postmaster < 0 ? -1 : Cpu.treeNanos(postmaster),
          Cpu.selfNanos(), Cpu.machineNanos(), rollout);
    }
  }

  static void log(String format, Object... args) {
    System.err.printf(Locale.ROOT, "bench: " + format + "%n", args);
  }
}
