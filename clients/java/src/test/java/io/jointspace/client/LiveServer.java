package io.jointspace.client;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.ServerReadyRequest;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The real server as a child process ({@code io.jointspace.server.Main serve}, as
 * {@code ./jointspace serve} runs it) on the shipped models, with its own private database
 * under {@code target/}; stopped with SIGTERM, which also stops its database.
 */
final class LiveServer implements AutoCloseable {
  static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

  final Process process;
  final String address;
  private final Path log;

  private LiveServer(Process process, String address, Path log) {
    this.process = process;
    this.address = address;
    this.log = log;
  }

  static LiveServer start(String name) throws Exception {
    return start(name, List.of(), -1);
  }

  /** The folder of a server's private database, under target/. */
  static Path dataDir(String name) {
    return Path.of("target", "pg-" + name).toAbsolutePath();
  }

  /** As {@link #start(String)}, with {@code extra} arguments after the others. */
  static LiveServer start(String name, String... extra) throws Exception {
    return start(name, List.of(extra), -1);
  }

  /**
   * With {@code extra} flags after the usual ones. With a {@code healthPort} (the server's
   * {@code --health-port}, in {@code extra}), readiness is awaited there in plaintext: the
   * gRPC port may require TLS.
   */
  static LiveServer start(String name, List<String> extra, int healthPort) throws Exception {
    int port = freePort();
    Path data = dataDir(name);
    if (Files.exists(data)) {
      new ProcessBuilder("bash", ROOT.resolve("deploy/local/pg-cluster.sh").toString(), "stop", data.toString())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(60, TimeUnit.SECONDS);
      try (Stream<Path> files = Files.walk(data)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    Path log = Path.of("target", "server-" + name + ".log").toAbsolutePath();
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "-Djointspace.home=" + ROOT,
        "io.jointspace.server.Main", "serve",
        "--config", ROOT.resolve("models/serve.textproto").toString(), "--models", ROOT.resolve("models").toString(),
        "--grpc-port", Integer.toString(port), "--http-port", "-1", "--poll-interval-ms", "-1",
        "--data-dir", data.toString()));
    command.addAll(extra);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    LiveServer server = new LiveServer(p, "127.0.0.1:" + port, log);
    server.awaitReady(healthPort < 0 ? server.address : "127.0.0.1:" + healthPort);
    return server;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private void awaitReady(String plaintextAddress) throws Exception {
    ManagedChannel channel = ManagedChannelBuilder.forTarget(plaintextAddress).usePlaintext().build();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
      while (System.nanoTime() < deadline && process.isAlive()) {
        try {
          if (GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
              .serverReady(ServerReadyRequest.getDefaultInstance()).getReady()) {
            return;
          }
        } catch (StatusRuntimeException e) {
          // not up yet
        }
        Thread.sleep(250);
      }
      throw new IllegalStateException("the server did not become ready:\n" + Files.readString(log));
    } finally {
      channel.shutdownNow();
    }
  }

  @Override
  public void close() throws IOException, InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }
}
