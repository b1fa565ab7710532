package io.jointspace.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.Status;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.client.Filter;
import io.jointspace.client.JointspaceClient;
import io.jointspace.client.JointspaceException;
import io.jointspace.trainer.Scene;
import io.jointspace.trainer.SceneGenerator;
import io.jointspace.trainer.Split;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Mixed load: callers that each, one call at a time, pick at random an Embed of 1-8 images, a
 * Classify of one image, an Upsert of 1-16 images, a filtered Search by text, a Get or a Delete
 * of items they stored, against one server with its default settings (batching on, default
 * limits) and a collection of scenes. Every call is sent once (retries off), so every refusal
 * counts; each refusal's message is kept, to say which limit refused it. Writes the
 * mixed-benchmark section of docs/benchmarks.md.
 */
@Command(name = "mixed", mixinStandardHelpOptions = true,
    description = "Mixed load from many callers (embeds, classify, upserts, filtered searches, gets, deletes);"
        + " counts refusals.")
final class MixedSuite implements java.util.concurrent.Callable<Integer> {
  static final String COLLECTION = "bench_mixed";
  static final String MODEL = "shapes-clip";
  private static final List<String> COLORS = Arrays.stream(io.jointspace.trainer.ShapeColor.values())
      .map(c -> c.name().toLowerCase(Locale.ROOT)).toList();
  private static final List<String> LABELS = COLORS.stream().map(c -> "a photo of a " + c + " shape.").toList();

  @Option(names = "--database-url", required = true, description = "postgresql://... with pgvector.")
  String databaseUrl;

  @Option(names = "--database-note", defaultValue = "", description = "How the database was provided, for the report.")
  String databaseNote;

  @Option(names = "--models", defaultValue = "models", description = "Model repository. Default: ${DEFAULT-VALUE}.")
  Path models;

  @Option(names = "--callers", defaultValue = "12", description = "Concurrent callers. Default: ${DEFAULT-VALUE}.")
  int callers;

  @Option(names = "--duration-s", defaultValue = "720", description = "Measured seconds. Default: ${DEFAULT-VALUE}.")
  long durationSeconds;

  @Option(names = "--warmup-s", defaultValue = "30", description = "Unmeasured seconds first. Default: ${DEFAULT-VALUE}.")
  long warmupSeconds;

  @Option(names = "--seed-items", defaultValue = "2000",
      description = "Scenes stored before the run (UpsertStream). Default: ${DEFAULT-VALUE}.")
  int seedItems;

  @Option(names = "--server-heap", defaultValue = "2g", description = "Default: ${DEFAULT-VALUE}.")
  String heap;

  @Option(names = "--out", defaultValue = "docs/benchmarks.md",
      description = "Report: its mixed-benchmark section is replaced (or appended). Default: ${DEFAULT-VALUE}.")
  Path out;

  @Option(names = "--logs", defaultValue = "bench/target", description = "Default: ${DEFAULT-VALUE}.")
  Path logs;

  @Option(names = "--command", defaultValue = "bench/run-mixed.sh", description = "The command line the report names.")
  String command;

  enum Op { EMBED, CLASSIFY, UPSERT, SEARCH, GET, DELETE }

  /** What one kind of call did over the measured window. */
  static final class Tally {
    final LongAdder calls = new LongAdder();
    final LongAdder ok = new LongAdder();
    final LongAdder inputs = new LongAdder();
    final Map<Status.Code, LongAdder> failed = new ConcurrentHashMap<>();
    final List<Long> nanos = java.util.Collections.synchronizedList(new ArrayList<>());
  }

  private final Map<Op, Tally> tallies = new EnumMap<>(Op.class);
  /** Refusal and error messages, numbers masked, with their counts. */
  private final Map<String, LongAdder> messages = new ConcurrentHashMap<>();
  private volatile boolean measuring;
  private volatile boolean stop;

