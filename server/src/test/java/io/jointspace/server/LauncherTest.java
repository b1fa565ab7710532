package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.server.store.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The {@code ./jointspace} launcher script's own commands (those that build or run nothing). */
class LauncherTest {
  private static final Path LAUNCHER = TestDatabase.projectRoot().resolve("jointspace");

  record Result(int code, String out, String err) {}

  private static Result launch(String... args) throws Exception {
    String[] command = new String[args.length + 2];
    command[0] = "bash";
    command[1] = LAUNCHER.toString();
    System.arraycopy(args, 0, command, 2, args.length);
    Process p = new ProcessBuilder(command).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out, err);
  }

  @Test
  void unknownCommand_exits2_andListsEveryCommand() throws Exception {
    Result r = launch("frobnicate");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("unknown command 'frobnicate'");
    for (String command : new String[] {"serve", "test", "build", "fuzz", "train-demo", "evaluate-demo", "--version"}) {
      assertThat(r.err()).contains("./jointspace " + command);
    }
  }

  @Test
  void help_listsEveryCommand_andTheDemoTrainingTimeTheReadmeStates() throws Exception {
    Result r = launch("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("./jointspace serve").contains("./jointspace evaluate-demo")
        .contains("serve --help");
    String readme = java.nio.file.Files.readString(LAUNCHER.resolveSibling("README.md"));
    assertThat(readme).contains("`./jointspace train-demo` retrains both versions (about 8 min");
    assertThat(r.out()).contains("about 8 min on 2 cores");
  }

  @Test
  void fuzz_takesWholeMinutesAndScale_beforeItBuildsAnything() throws Exception {
    for (String[] args : new String[][] {{"fuzz", "--minutes", "soon"}, {"fuzz", "--scale=1.5"}}) {
      Result r = launch(args);
      assertThat(r.code()).isEqualTo(2);
      assertThat(r.err()).contains("--minutes and --scale take whole numbers");
    }
  }
}
