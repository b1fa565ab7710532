package io.jointspace.server;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.ServerReadyRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code jointspace serve} as a child process of the test, on the shipped model repository,
 * with its private database in {@code dataDir}; what it prints is appended to a log file.
 */
final class ServeProcess implements AutoCloseable {
  final Process process;
  final int port;
  private final Path log;
  private ManagedChannel channel;

  private ServeProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Starts {@code serve} without waiting for it; {@code extra} arguments go last. */
  static ServeProcess start(Path home, Path dataDir, int port, Path log, String... extra) throws IOException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        "-Djointspace.home=" + home,
        "io.jointspace.server.Main", "serve",
        "--models", home.resolve("models").toString(), "--grpc-port", Integer.toString(port),
        "--http-port", "-1", "--poll-interval-ms", "-1", "--data-dir", dataDir.toString()));
    command.addAll(List.of(extra));
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
    return new ServeProcess(process, port, log);
  }

  /** Waits until the server answers ServerReady; a channel to it. */
  ManagedChannel awaitReady() throws Exception {
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (System.nanoTime() < deadline && process.isAlive()) {
      try {
        if (GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
            .serverReady(ServerReadyRequest.getDefaultInstance()).getReady()) {
          return channel;
        }
      } catch (StatusRuntimeException e) {
        // not up yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("serve did not become ready:\n" + log());
  }

  /** SIGTERM, as Ctrl-C or an init system stops it; its exit code. */
  int stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow();
    }
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new AssertionError("serve did not stop within 60 s of SIGTERM");
    }
    return process.exitValue();
  }

  /** Everything the log file holds (every process that appended to it). */
  String log() throws IOException {
    return Files.readString(log, StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow();
    }
    process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
  }
}