  @Override
  public Integer call() throws Exception {
    String loadAtStart = StorageReport.loadAverage();
    for (Op op : Op.values()) {
      tallies.put(op, new Tally());
    }
    Files.createDirectories(logs);
    long started = System.nanoTime();
    try (ServerProcess server = ServerProcess.startWithDatabase(models, null, databaseUrl,
        List.of(JointspaceClient.model(MODEL)), heap, logs.resolve("server-mixed.log"))) {
      JointspaceClient control = server.client;
      StorageSuite.drop(control, COLLECTION);
      control.createCollection(CreateCollectionRequest.newBuilder().setName(COLLECTION)
          .setModel(JointspaceClient.model(MODEL)).build());
      SceneGenerator seedScenes = new SceneGenerator(7, Split.ALL, 64, 64);
      log("storing %d scenes in %s", seedItems, COLLECTION);
      new StorageClient(server.load).ingest(COLLECTION, RolloutClient.scenes(seedScenes, "item", seedItems), 100, 2);
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < callers; i++) {
        int caller = i;
        Thread t = new Thread(() -> loop(server.load, caller), "caller-" + i);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
      log("%d callers: %d s warm-up, then %d s measured", callers, warmupSeconds, durationSeconds);
      Thread.sleep(warmupSeconds * 1000);
      long serverCpu0 = server.cpuNanos();
      long t0 = System.nanoTime();
      measuring = true;
      Thread.sleep(durationSeconds * 1000);
      measuring = false;
      double seconds = (System.nanoTime() - t0) / 1e9;
      double serverCores = (server.cpuNanos() - serverCpu0) / 1e9 / seconds;
      stop = true;
      for (Thread t : threads) {
        t.join(60_000);
      }
      StorageSuite.drop(control, COLLECTION);
      String section = report(seconds, serverCores, loadAtStart, (System.nanoTime() - started) / 60e9);
      String doc = Files.exists(out) ? Files.readString(out) : "";
      Files.writeString(out, MarkedSection.MIXED.replace(doc, section));
      System.out.print(section);
    }
    return 0;
  }

