package io.jointspace.bench;

import io.jointspace.client.JointspaceClient;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jointspace-bench}: the batching benchmark suite, and a load generator for any server. */
@Command(name = "jointspace-bench", mixinStandardHelpOptions = true,
    description = "Benchmarks Jointspace's dynamic batching (bench/run.sh, docs/benchmarks.md).",
    subcommands = {Suite.class, OverheadSuite.class, StorageSuite.class, RolloutSuite.class, WarmupSuite.class,
        SearchSuite.class, MixedSuite.class, Main.Load.class})
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** One closed- or open-loop run against a server that is already running. */
  @Command(name = "load", mixinStandardHelpOptions = true,
      description = "Closed- or open-loop single-input Embed load against a running server.")
  static final class Load implements Callable<Integer> {
    @Option(names = "--target", defaultValue = "127.0.0.1:8500", description = "host:port. Default: ${DEFAULT-VALUE}.")
    String target;

    @Option(names = "--model", defaultValue = "shapes-clip", description = "Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--model-version", defaultValue = "2", description = "Default: ${DEFAULT-VALUE}.")
    long version;

    @Option(names = "--kind", defaultValue = "image", description = "image or text. Default: ${DEFAULT-VALUE}.")
    Workload.Kind kind;

    @Option(names = "--concurrency", defaultValue = "64",
        description = "Closed loop: concurrent callers. Default: ${DEFAULT-VALUE}.")
    int concurrency;

    @Option(names = "--rate", description = "Open loop at this many requests per second (instead of closed loop).")
    Double rate;

    @Option(names = "--max-in-flight", defaultValue = "4096",
        description = "Open loop: most outstanding calls; a due call beyond it is not sent, and counted. Default: ${DEFAULT-VALUE}.")
    int maxInFlight;

    @Option(names = "--warmup-s", defaultValue = "5", description = "Default: ${DEFAULT-VALUE}.")
    long warmupSeconds;

    @Option(names = "--duration-s", defaultValue = "20", description = "Measured seconds. Default: ${DEFAULT-VALUE}.")
    long durationSeconds;

    @Option(names = "--server-pid", description = "Also report this process's CPU (/proc/PID/stat).")
    Long serverPid;

    @Override
    public Integer call() throws Exception {
      try (JointspaceClient client = LoadGenerator.client(target)) {
        Workload workload = new Workload(model, version);
        LoadGenerator gen = new LoadGenerator(client, workload,
            () -> serverPid == null ? -1 : Cpu.processNanos(serverPid));
        LoadGenerator.Result r = rate == null
            ? gen.closedLoop(kind, concurrency, warmupSeconds * 1000, durationSeconds * 1000)
            : gen.openLoop(kind, rate, maxInFlight, warmupSeconds * 1000, durationSeconds * 1000);
        System.out.printf("%s, %s: %.1f req/s OK, p50 %.2f ms, p95 %.2f ms, p99 %.2f ms; %s; server CPU %.2f cores,"
                + " load generator CPU %.2f cores%n", r.mode(), r.kind(), r.throughput(), r.p50() / 1e3,
            r.p95() / 1e3, r.p99() / 1e3, r.codesText(), r.serverCores(), r.benchCores());
        return 0;
      }
    }
  }

  static Path path(String p) {
    return Path.of(p).toAbsolutePath().normalize();
  }
}
