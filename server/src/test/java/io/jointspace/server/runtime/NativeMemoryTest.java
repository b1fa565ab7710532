package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * JavaCPP reads its memory settings once, when TensorFlow is first used; each case runs in a
 * JVM of its own that loads a real SavedModel, so that this JVM's earlier tests do not decide it.
 */
class NativeMemoryTest {
  @Test
  void noPhysicalMemoryCheckPerAllocationByDefault() throws Exception {
    assertThat(childReports(List.of())).isEqualTo("0");
  }

  @Test
  void aSettingOnTheCommandLineIsKept() throws Exception {
    assertThat(childReports(List.of("-D" + NativeMemory.MAX_PHYSICAL_BYTES + "=1g"))).isEqualTo("1073741824");
  }

  /** What {@link Child} prints: JavaCPP's maxPhysicalBytes after loading a model. */
  private static String childReports(List<String> jvmArgs) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path")));
    command.addAll(jvmArgs);
    command.addAll(List.of(Child.class.getName(), example().toString()));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out.lines().reduce((a, b) -> b).orElse("");
  }

  private static Path example() {
    for (Path p : List.of(Path.of("..", "models", "example", "1"), Path.of("models", "example", "1"))) {
      if (Files.isDirectory(p)) {
        return p.toAbsolutePath();
      }
    }
    throw new IllegalStateException("models/example/1 not found");
  }

  /** Loads the SavedModel in args[0] as the server does, then prints JavaCPP's maxPhysicalBytes. */
  static final class Child {
    public static void main(String[] args) throws Exception {
      try (SavedModel model = SavedModel.load(Path.of(args[0]), LoadOptions.DEFAULT)) {
        System.out.println(org.bytedeco.javacpp.Pointer.maxPhysicalBytes());
      }
    }
  }
}
