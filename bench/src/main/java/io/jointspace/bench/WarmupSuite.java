package io.jointspace.bench;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.ModelState;
import io.jointspace.api.v1.ModelVersionStatus;
import io.jointspace.client.JointspaceClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Warm-up benchmark: (a) the latency of the first calls to a version that appears in the
 * repository while the server runs, against the same calls once it is steady, with warm-up on
 * and off; (b) the time from starting {@code ./jointspace serve} with the shipped models to
 * SERVING on gRPC health. Writes the warmup-benchmark section of docs/benchmarks.md.
 */
@Command(name = "warmup", mixinStandardHelpOptions = true,
    description = "First calls after a version change, and start to SERVING, with warm-up on and off.")
final class WarmupSuite implements Callable<Integer> {
  @Option(names = "--models", defaultValue = "models", description = "The shipped model repository. Default: ${DEFAULT-VALUE}.")
  Path models;

  @Option(names = "--model", defaultValue = "shapes-clip", description = "Default: ${DEFAULT-VALUE}.")
  String model;

  @Option(names = "--first-calls", defaultValue = "100", description = "Measured calls right after AVAILABLE. Default: ${DEFAULT-VALUE}.")
  int firstCalls;

  @Option(names = "--settle-calls", defaultValue = "1000",
      description = "Unmeasured calls after those, before the steady ones. Default: ${DEFAULT-VALUE}.")
  int settleCalls;

  @Option(names = "--steady-calls", defaultValue = "1000", description = "Measured steady calls. Default: ${DEFAULT-VALUE}.")
  int steadyCalls;

