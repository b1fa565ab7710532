package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.config.v1.WarmupConfig;
import io.jointspace.registry.ModelState;
import io.jointspace.registry.ServableId;
import io.jointspace.server.runtime.DType;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.runtime.TensorData;
import io.jointspace.server.runtime.TensorProtos;
import io.jointspace.server.runtime.TfRecordFile;
import io.jointspace.tensorflow.serving.ModelSpec;
import io.jointspace.tensorflow.serving.PredictLog;
import io.jointspace.tensorflow.serving.PredictRequest;
import io.jointspace.tensorflow.serving.PredictionLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Warm-up in the version lifecycle: a version is AVAILABLE only after it ran; a failed warm-up is a failed load. */
class WarmupServerTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path repo;

  /** A warmup record for a signature taking one FP32 input of shape [rows, cols]. */
  static byte[] record(String model, String input, long rows, long cols) {
    ByteBuffer b = ByteBuffer.allocate((int) (rows * cols * 4)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < rows * cols; i++) {
      b.putFloat(i);
    }
    return PredictionLog.newBuilder()
        .setPredictLog(PredictLog.newBuilder().setRequest(PredictRequest.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setName(model).setSignatureName("serving_default"))
            .putInputs(input, TensorProtos.toProto(TensorData.ofBytes(DType.FP32, new long[] {rows, cols}, b.array())))))
        .build().toByteArray();
  }

  static void writeWarmup(Path versionDir, List<byte[]> records) throws IOException {
    Files.createDirectories(versionDir.resolve("assets.extra"));
    TfRecordFile.write(versionDir.resolve(ModelVersion.WARMUP_FILE), records);
  }

  @Test
  void aVersionWhoseWarmupFails_goesToError_withTheReason_andTheOldOneServesOn() throws Exception {
    TestModels.writeEncoder(repo.resolve("encoder/1"), 1f);
    try (ServerFixture f = ServerFixture.start(repo)) {
      var registry = f.server.registry();
      registry.awaitState(new ServableId("encoder", 1), WAIT, ModelState.AVAILABLE);
      TestModels.writeEncoder(repo.resolve("encoder/2"), 2f);
      writeWarmup(repo.resolve("encoder/2"), List.of(record("encoder", "x", 2, 4), record("encoder", "x", 1, 5)));
      f.server.rescan();
      var failed = registry.awaitState(new ServableId("encoder", 2), WAIT, ModelState.ERROR);
      assertThat(failed.lastError()).startsWith("warm-up failed: " + ModelVersion.WARMUP_FILE + " record 1 failed:")
          .contains("input 'x'");
      var stub = EmbeddingServiceGrpc.newBlockingStub(f.channel);
      assertThat(stub.embed(LiveRepositoryTest.embed("encoder")).getModel().getVersion()).isEqualTo(1);
    }
  }

  @Test
  void aVersionWithAGoodWarmupFile_becomesAvailable() throws Exception {
    TestModels.writeEncoder(repo.resolve("encoder/1"), 1f);
    writeWarmup(repo.resolve("encoder/1"), List.of(record("encoder", "x", 3, 4)));
    try (ServerFixture f = ServerFixture.start(repo)) {
      f.server.registry().awaitState(new ServableId("encoder", 1), WAIT, ModelState.AVAILABLE);
      var stub = EmbeddingServiceGrpc.newBlockingStub(f.channel);
      assertThat(stub.embed(LiveRepositoryTest.embed("encoder")).getEmbeddingsCount()).isEqualTo(1);
    }
  }

  @Test
  void warmupOff_loadsAVersionWhoseWarmupWouldFail() throws Exception {
    TestModels.writeEncoder(repo.resolve("encoder/1"), 1f);
    writeWarmup(repo.resolve("encoder/1"), List.of(record("encoder", "x", 1, 5)));
    ServerConfig.Builder config = ServerConfig.newBuilder().setWarmup(WarmupConfig.newBuilder().setEnabled(false));
    try (ServerFixture f = ServerFixture.start(config, repo)) {
      f.server.registry().awaitState(new ServableId("encoder", 1), WAIT, ModelState.AVAILABLE);
    }
  }

  @Test
  void config_defaultsOn_environmentTurnsItOff_andIterationsAreBounded() {
    var none = new ConfigLoader.Overrides(null, null, null, null, null, null);
    assertThat(ConfigLoader.load(null, Map.of(), none).warmup().enabled()).isTrue();
    assertThat(ConfigLoader.load(null, Map.of(), none).warmup().requestIterations()).isEqualTo(1);
    assertThat(ConfigLoader.load(null, Map.of("JOINTSPACE_WARMUP", "off"), none).warmup().enabled()).isFalse();
    assertThatThrownBy(() -> Settings.of(ServerConfig.newBuilder()
        .setWarmup(WarmupConfig.newBuilder().setNumRequestIterations(101)).build()))
        .hasMessageContaining("warmup.num_request_iterations must be within 1..100");
  }

  /**
   * TF Serving's own half_plus_two (from ../shared/testdata/savedmodels) with a warmup file in
   * TF Serving's format, as TF Serving's documentation asks one to write it: it loads, warmed
   * up by the file's records.
   */
  @Test
  void tfServingsHalfPlusTwo_withAWarmupFile_loads() throws Exception {
    Path source = null;
    for (Path candidate : List.of(Path.of("..", "..", "shared", "testdata", "savedmodels"),
        Path.of("..", "shared", "testdata", "savedmodels"))) {
      if (Files.isDirectory(candidate.resolve("saved_model_half_plus_two_cpu"))) {
        source = candidate.resolve("saved_model_half_plus_two_cpu");
      }
    }
    Assumptions.assumeTrue(source != null, "skipped: ../shared/testdata/savedmodels/saved_model_half_plus_two_cpu"
        + " (the third-party SavedModel fixtures) was not found from " + Path.of("").toAbsolutePath());
    Path version = repo.resolve("half_plus_two/123");
    copy(source.resolve("00000123"), version);
    writeWarmup(version, List.of(record("half_plus_two", "x", 3, 1), record("half_plus_two", "x", 1, 1)));
    try (ServerFixture f = ServerFixture.start(repo)) {
      var status = f.server.registry().awaitState(new ServableId("half_plus_two", 123), WAIT, ModelState.AVAILABLE,
          ModelState.ERROR);
      assertThat(status.state()).as(status.lastError()).isEqualTo(ModelState.AVAILABLE);
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
        target.toFile().setWritable(true, true);
      }
    }
  }
}