  /** One caller: calls one at a time until told to stop. */
  private void loop(JointspaceClient client, int caller) {
    SplittableRandom rnd = new SplittableRandom(1000 + caller);
    SceneGenerator scenes = new SceneGenerator(100 + caller, Split.ALL, 64, 64);
    List<Scene> pool = new ArrayList<>();
    List<ByteString> pngs = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      Scene s = scenes.next();
      pool.add(s);
      pngs.add(ByteString.copyFrom(Workload.png(scenes, s)));
    }
    ArrayDeque<String> stored = new ArrayDeque<>();
    long next = 0;
    ModelSpec model = JointspaceClient.model(MODEL);
    while (!stop) {
      Op op = Op.values()[rnd.nextInt(Op.values().length)];
      if ((op == Op.DELETE || op == Op.GET) && stored.isEmpty()) {
        op = Op.UPSERT;
      }
      int inputs = 1;
      long t = System.nanoTime();
      try {
        switch (op) {
          case EMBED -> {
            inputs = 1 + rnd.nextInt(8);
            List<Input> in = new ArrayList<>();
            for (int i = 0; i < inputs; i++) {
              in.add(Input.newBuilder().setImage(pngs.get(rnd.nextInt(pngs.size()))).build());
            }
            client.embed(model, in);
          }
          case CLASSIFY -> client.classify(model,
              List.of(Input.newBuilder().setImage(pngs.get(rnd.nextInt(pngs.size()))).build()), LABELS);
          case UPSERT -> {
            inputs = 1 + rnd.nextInt(16);
            List<Item> items = new ArrayList<>();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < inputs; i++) {
              int k = rnd.nextInt(pool.size());
              String id = "c" + caller + "-" + next++;
              ids.add(id);
              items.add(Item.newBuilder().setId(id).setInput(Input.newBuilder().setImage(pngs.get(k)))
                  .setMetadata(Struct.newBuilder().putFields("color", Value.newBuilder().setStringValue(
                      pool.get(k).combo().color().name().toLowerCase(Locale.ROOT)).build())).build());
            }
            client.upsert(COLLECTION, items);
            stored.addAll(ids);
          }
          case SEARCH -> client.search(COLLECTION).text(pool.get(rnd.nextInt(pool.size())).caption())
              .filter(Filter.eq("color", COLORS.get(rnd.nextInt(COLORS.size())))).topK(10).run();
          case GET -> {
            inputs = Math.min(stored.size(), 1 + rnd.nextInt(4));
            client.get(COLLECTION, stored.stream().limit(inputs).toList(), false, false);
          }
          case DELETE -> {
            inputs = Math.min(stored.size(), 1 + rnd.nextInt(4));
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < inputs; i++) {
              ids.add(stored.pollFirst());
            }
            client.delete(COLLECTION, ids);
          }
          default -> throw new IllegalStateException();
        }
        count(op, inputs, System.nanoTime() - t, null, null);
      } catch (JointspaceException e) {
        count(op, inputs, System.nanoTime() - t, e.code(), e.getMessage());
      } catch (RuntimeException e) {
        count(op, inputs, System.nanoTime() - t, Status.Code.UNKNOWN, String.valueOf(e));
      }
    }
  }

  private void count(Op op, int inputs, long nanos, Status.Code failure, String message) {
    if (!measuring) {
      return;
    }
    Tally tally = tallies.get(op);
    tally.calls.increment();
    tally.inputs.add(inputs);
    tally.nanos.add(nanos);
    if (failure == null) {
      tally.ok.increment();
    } else {
      tally.failed.computeIfAbsent(failure, c -> new LongAdder()).increment();
      String masked = (op.name().toLowerCase(Locale.ROOT) + ": " + failure + ": " + message).replaceAll("[0-9]+", "N");
      messages.computeIfAbsent(masked, m -> new LongAdder()).increment();
    }
  }

  private String report(double seconds, double serverCores, String loadAtStart, double minutes) {
    StringBuilder b = new StringBuilder();
    int cores = Runtime.getRuntime().availableProcessors();
    line(b, "## Mixed load: which calls are refused");
    line(b, "");
    line(b, "Generated by `%s` (`io.jointspace.bench.MixedSuite`); every number in this section comes from one run of"
        + " it.", command);
    line(b, "");
    line(b, "- Date: %s; the whole run took %.1f min. Machine: %d cores, %s; Java %s. Load average (1, 5, 15 min) at"
        + " the start: %s; at the end: %s.", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME),
        minutes, cores, Cpu.model(), System.getProperty("java.version"), loadAtStart, StorageReport.loadAverage());
    line(b, "- Server: `serve --models %s --database-url URL` (-Xmx%s), its defaults otherwise: batching on, the"
        + " default queue limits. PostgreSQL: %s, on the same machine, as are the callers.", models, heap,
        databaseNote.isEmpty() ? "given with --database-url" : databaseNote);
    line(b, "- Collection `%s` (`%s`, its default version), %,d scenes stored first. %d callers, each sending its next"
        + " call when the last answers, over one channel, every call sent once (retries off) with a 30 s deadline;"
        + " each call picks one of six kinds at random: Embed of 1-8 images, Classify of one image against %d"
        + " labels, Upsert of 1-16 images (the server embeds them), Search by text with a filter `color = <one of"
        + " %d>` (top 10), Get and Delete of 1-4 items the caller stored. %d s warm-up, then %d s measured.",
        COLLECTION, MODEL, seedItems, callers, LABELS.size(), COLORS.size(), warmupSeconds, durationSeconds);
    line(b, "");
    line(b, "| call | calls | images or ids per call | OK | RESOURCE_EXHAUSTED | other errors | p50 ms | p99 ms |");
    line(b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    long calls = 0;
    long refused = 0;
    long errors = 0;
    for (Op op : Op.values()) {
      Tally t = tallies.get(op);
      long[] ns;
      synchronized (t.nanos) {
        ns = t.nanos.stream().mapToLong(Long::longValue).toArray();
      }
      Arrays.sort(ns);
      long exhausted = t.failed.getOrDefault(Status.Code.RESOURCE_EXHAUSTED, new LongAdder()).sum();
      long other = t.failed.values().stream().mapToLong(LongAdder::sum).sum() - exhausted;
      calls += t.calls.sum();
      refused += exhausted;
      errors += other;
      line(b, "| %s | %,d | %.1f | %,d | %,d | %,d | %.1f | %.1f |", op.name().toLowerCase(Locale.ROOT), t.calls.sum(),
          t.calls.sum() == 0 ? 0 : t.inputs.sum() / (double) t.calls.sum(), t.ok.sum(), exhausted, other,
          LoadGenerator.percentile(ns, 0.50) / 1e3, LoadGenerator.percentile(ns, 0.99) / 1e3);
    }
    line(b, "");
    line(b, "In all: %,d calls in %.0f s (%.0f calls/s), %,d refused with RESOURCE_EXHAUSTED, %,d other errors; the"
        + " server process used %.2f of the %d cores on average.", calls, seconds, calls / seconds, refused, errors,
        serverCores, cores);
    if (!messages.isEmpty()) {
      line(b, "");
      line(b, "What failed calls were told (numbers masked as N):");
      line(b, "");
      new TreeMap<>(messages).forEach((m, n) -> line(b, "- %,d x `%s`", n.sum(),
          m.length() > 300 ? m.substring(0, 300) + "..." : m));
    }
    return b.toString();
  }

  private static void line(StringBuilder b, String format, Object... args) {
    b.append(String.format(Locale.ROOT, format, args)).append('\n');
  }

  static void log(String format, Object... args) {
    System.err.printf(Locale.ROOT, "bench: " + format + "%n", args);
  }
}