  @Option(names = "--rounds", defaultValue = "3",
      description = "Version changes per server (versions 2, 3, ...: copies of the model's version 2). Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Option(names = "--start-runs", defaultValue = "5", description = "Timed starts per setting. Default: ${DEFAULT-VALUE}.")
  int startRuns;

  @Option(names = "--server-heap", defaultValue = "2g", description = "Default: ${DEFAULT-VALUE}.")
  String heap;

  @Option(names = "--out", defaultValue = "docs/benchmarks.md",
      description = "Report: its warmup-benchmark section is replaced (or appended). Default: ${DEFAULT-VALUE}.")
  Path out;

  @Option(names = "--logs", defaultValue = "bench/target", description = "Default: ${DEFAULT-VALUE}.")
  Path logs;

  @Option(names = "--command", defaultValue = "bench/run-warmup.sh", description = "The command line the report names.")
  String command;

  /** One version change: the new version's load, its first calls and its steady calls (ms). */
  record Change(boolean warmup, long version, double loadMs, String serverWarmup, double[] first, double[] steady) {}

  @Override
  public Integer call() throws Exception {
    String loadAtStart = StorageReport.loadAverage();
    List<Change> changes = new ArrayList<>();
    for (boolean warmup : new boolean[] {true, false}) {
      changes.addAll(versionChanges(warmup));
    }
    List<double[]> starts = new ArrayList<>();
    startOnce(true); // unmeasured: the launcher's build check, the page cache and TensorFlow's unpacked libraries
    for (boolean warmup : new boolean[] {true, false}) {
      double[] s = new double[startRuns];
      for (int i = 0; i < startRuns; i++) {
        s[i] = startOnce(warmup);
        System.err.printf(Locale.ROOT, "start to SERVING, warm-up %s: %.2f s%n", warmup ? "on" : "off", s[i]);
      }
      starts.add(s);
    }
    String section = report(changes, starts, loadAtStart);
    String doc = Files.exists(out) ? Files.readString(out) : "";
    Files.writeString(out, MarkedSection.WARMUP.replace(doc, section));
    System.out.print(section);
    return 0;
  }

  /**
   * A server with version 1 of the model, warmed by calls (so the JVM is steady), then
   * {@link #rounds} times a new version (2, 3, ...: copies of the model's version 2) moved into
   * the repository; once it is AVAILABLE, calls one at a time alternate an image and a text,
   * all pinned to the new version.
   */
  private List<Change> versionChanges(boolean warmup) throws Exception {
    Path work = logs.resolve("warmup-" + (warmup ? "on" : "off"));
    deleteTree(work);
    Path repo = work.resolve("repo");
    Files.createDirectories(repo.resolve(model));
    copyTree(models.resolve(model).resolve("1"), repo.resolve(model).resolve("1"));
    Path config = work.resolve("server.textproto");
    Files.writeString(config, "warmup { enabled: " + warmup + " }\n");
    Path log = work.resolve("server.log");
    try (ServerProcess server = ServerProcess.startPolling(repo, config, 50,
        io.jointspace.api.v1.ModelSpec.newBuilder().setName(model).setVersion(1).build(), heap, log)) {
      Workload v1 = new Workload(model, 1);
      calls(server, v1, settleCalls); // the JVM's paths compiled before the change
      List<Change> out = new ArrayList<>();
      for (int round = 0; round < rounds; round++) {
        long version = 2 + round;
        Path staging = repo.resolve(model).resolve(".incoming");
        copyTree(models.resolve(model).resolve("2"), staging);
        Workload next = new Workload(model, version);
        System.gc(); // this client's garbage collected before the timed calls, not during them
        long t0 = System.nanoTime();
        Files.move(staging, repo.resolve(model).resolve(Long.toString(version)), StandardCopyOption.ATOMIC_MOVE);
        awaitAvailable(server, version, 120);
        double loadMs = (System.nanoTime() - t0) / 1e6;
        double[] first = calls(server, next, firstCalls);
        calls(server, next, settleCalls);
        double[] steady = calls(server, next, steadyCalls);
        out.add(new Change(warmup, version, loadMs, serverWarmup(log, model + "@" + version), first, steady));
      }
      return out;
    }
  }

  /** {@code n} calls one at a time, alternating an image and a text; each call's latency in ms. */
  private static double[] calls(ServerProcess server, Workload workload, int n) {
    double[] ms = new double[n];
    for (int i = 0; i < n; i++) {
      EmbedRequest request = workload.next(i % 2 == 0 ? Workload.Kind.image : Workload.Kind.text);
      long t = System.nanoTime();
      server.load.embedResponse(request);
      ms[i] = (System.nanoTime() - t) / 1e6;
    }
    return ms;
  }

  private void awaitAvailable(ServerProcess server, long version, int seconds) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < until) {
      for (ModelVersionStatus v : server.client.modelStatus(model).getVersionsList()) {
        if (v.getVersion() == version && v.getState() == ModelState.AVAILABLE) {
          return;
        }
        if (v.getVersion() == version && v.getState() == ModelState.ERROR) {
          throw new IllegalStateException(model + "@" + version + " failed to load: " + v.getLastError());
        }
      }
      Thread.sleep(5);
    }
    throw new IllegalStateException(model + "@" + version + " not AVAILABLE after " + seconds + " s");
  }

  /** The server's own "Warmed up" line for {@code version}: its time and runs; "-" when off. */
  private static String serverWarmup(Path log, String version) throws IOException {
    Pattern p = Pattern.compile("Warmed up " + Pattern.quote(version) + " in (\\d+) ms: (\\d+) runs from (\\S+)");
    for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
      Matcher m = p.matcher(line);
      if (m.find()) {
        return m.group(1) + " ms, " + m.group(2) + " runs (" + m.group(3) + ")";
      }
    }
    return "-";
  }

  /**
   * Seconds from starting {@code ./jointspace serve} with the shipped models (build already
   * done) to SERVING on grpc.health.v1 for the whole server ("": every initial version
   * loaded, and warmed up when warm-up is on); the server is stopped afterwards.
   */
  private double startOnce(boolean warmup) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = logs.resolve("warmup-start.log");
    ProcessBuilder pb = new ProcessBuilder("./jointspace", "serve", "--models", models.toString(), "--grpc-port",
        Integer.toString(port), "--http-port", "-1", "--poll-interval-ms", "-1")
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("JOINTSPACE_WARMUP", warmup ? "on" : "off");
    pb.environment().put("JOINTSPACE_JAVA_OPTS", "-Xmx" + heap);
    long t0 = System.nanoTime();
    Process process = pb.start();
    try {
      long until = t0 + TimeUnit.SECONDS.toNanos(300);
      while (System.nanoTime() < until) {
        if (!process.isAlive()) {
          throw new IllegalStateException("./jointspace serve exited with " + process.exitValue() + " (see " + log + ")");
        }
        if (serving(port)) {
          return (System.nanoTime() - t0) / 1e9;
        }
        Thread.sleep(20);
      }
      throw new IllegalStateException("not SERVING after 300 s (see " + log + ")");
    } finally {
      stop(process);
    }
  }

  /**
   * One health check on a fresh connection: a channel that failed to connect would wait out
   * its reconnect backoff (seconds, growing) before trying again, and hide when the port opened.
   */
  private static boolean serving(int port) throws InterruptedException {
    ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      HealthCheckResponse r = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
          .check(HealthCheckRequest.newBuilder().setService("").build());
      return r.getStatus() == HealthCheckResponse.ServingStatus.SERVING;
    } catch (io.grpc.StatusRuntimeException e) {
      return false; // not listening yet
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Stops the launcher's processes (the server JVM and its log filter), children first. */
  private static void stop(Process process) throws InterruptedException {
    List<ProcessHandle> children = process.descendants().toList();
    children.forEach(ProcessHandle::destroy);
    process.destroy();
    for (ProcessHandle h : children) {
      try {
        h.onExit().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        h.destroyForcibly();
      }
    }
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private String report(List<Change> changes, List<double[]> starts, String loadAtStart) {
    StringBuilder b = new StringBuilder();
    b.append("## Warm-up: first calls after a version change, and start to SERVING\n\n");
    b.append(String.format(Locale.ROOT, "`%s`, %s, %d cores (%s); load average %s at the start, %s at the end"
        + " (1, 5, 15 min; above the core count means other processes were competing for the CPU).%n%n",
        command, LocalDate.now(), Runtime.getRuntime().availableProcessors(), Cpu.model(), loadAtStart,
        StorageReport.loadAverage()));
    b.append(String.format(Locale.ROOT, "A server runs `%s` version 1 (repository scanned every 50 ms) and gets %d calls;"
        + " then, %d times, a new version (2, 3, ...: copies of version 2, each a session of its own) is moved into"
        + " the repository. From the move to AVAILABLE (GetModelStatus every 5 ms) is \"load\". Then calls one at a"
        + " time, alternating one image and one text, pinned to the new version: the first %d are measured, %d more"
        + " are not, and the next %d are the steady ones. Latency is the client's, per call. Nearest-rank"
        + " percentiles. Both servers (warm-up on, then off) run in this same run, one after the other.%n%n",
        model, settleCalls, rounds, firstCalls, settleCalls, steadyCalls));
    b.append("| warm-up | version | load to AVAILABLE | the server's warm-up | first call | first ")
        .append(firstCalls).append(": p50 / p99 / max | steady: p50 / p99 | first p99 / steady p99 |\n");
    b.append("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |\n");
    for (Change c : changes) {
      double[] f = c.first().clone();
      double[] s = c.steady().clone();
      Arrays.sort(f);
      Arrays.sort(s);
      b.append(String.format(Locale.ROOT, "| %s | %d | %.0f ms | %s | %.1f ms | %.1f / %.1f / %.1f ms | %.1f / %.1f ms | %.2fx |%n",
          c.warmup() ? "on" : "off", c.version(), c.loadMs(), c.serverWarmup(), c.first()[0], pct(f, 0.5), pct(f, 0.99),
          f[f.length - 1], pct(s, 0.5), pct(s, 0.99), pct(f, 0.99) / pct(s, 0.99)));
    }
    for (boolean warmup : new boolean[] {true, false}) {
      double[] first = changes.stream().filter(c -> c.warmup() == warmup).mapToDouble(c -> {
        double[] f = c.first().clone();
        Arrays.sort(f);
        return pct(f, 0.99);
      }).sorted().toArray();
      double[] ratio = changes.stream().filter(c -> c.warmup() == warmup).mapToDouble(c -> {
        double[] f = c.first().clone();
        double[] st = c.steady().clone();
        Arrays.sort(f);
        Arrays.sort(st);
        return pct(f, 0.99) / pct(st, 0.99);
      }).sorted().toArray();
      double[] firstCall = changes.stream().filter(c -> c.warmup() == warmup).mapToDouble(c -> c.first()[0])
          .sorted().toArray();
      b.append(String.format(Locale.ROOT, "%nWarm-up %s, median of the %d changes: first call %.1f ms, first-%d p99 %.1f ms,"
          + " first p99 / steady p99 %.2fx.", warmup ? "on" : "off", ratio.length, median(firstCall), firstCalls,
          median(first), median(ratio)));
    }
    b.append("\n");
    b.append(String.format(Locale.ROOT, "%nStart: `./jointspace serve --models %s` (the build already done) to SERVING"
        + " on grpc.health.v1 for the whole server (every initial version loaded, and warmed up when warm-up is on),"
        + " from the process start; %d runs per setting after one unmeasured run.%n%n", models, startRuns));
    b.append("| warm-up | median | min | max |\n| --- | ---: | ---: | ---: |\n");
    for (int i = 0; i < starts.size(); i++) {
      double[] s = starts.get(i).clone();
      Arrays.sort(s);
      b.append(String.format(Locale.ROOT, "| %s | %.2f s | %.2f s | %.2f s |%n", i == 0 ? "on" : "off",
          median(s), s[0], s[s.length - 1]));
    }
    return b.toString();
  }

  private static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** Nearest-rank percentile of sorted values. */
  static double pct(double[] sorted, double q) {
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
