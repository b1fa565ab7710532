package io.jointspace.bench;

import io.jointspace.api.v1.ModelSpec;
import io.jointspace.client.JointspaceClient;
import io.jointspace.client.JointspaceException;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;

/**
 * A Jointspace server in a child JVM ({@code io.jointspace.server.Main serve}, the bench's own
 * classpath, which holds the server and its libraries), with its own CPU time readable, and
 * the two clients the benchmarks talk to it with.
 */
final class ServerProcess implements AutoCloseable {
  private final Process process;
  final int port;
  /**
   * Setup and control calls (collections, model metadata, rollouts): the client's defaults
   * (retries of the calls that can be repeated) with a deadline of 120 s, for deletes and
   * aborts that wait for a backfill's locks.
   */
  final JointspaceClient client;
  /**
   * The measured calls (Embed, Search, UpsertStream), on a connection of their own: retries
   * off and a 30 s deadline (see {@link LoadGenerator#client}).
   */
  final JointspaceClient load;

  private ServerProcess(Process process, int port) {
    this.process = process;
    this.port = port;
    String address = "127.0.0.1:" + port;
    this.client = JointspaceClient.builder(address).deadline(Duration.ofSeconds(120)).build();
    this.load = LoadGenerator.client(address);
  }

  static ServerProcess start(Path models, boolean batching, String heap, Path log, Workload workload,
      @Nullable Path config) throws IOException, InterruptedException {
    return start(models, batching, heap, log, workload, config, List.of());
  }

  /** As above, with {@code jvmArgs} given to the server's JVM (e.g. a flight recording). */
  static ServerProcess start(Path models, boolean batching, String heap, Path log, Workload workload,
      @Nullable Path config, List<String> jvmArgs) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of("--models", models.toString(), "--batching", batching ? "on" : "off"));
    if (config != null) {
      args.addAll(List.of("--config", config.toString()));
    }
    ServerProcess server = launch(args, heap, log, jvmArgs);
    server.awaitReady(180, log, () -> { // on the measured calls' connection, which this opens
      server.load.embedResponse(workload.next(Workload.Kind.image));
      server.load.embedResponse(workload.next(Workload.Kind.text));
    });
    return server;
  }

  /**
   * Starts {@code serve} with {@code args} on a free loopback port, metrics and repository
   * polling off, TensorFlow quiet and DJL offline, its output in {@code log}.
   */
  private static ServerProcess launch(List<String> args, String heap, Path log, List<String> jvmArgs)
      throws IOException {
    return launch(args, heap, log, jvmArgs, -1);
  }

  /**
   * A server that scans {@code models} every {@code pollMillis}, with the config file
   * {@code config}; ready once the model version {@code await} answers GetModelMetadata.
   */
  static ServerProcess startPolling(Path models, Path config, long pollMillis, ModelSpec await, String heap, Path log)
      throws IOException, InterruptedException {
    ServerProcess server = launch(List.of("--models", models.toString(), "--config", config.toString()), heap, log,
        List.of(), pollMillis);
    server.awaitReady(180, log, () -> server.client.modelMetadata(await));
    return server;
  }

  private static ServerProcess launch(List<String> args, String heap, Path log, List<String> jvmArgs, long pollMillis)
      throws IOException {
    int port = freePort();
    List<String> main = new ArrayList<>(List.of("io.jointspace.server.Main", "serve",
        "--grpc-port", Integer.toString(port), "--http-port", "-1", "--poll-interval-ms", Long.toString(pollMillis)));
    main.addAll(args);
    return spawn(main, port, heap, log, jvmArgs);
  }

  /**
   * grpc-java alone ({@link BareServer}) in a child JVM with the server's JVM options and
   * {@code threads} handler threads (0: on the event loop); ready once it answers ServerLive.
   */
  static ServerProcess bare(int threads, String heap, Path log, List<String> jvmArgs)
      throws IOException, InterruptedException {
    int port = freePort();
    ServerProcess server = spawn(List.of(BareServer.class.getName(), Integer.toString(port), Integer.toString(threads)),
        port, heap, log, jvmArgs);
    var live = io.jointspace.api.inference.GRPCInferenceServiceGrpc.newBlockingStub(server.load.channel());
    server.awaitReady(60, log, () -> live.withDeadlineAfter(5, TimeUnit.SECONDS)
        .serverLive(io.jointspace.api.inference.ServerLiveRequest.getDefaultInstance()));
    return server;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Runs {@code main} (a class and its arguments) on the bench's classpath, listening on {@code port}. */
  private static ServerProcess spawn(List<String> main, int port, String heap, Path log, List<String> jvmArgs)
      throws IOException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap));
    cmd.addAll(jvmArgs);
    // extra JVM options for the server, e.g. -XX:StartFlightRecording=filename=server.jfr to profile it
    String extra = System.getenv("BENCH_SERVER_JVM_OPTS");
    if (extra != null && !extra.isBlank()) {
      cmd.addAll(List.of(extra.trim().split("\\s+")));
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path")));
    cmd.addAll(main);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
    pb.environment().putIfAbsent("TF_CPP_MIN_LOG_LEVEL", "2");
    pb.environment().put("OPT_OUT_TRACKING", "true");
    pb.environment().put("DJL_OFFLINE", "true");
    return new ServerProcess(pb.start(), port);
  }

  /**
   * A server for the storage benchmark: collections in the database at {@code databaseUrl},
   * models from {@code models}; ready once {@code model} is AVAILABLE and ListCollections answers.
   */
  static ServerProcess startStorage(Path models, String databaseUrl, String model, String heap, Path log)
      throws IOException, InterruptedException {
    return startWithDatabase(models, null, databaseUrl, List.of(JointspaceClient.model(model)), heap, log);
  }

  /**
   * A server with collections in the database at {@code databaseUrl}, models from
   * {@code models} and the config file {@code config} if any; ready once every model version
   * of {@code await} is AVAILABLE and ListCollections answers.
   */
  static ServerProcess startWithDatabase(Path models, @Nullable Path config, String databaseUrl,
      List<ModelSpec> await, String heap, Path log) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of("--models", models.toString(), "--database-url", databaseUrl));
    if (config != null) {
      args.addAll(List.of("--config", config.toString()));
    }
    ServerProcess server = launch(args, heap, log, List.of());
    server.awaitReady(180, log, () -> {
      for (ModelSpec spec : await) {
        server.client.modelMetadata(spec);
      }
      server.client.listCollections();
    });
    return server;
  }

  /**
   * Waits until {@code probe} succeeds (its calls answer OK); closes the server and fails when
   * it exits or {@code seconds} pass first.
   */
  private void awaitReady(int seconds, Path log, Runnable probe) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      if (!process.isAlive()) {
        close();
        throw new IllegalStateException("server exited with " + process.exitValue() + " (see " + log + ")");
      }
      try {
        probe.run();
        return;
      } catch (JointspaceException | io.grpc.StatusRuntimeException e) {
        if (System.nanoTime() > until) {
          close();
          throw new IllegalStateException("server not ready after " + seconds + " s: " + e.getMessage());
        }
        Thread.sleep(250);
      }
    }
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** CPU time of the server process so far, in nanoseconds. */
  long cpuNanos() {
    return Cpu.processNanos(process.pid());
  }

  /** Stops the server: SIGTERM, then SIGKILL after 30 s (or at once if interrupted). */
  @Override
  public void close() {
    client.close();
    load.close();
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
