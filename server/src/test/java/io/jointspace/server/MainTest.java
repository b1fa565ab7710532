package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.server.api.ServerInfo;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * The {@code jointspace} command line in-process: version flags, and the start-up checks that
 * must fail at once, before the private database is started or a model is loaded.
 */
class MainTest {
  @TempDir Path temp;

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = new CommandLine(new Main());
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int code = cmd.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"-V", "--version"})
  void versionFlag_printsTheVersion_onItsOwnAndAfterServe(String flag) {
    for (Run r : new Run[] {run(flag), run("serve", flag)}) {
      assertThat(r.code()).isZero();
      assertThat(r.out().strip()).isEqualTo("jointspace " + ServerInfo.version());
    }
  }

  @Test
  void runtimeCommand_loadsTensorFlowAndTheTokenizerLibrary_andSaysWhatTensorFlowRunsOn() {
    Run r = run("runtime");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).containsPattern("TensorFlow \\d+\\.\\d+\\.\\d+ on (CPU|GPU)").contains("Tokenizer library loaded");
  }

  @Test
  void missingRepository_failsWithExitCode2_namingTheFolderAndTheFlag_beforeTheDatabase() {
    Path missing = temp.resolve("nonexistent");
    Path dataDir = temp.resolve("pg");
    Run r = run("serve", "--models", missing.toString(), "--grpc-port", "0", "--http-port", "-1",
        "--data-dir", dataDir.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("model repository " + missing + " does not exist").contains("--models");
    assertThat(dataDir).as("no private cluster was started").doesNotExist();
  }

  @Test
  void repositoryThatIsAFile_failsWithExitCode2() throws Exception {
    Path file = Files.writeString(temp.resolve("models.txt"), "not a folder");
    Run r = run("serve", "--models", file.toString(), "--grpc-port", "0", "--http-port", "-1",
        "--data-dir", temp.resolve("pg").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains(file + " is not a folder");
  }

  @Test
  void takenGrpcPort_failsWithExitCode1_namingTheFlag_beforeTheDatabase() throws Exception {
    Path dataDir = temp.resolve("pg");
    Files.createDirectories(temp.resolve("models"));
    try (ServerSocket taken = new ServerSocket(0)) {
      Run r = run("serve", "--models", temp.resolve("models").toString(),
          "--grpc-port", Integer.toString(taken.getLocalPort()), "--http-port", "-1",
          "--data-dir", dataDir.toString());
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("gRPC port " + taken.getLocalPort() + " is in use").contains("--grpc-port");
    }
    assertThat(dataDir).as("no private cluster was started").doesNotExist();
  }
}
