package io.jointspace.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.server.JointspaceServer;
import io.jointspace.server.ServeCommand;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/healthcheck/grpc-health.sh, Compose's health check, against a real server's health
 * port: SERVING, NOT_SERVING (a model whose only version failed to load), a service the
 * server does not know, and a port nobody listens on.
 */
class GrpcHealthScriptTest {
  static final Path SCRIPT = Manifests.DEPLOY.resolve("healthcheck/grpc-health.sh");

  @TempDir static Path repo;
  static JointspaceServer server;
  static int healthPort;

  @BeforeAll
  static void start() throws Exception {
    // a version that cannot load: the model's health service is NOT_SERVING
    Files.createDirectories(repo.resolve("broken/1"));
    Files.writeString(repo.resolve("broken/1/saved_model.pb"), "not a SavedModel", StandardCharsets.UTF_8);
    healthPort = freePort();
    server = new JointspaceServer(ServeCommand.settings(List.of("serve", "--models=" + repo,
        "--grpc-port=" + freePort(), "--health-port=" + healthPort, "--http-port=-1", "--poll-interval-ms=-1"),
        Map.of(), p -> p)).start();
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (server != null) {
      server.stop();
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Runs the script; its exit code, and how long it took in milliseconds. */
  static long[] check(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString(), "--timeout", "10"));
    command.addAll(List.of(args));
    long start = System.nanoTime();
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new long[] {p.exitValue(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)};
  }

  @Test
  void serving_exitsZero_atOnce() throws Exception {
    long[] r = check(Integer.toString(healthPort));
    assertThat(r[0]).isZero();
    assertThat(r[1]).as("answered, not timed out").isLessThan(5000);
  }

  @Test
  void notServing_exitsOne_havingReadTheAnswer() throws Exception {
    long[] r = check(Integer.toString(healthPort), "broken");
    assertThat(r[0]).isEqualTo(1);
    assertThat(r[1]).as("answered, not timed out").isLessThan(5000);
  }

  @Test
  void unknownService_exitsOne_havingReadTheAnswer() throws Exception {
    long[] r = check(Integer.toString(healthPort), "no-such-model");
    assertThat(r[0]).isEqualTo(1);
    assertThat(r[1]).as("answered, not timed out").isLessThan(5000);
  }

  @Test
  void nobodyListening_exitsOne() throws Exception {
    assertThat(check(Integer.toString(freePort()))[0]).isEqualTo(1);
  }
}
