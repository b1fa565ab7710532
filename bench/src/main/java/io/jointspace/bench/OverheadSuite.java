package io.jointspace.bench;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.ModelInferRequest;
import io.jointspace.api.inference.ModelInferRequest.InferInputTensor;
import io.jointspace.server.Settings;
import io.jointspace.server.runtime.CallScope;
import io.jointspace.server.runtime.DType;
import io.jointspace.server.runtime.LoadOptions;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.runtime.SignatureInfo;
import io.jointspace.server.runtime.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What batching costs a caller who does not need it, and what a trivial call costs the server:
 * a tensor model (TF Serving's half_plus_two over ModelInfer) and the image encoder (Embed, one
 * image), each at a few caller counts against a child server with batching off and then on;
 * server CPU per call from /proc (the load generator's excluded), after a JIT warm-up. The
 * baselines are measured in this process first: TF Java's own session run of half_plus_two,
 * the server's {@link ModelVersion#call} of it, and the encoder from PNG bytes at each batch
 * size. Writes its section of docs/benchmarks.md (between the overhead-benchmark markers).
 */
@Command(name = "overhead", mixinStandardHelpOptions = true,
    description = "Batching on/off at few and many callers, and the cost of a trivial call; writes its section of the report.")
final class OverheadSuite implements Callable<Integer> {
  @Option(names = "--models", defaultValue = "models", description = "Model repository. Default: ${DEFAULT-VALUE}.")
  String models;

  @Option(names = "--model", defaultValue = "shapes-clip", description = "The encoder. Default: ${DEFAULT-VALUE}.")
  String model;

  @Option(names = "--model-version", defaultValue = "2", description = "Default: ${DEFAULT-VALUE}.")
  long version;

  @Option(names = "--tensor-model", defaultValue = "../shared/testdata/savedmodels/saved_model_half_plus_two_cpu",
      description = "TF Serving's half_plus_two (a model folder with numbered versions); the tensor rows are skipped"
          + " when it is absent. Default: ${DEFAULT-VALUE}.")
  String tensorModel;

  @Option(names = "--callers", split = ",", defaultValue = "1,4,8,64", description = "Default: ${DEFAULT-VALUE}.")
  List<Integer> callers = new ArrayList<>();

  @Option(names = "--warmup-s", defaultValue = "2", description = "Per run. Default: ${DEFAULT-VALUE}.")
  long warmup;

  @Option(names = "--duration-s", defaultValue = "6", description = "Measured seconds per run. Default: ${DEFAULT-VALUE}.")
  long duration;

  @Option(names = "--jit-warmup-max-s", defaultValue = "90", description = "Default: ${DEFAULT-VALUE}; 0 skips it.")
  long jitWarmupMax;

  @Option(names = "--rounds", defaultValue = "2",
      description = "Windows per row and server, alternating between the servers (the order swapped each round);"
          + " the report gives their median (for two, the mean). Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Option(names = "--batching", defaultValue = "off,on", split = ",",
      description = "Which servers to run, in order (none: the baselines only). Default: ${DEFAULT-VALUE}.")
  List<String> batchings = new ArrayList<>();

  @Option(names = "--calls", defaultValue = "infer,live,image", split = ",",
      description = "Which calls to measure: infer (ModelInfer half_plus_two), live (ServerLive), image (Embed)."
          + " Default: ${DEFAULT-VALUE}.")
  List<Workload.Kind> calls = new ArrayList<>();

  @Option(names = "--floor", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Measure grpc-java alone (a bare server answering ModelInfer and ServerLive) first: the floor"
          + " under a trivial call on this machine. Default: on.")
  boolean floor;

  @Option(names = "--skip-baselines", description = "Skip the in-process baselines (for a quick look or a profile).")
  boolean skipBaselines;

  @Option(names = "--server-jvm-args", split = " ",
      description = "Extra JVM options for the servers (e.g. a flight recording), space-separated.")
  List<String> serverJvmArgs = new ArrayList<>();

  @Option(names = "--server-heap", defaultValue = "2g", description = "Default: ${DEFAULT-VALUE}.")
  String heap;

  @Option(names = "--out", defaultValue = "docs/benchmarks.md",
      description = "Report whose overhead section is replaced (or appended). Default: ${DEFAULT-VALUE}.")
  String out;

  @Option(names = "--logs", defaultValue = "bench/target", description = "Default: ${DEFAULT-VALUE}.")
  String logs;

  @Option(names = "--command", defaultValue = "bench/run-overhead.sh", description = "The command line the report names.")
  String command;

  static final String TENSOR_MODEL = "half_plus_two";
  static final int[] BATCH_SIZES = {1, 8, 32, 64};

  /** One closed-loop run: what, how many callers, with batching on or off. */
  record Run(Workload.Kind kind, int callers, boolean batching, LoadGenerator.Result result) {
    double cpuMicrosPerCall() {
      return result.serverCores() * 1e6 / result.throughput();
    }
  }

  @Override
  public Integer call() throws Exception {
    long t0 = System.nanoTime();
    String loadAtStart = loadAverage();
    Path logDir = Main.path(logs);
    Path repo = logDir.resolve("overhead-models");
    Path tensorDir = Main.path(tensorModel);
    boolean tensor = Files.isDirectory(tensorDir);
    if (!tensor) {
      log("%s is absent: skipping the half_plus_two rows (the tensor model comes from ../shared/testdata)", tensorDir);
    }
    makeRepo(repo, Main.path(models).resolve(model), tensor ? tensorDir : null);
    Workload workload = new Workload(model, version);

    log("in-process baselines");
    Baselines base = skipBaselines ? new Baselines(Double.NaN, Double.NaN, Double.NaN, Map.of(), 0, Map.of(), Double.NaN)
        : baselines(tensor ? latestVersion(tensorDir) : null,
            Main.path(models).resolve(model).resolve(Long.toString(version)), workload);
    log("baselines: %s", base);

    List<Run> runs = new ArrayList<>();
    List<Run> floorRuns = new ArrayList<>();
    List<String> warmups = new ArrayList<>();
    List<Run> directRuns = new ArrayList<>();
    if (floor) {
      for (int threads : new int[] {Settings.DEFAULT_GRPC_THREADS, 0}) {
        String name = threads == 0 ? "grpc-java alone, handlers on the event loop" : "grpc-java alone";
        try (ServerProcess s = ServerProcess.bare(threads, heap,
            logDir.resolve("server-overhead-bare-" + threads + ".log"), serverJvmArgs)) {
          LoadGenerator gen = new LoadGenerator(s.load, workload, s::cpuNanos, inferRequest());
          String w = JitWarmUp.run(s, jitWarmupMax, () -> {
            gen.closedLoop(Workload.Kind.infer, 1, 0, 1000);
            gen.closedLoop(Workload.Kind.infer, 16, 0, 1500);
          });
          warmups.add(name + ": " + w);
          for (Workload.Kind kind : threads == 0 ? List.of(Workload.Kind.infer)
              : List.of(Workload.Kind.infer, Workload.Kind.live)) {
            for (int c : callers) {
              Run r = new Run(kind, c, false, gen.closedLoop(kind, c, warmup * 1000, duration * 1000));
              log("%s, %s, %d callers: %.0f calls/s, %.0f us server CPU per call, %s", name, kind, c,
                  r.result().throughput(), r.cpuMicrosPerCall(), r.result().codesText());
              (threads == 0 ? directRuns : floorRuns).add(r);
            }
          }
        }
      }
    }
    // the servers run side by side, each warmed first; every row is measured in windows that
    // alternate between them, the order swapped each round, so a drift of the machine (or of the
    // load generator) over the run falls on both alike
    List<Boolean> servers = new ArrayList<>();
    for (String b : batchings) {
      if (b.equals("on") || b.equals("off")) {
        servers.add(b.equals("on"));
      }
    }
    List<ServerProcess> started = new ArrayList<>();
    try {
      java.util.Map<Boolean, LoadGenerator> gens = new java.util.LinkedHashMap<>();
      ModelInferRequest infer = tensor ? inferRequest() : null;
      for (boolean on : servers) {
        String b = on ? "on" : "off";
        ServerProcess s = ServerProcess.start(repo, on, heap, logDir.resolve("server-overhead-" + b + ".log"),
            workload, null, serverJvmArgs);
        started.add(s);
        if (tensor) {
          awaitTensorModel(s, infer);
        }
        LoadGenerator gen = new LoadGenerator(s.load, workload, s::cpuNanos, infer);
        gens.put(on, gen);
        String w = JitWarmUp.run(s, jitWarmupMax, () -> { // the calls measured, alone and in crowds
          if (tensor && calls.contains(Workload.Kind.infer)) {
            gen.closedLoop(Workload.Kind.infer, 1, 0, 1000);
            gen.closedLoop(Workload.Kind.infer, 16, 0, 1500);
          }
          if (calls.contains(Workload.Kind.live)) {
            gen.closedLoop(Workload.Kind.live, 1, 0, 500);
          }
          if (calls.contains(Workload.Kind.image)) {
            gen.closedLoop(Workload.Kind.image, 1, 0, 1000);
            gen.closedLoop(Workload.Kind.image, 64, 0, 2000);
          }
        });
        warmups.add("batching " + b + ": " + w);
        log("warm-up, batching %s: %s", b, w);
      }
      for (Workload.Kind kind : calls) {
        if (kind == Workload.Kind.infer && !tensor) {
          continue;
        }
        for (int c : callers) {
          for (int round = 0; round < rounds; round++) {
            List<Boolean> order = new ArrayList<>(gens.keySet());
            if (round % 2 == 1) {
              java.util.Collections.reverse(order);
            }
            for (boolean on : order) {
              if (kind == Workload.Kind.live && on) {
                continue;
              }
              Run r = new Run(kind, c, on, gens.get(on).closedLoop(kind, c, warmup * 1000, duration * 1000));
              log("batching %s, %s, %d callers, round %d: %.0f calls/s, %.0f us server CPU per call, p50 %.2f ms, %s",
                  on ? "on" : "off", kind, c, round + 1, r.result().throughput(), r.cpuMicrosPerCall(),
                  r.result().p50() / 1e3, r.result().codesText());
              runs.add(r);
            }
          }
        }
      }
    } finally {
      for (ServerProcess s : started) {
        s.close();
      }
    }
    double minutes = (System.nanoTime() - t0) / 60e9;
    String md = markdown(base, runs, floorRuns, directRuns, warmups, loadAtStart, loadAverage(), minutes, tensor);
    Path outPath = Main.path(out);
    String doc = Files.exists(outPath) ? Files.readString(outPath) : "";
    Files.writeString(outPath, MarkedSection.OVERHEAD.replace(doc, md));
    log("wrote the %s section of %s (%.1f min)", MarkedSection.OVERHEAD.name(), outPath, minutes);
    return 0;
  }

  /** A repository of the encoder and, when present, half_plus_two, as links to their folders. */
  private void makeRepo(Path repo, Path encoder, @Nullable Path tensorDir) throws Exception {
    Files.createDirectories(repo);
    try (var old = Files.list(repo)) {
      for (Path p : (Iterable<Path>) old::iterator) {
        Files.delete(p);
      }
    }
    Files.createSymbolicLink(repo.resolve(model), encoder);
    if (tensorDir != null) {
      Files.createSymbolicLink(repo.resolve(TENSOR_MODEL), tensorDir);
    }
  }

  private static Path latestVersion(Path modelDir) throws Exception {
    try (var versions = Files.list(modelDir)) {
      return versions.filter(p -> p.getFileName().toString().matches("\\d+"))
          .max((a, b) -> Long.compare(Long.parseLong(a.getFileName().toString()),
              Long.parseLong(b.getFileName().toString())))
          .orElseThrow(() -> new IllegalStateException("no numbered version in " + modelDir));
    }
  }

  /** ModelInfer of half_plus_two's serving_default with one row, x = [[1.0]]. */
  static ModelInferRequest inferRequest() {
    ByteBuffer x = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.0f);
    return ModelInferRequest.newBuilder().setModelName(TENSOR_MODEL)
        .addInputs(InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(1).addShape(1))
        .addRawInputContents(ByteString.copyFrom(x.array()))
        .build();
  }

  private static void awaitTensorModel(ServerProcess s, ModelInferRequest infer) throws InterruptedException {
    var stub = GRPCInferenceServiceGrpc.newBlockingStub(s.load.channel());
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        stub.withDeadlineAfter(10, TimeUnit.SECONDS).modelInfer(infer);
        return;
      } catch (io.grpc.StatusRuntimeException e) {
        if (System.nanoTime() > until || e.getStatus().getCode() != Status.Code.UNAVAILABLE
            && e.getStatus().getCode() != Status.Code.NOT_FOUND) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }

  /**
   * In-process costs, CPU microseconds per call or image. {@code session}: TF Java's own
   * session run of half_plus_two (feed, run, fetch, close); {@code modelCall}: the server's
   * {@link ModelVersion#call} of it without a queue (checks, tensor copies, session run);
   * {@code perImage}: PNG decode + preprocess + encoder, by batch size, from {@code threads}
   * threads; {@code imagesPerSecond*}: the encoder alone on preprocessed pixels, at batch 1
   * from 64 threads and at its best batch size.
   */
  record Baselines(double session, double sessionInline, double modelCall, Map<Integer, Double> perImage, int threads,
      Map<Integer, Double> pixelsPerSecond, double pixelsBatch1Wide) {
    double bestPerImage() {
      return perImage.values().stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    int bestPerImageSize() {
      return perImage.entrySet().stream().min(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(0);
    }

    double bestPixels() {
      return pixelsPerSecond.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    double encoderGain() {
      return bestPixels() / pixelsBatch1Wide;
    }
  }

  private Baselines baselines(@Nullable Path tensorVersion, Path encoderVersion, Workload workload)
      throws Exception {
    double session = Double.NaN;
    double sessionInline = Double.NaN;
    double modelCall = Double.NaN;
    if (tensorVersion != null) {
      try (SavedModelBundle bundle = SavedModelBundle.load(tensorVersion.toString(), "serve")) {
        Session s = bundle.session();
        session = cpuMicrosPerCall(() -> {
          try (TFloat32 x = TFloat32.tensorOf(Shape.of(1, 1), DataBuffers.of(1.0f));
               Result r = s.runner().feed("x:0", x).fetch("y:0").run()) {
            if (r.size() != 1) {
              throw new IllegalStateException();
            }
          }
        });
        RunOptions inline = RunOptions.newBuilder().setInterOpThreadPool(-1).build();
        sessionInline = cpuMicrosPerCall(() -> {
          try (TFloat32 x = TFloat32.tensorOf(Shape.of(1, 1), DataBuffers.of(1.0f));
               Result r = s.runner().feed("x:0", x).fetch("y:0").setOptions(inline).run()) {
            if (r.size() != 1) {
              throw new IllegalStateException();
            }
          }
        });
      }
      try (ModelVersion m = ModelVersion.load(tensorVersion, LoadOptions.DEFAULT)) {
        SignatureInfo sig = m.signature("");
        byte[] one = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.0f).array();
        Map<String, TensorData> in = Map.of("x", TensorData.ofBytes(DType.FP32, new long[] {1, 1}, one));
        modelCall = cpuMicrosPerCall(() -> m.call(sig, in, List.of(), CallScope.NONE));
      }
    }
    int threads = Runtime.getRuntime().availableProcessors();
    List<Ceiling.ImageRate> rates = Ceiling.images(encoderVersion, workload.pngs(), BATCH_SIZES,
        new int[] {threads, 64}, 1500, 3000);
    Map<Integer, Double> perImage = new LinkedHashMap<>();
    Map<Integer, Double> pixels = new LinkedHashMap<>();
    double batch1Wide = Double.NaN;
    for (Ceiling.ImageRate r : rates) {
      if (r.fromPng() && r.callers() == threads) {
        perImage.put(r.batch(), r.cores() * 1e6 / r.perSecond());
      }
      if (!r.fromPng()) {
        pixels.merge(r.batch(), r.perSecond(), Math::max);
        if (r.batch() == 1 && r.callers() == 64) {
          batch1Wide = r.perSecond();
        }
      }
    }
    return new Baselines(session, sessionInline, modelCall, perImage, threads, pixels, batch1Wide);
  }

  /**
   * CPU microseconds of this process per call of {@code call} from one thread, after a warm-up:
   * TensorFlow's own threads count too, as they do in the server.
   */
  private static double cpuMicrosPerCall(Runnable call) {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
    while (System.nanoTime() < until) {
      call.run();
    }
    long n = 0;
    long cpu0 = Cpu.selfNanos();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    while (System.nanoTime() < end) {
      call.run();
      n++;
    }
    return (Cpu.selfNanos() - cpu0) / 1e3 / n;
  }

  private String markdown(Baselines base, List<Run> runs, List<Run> floorRuns, List<Run> directRuns,
      List<String> warmups, String loadStart, String loadEnd, double minutes, boolean tensor) {
    StringBuilder b = new StringBuilder();
    line(b, "## Batching that never costs a lone caller, and the cost of a trivial call");
    line(b, "");
    line(b, "Generated by `%s` (`io.jointspace.bench.OverheadSuite`); every number in this section comes from one run"
        + " of it.", command);
    line(b, "");
    line(b, "- Date: %s; %.1f min. Load average (1 min) at start and end: %s and %s (the end includes this run's own"
        + " load).", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME), minutes, loadStart, loadEnd);
    line(b, "- Machine: %d cores, %s; Java %s. The load generator shares the cores with the server.",
        Runtime.getRuntime().availableProcessors(), Cpu.model(), System.getProperty("java.version"));
    line(b, "- Calls: %s, and Embed of one 64x64 PNG by `%s/%s` version %d. Closed loop, %d s warmup then %d s"
        + " measured per row. Server CPU per call = the server process's CPU time (/proc/PID/stat) over the measured"
        + " window / OK calls in it; the load generator runs in another process and is not counted.",
        tensor ? "ModelInfer of TF Serving's `half_plus_two` (saved_model_half_plus_two_cpu, one FP32 row, raw"
            + " contents)" : "(half_plus_two absent: tensor rows skipped)", models, model, version, warmup, duration);
    line(b, "- Servers: `serve --batching off|on` with the defaults otherwise, each warmed until its JIT compiler"
        + " threads were quiet: %s.", String.join("; ", warmups));
    line(b, "- The two servers run side by side; each row is measured in %d window%s per server, alternating between"
        + " them, the order swapped each round; the tables give the median of a server's windows (for two, the mean):"
        + " throughput, server CPU per call and latency each.", rounds, rounds == 1 ? "" : "s");
    line(b, "");
    line(b, "In-process baselines (this JVM, no gRPC, no queue):");
    line(b, "");
    if (tensor) {
      line(b, "- half_plus_two, TF Java's own session run (feed, run, fetch, close; process CPU, TensorFlow's threads"
          + " included): **%.0f us** per call, %.0f us when the graph runs on the calling thread"
          + " (`RunOptions.inter_op_thread_pool = -1`); the server's `ModelVersion.call` of it (checks, tensor copies,"
          + " the run as the server makes it): %.0f us.", base.session(), base.sessionInline(), base.modelCall());
    }
    StringBuilder sizes = new StringBuilder();
    base.perImage().forEach((size, us) -> sizes.append(sizes.length() == 0 ? "" : ", ")
        .append(String.format(Locale.ROOT, "batch %d: %.0f us", size, us)));
    line(b, "- One image from its PNG bytes (decode, resize, encoder), %d threads: %s; best **%.0f us** per image"
        + " (batch %d).", base.threads(), sizes, base.bestPerImage(), base.bestPerImageSize());
    line(b, "- The encoder alone on preprocessed pixels: %.0f images/s at batch 1 from 64 threads, %.0f at its best"
        + " batch size: an in-process gain of **%.2fx** from batching.", base.pixelsBatch1Wide(), base.bestPixels(),
        base.encoderGain());
    line(b, "");
    line(b, "| call | callers | off calls/s | off us/call | on calls/s | on us/call | on/off calls/s | on/off CPU per call |");
    line(b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Workload.Kind kind : List.of(Workload.Kind.infer, Workload.Kind.live, Workload.Kind.image)) {
      for (int c : callers) {
        Run off = find(runs, kind, c, false);
        Run on = find(runs, kind, c, true);
        if (off == null && on == null) {
          continue;
        }
        line(b, "| %s | %d | %s | %s | %s | %s | %s | %s |", callName(kind), c,
            off == null ? "-" : fmt("%.0f", off.result().throughput()), off == null ? "-" : fmt("%.0f", off.cpuMicrosPerCall()),
            on == null ? "-" : fmt("%.0f", on.result().throughput()), on == null ? "-" : fmt("%.0f", on.cpuMicrosPerCall()),
            off == null || on == null ? "-" : fmt("%.2fx", on.result().throughput() / off.result().throughput()),
            off == null || on == null ? "-" : fmt("%.2fx", on.cpuMicrosPerCall() / off.cpuMicrosPerCall()));
      }
    }
    line(b, "");
    if (!floorRuns.isEmpty()) {
      line(b, "The floor: grpc-java alone (`io.jointspace.bench.BareServer`, the same grpc-java and Netty, a fixed pool"
          + " of %d handler threads like the server's, in a JVM with the same options), answering ModelInfer with the"
          + " response the server gives for half_plus_two without reading the request, and ServerLive; no"
          + " interceptors, no model, no checks. Measured the same way, before the servers:", Settings.DEFAULT_GRPC_THREADS);
      line(b, "");
      line(b, "| call | callers | calls/s | server us/call | handlers on the event loop: calls/s | us/call"
          + " | the server's us/call, batching off | the server's own share |");
      line(b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
      for (Run f : floorRuns) {
        Run ours = find(runs, f.kind(), f.callers(), false);
        Run direct = find(directRuns, f.kind(), f.callers(), false);
        line(b, "| %s (grpc-java alone) | %d | %.0f | %.0f | %s | %s | %s | %s |", callName(f.kind()), f.callers(),
            f.result().throughput(), f.cpuMicrosPerCall(),
            direct == null ? "-" : fmt("%.0f", direct.result().throughput()),
            direct == null ? "-" : fmt("%.0f", direct.cpuMicrosPerCall()),
            ours == null ? "-" : fmt("%.0f", ours.cpuMicrosPerCall()),
            ours == null ? "-" : fmt("%+.0f us", ours.cpuMicrosPerCall() - f.cpuMicrosPerCall()));
      }
      line(b, "");
      line(b, "With the handlers on the event loop (`directExecutor`) a call is not handed to a handler thread and"
          + " back; the server cannot run its handlers there, since they block (models, the database).");
      line(b, "");
    }
    Run img64on = find(runs, Workload.Kind.image, 64, true);
    Run img64off = find(runs, Workload.Kind.image, 64, false);
    Run trivial = find(runs, Workload.Kind.infer, 1, false);
    line(b, "Against the targets:");
    line(b, "");
    if (img64on != null) {
      line(b, "- 64 image callers, batching on: %.0f us server CPU per image = %.2fx the in-process %.0f us (target <= 1.2x).",
          img64on.cpuMicrosPerCall(), img64on.cpuMicrosPerCall() / base.bestPerImage(), base.bestPerImage());
    }
    if (img64on != null && img64off != null) {
      double gain = img64on.result().throughput() / img64off.result().throughput();
      line(b, "- 64 image callers, on/off throughput %.2fx = %.2f of the encoder's own gain %.2fx (target >= 0.9).",
          gain, gain / base.encoderGain(), base.encoderGain());
      Double single = base.perImage().get(1);
      if (single != null) {
        // what an image's whole work gains in-process, decode included, from as many threads as cores:
        // with the cores busy, the server's throughput gains at most what its work does
        line(b, "  An image's whole work in-process (PNG decode, resize, encoder; %d threads) gains %.2fx from batching"
            + " (%.0f us at batch 1, %.0f us at batch %d of CPU per image); the server reaches %.2f of that gain.",
            base.threads(), single / base.bestPerImage(), single, base.bestPerImage(), base.bestPerImageSize(),
            gain / (single / base.bestPerImage()));
      }
    }
    if (trivial != null) {
      line(b, "- Trivial call (ModelInfer half_plus_two, 1 caller, batching off): %.0f us server CPU per call (target"
          + " <= 50 us); in-process the server's own call of the model takes %.0f us of it (TF Java's session run: %.0f us"
          + " on the calling thread, %.0f us through TensorFlow's pool); the rest is gRPC and its thread hand-offs.",
          trivial.cpuMicrosPerCall(), base.modelCall(), base.sessionInline(), base.session());
      Run bare = find(floorRuns, Workload.Kind.infer, 1, false);
      if (bare != null) {
        line(b, "  grpc-java alone answers the same call for %.0f us of CPU on this machine (%s the 50 us target); the"
            + " server's share on top of it is %.0f us, the model's run included.", bare.cpuMicrosPerCall(),
            bare.cpuMicrosPerCall() > 50 ? "above" : "within", trivial.cpuMicrosPerCall() - bare.cpuMicrosPerCall());
      }
    }
    return b.toString();
  }

  private static String callName(Workload.Kind kind) {
    return switch (kind) {
      case infer -> "ModelInfer half_plus_two";
      case live -> "ServerLive";
      case image -> "Embed 1 image";
      case text -> "Embed 1 caption";
    };
  }

  /**
   * The row of {@code kind} at {@code callers}: its one run, or, over several rounds, a run of
   * their medians (throughput, server CPU per call, latencies; for two, the means) and their
   * summed counts. Null when there is none.
   */
  @Nullable
  private static Run find(List<Run> runs, Workload.Kind kind, int callers, boolean batching) {
    List<Run> rounds = runs.stream()
        .filter(r -> r.kind() == kind && r.callers() == callers && r.batching() == batching).toList();
    if (rounds.size() <= 1) {
      return rounds.isEmpty() ? null : rounds.get(0);
    }
    List<LoadGenerator.Result> rs = rounds.stream().map(Run::result).toList();
    double throughput = median(rs.stream().mapToDouble(LoadGenerator.Result::throughput).toArray());
    double cpuPerCall = median(rounds.stream().mapToDouble(r -> r.result().serverCores() / r.result().throughput())
        .toArray());
    java.util.Map<io.grpc.Status.Code, Long> codes = new java.util.EnumMap<>(io.grpc.Status.Code.class);
    rs.forEach(r -> r.codes().forEach((code, n) -> codes.merge(code, n, Long::sum)));
    LoadGenerator.Result first = rs.get(0);
    LoadGenerator.Result merged = new LoadGenerator.Result(first.mode(), kind,
        rs.stream().mapToDouble(LoadGenerator.Result::seconds).sum(), first.offeredRate(),
        rs.stream().mapToLong(LoadGenerator.Result::ok).sum(), codes,
        rs.stream().mapToLong(LoadGenerator.Result::clientSkipped).sum(), throughput,
        median(rs.stream().mapToDouble(LoadGenerator.Result::p50).toArray()),
        median(rs.stream().mapToDouble(LoadGenerator.Result::p95).toArray()),
        median(rs.stream().mapToDouble(LoadGenerator.Result::p99).toArray()), cpuPerCall * throughput,
        median(rs.stream().mapToDouble(LoadGenerator.Result::benchCores).toArray()));
    return new Run(kind, callers, batching, merged);
  }

  /** The median; for an even count, the mean of the middle two. */
  static double median(double[] values) {
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  private static String fmt(String f, double v) {
    return String.format(Locale.ROOT, f, v);
  }

  private static void line(StringBuilder b, String format, Object... args) {
    b.append(String.format(Locale.ROOT, format, args)).append('\n');
  }

  private static void log(String format, Object... args) {
    System.err.printf(Locale.ROOT, "bench: " + format + "%n", args);
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0];
    } catch (Exception e) {
      return "?";
    }
  }
}
