package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jointspace.registry.AspiredVersion;
import io.jointspace.registry.ServableId;
import io.jointspace.server.TestModels;
import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
import io.jointspace.tensorflow.framework.TensorProto;
import io.jointspace.tensorflow.serving.ModelSpec;
import io.jointspace.tensorflow.serving.PredictLog;
import io.jointspace.tensorflow.serving.PredictRequest;
import io.jointspace.tensorflow.serving.PredictionLog;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Warm-up of a loaded version: from its warmup file, else synthetic batches of its queues' shapes. */
class WarmupTest {
  @TempDir Path repo;
  static BatchScheduler scheduler;
  static PreprocessPool pool;

  @BeforeAll
  static void start() {
    scheduler = BatchScheduler.create(2);
    pool = new PreprocessPool(2, 64);
  }

  @AfterAll
  static void stop() {
    scheduler.close();
    pool.close();
  }

  static ModelVersion load(Path dir, BatchingOptions batching) throws Exception {
    return ModelVersion.load(dir, "m@1", LoadOptions.DEFAULT, ImageLimits.DEFAULT, scheduler, batching, pool);
  }

  static TensorProto floats(long rows, long cols, float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return TensorProtos.toProto(TensorData.ofBytes(DType.FP32, new long[] {rows, cols}, b.array()));
  }

  static byte[] predict(String signature, String input, TensorProto tensor) {
    return PredictionLog.newBuilder()
        .setPredictLog(PredictLog.newBuilder().setRequest(PredictRequest.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setName("m").setSignatureName(signature))
            .putInputs(input, tensor)))
        .build().toByteArray();
  }

  static void writeWarmup(Path versionDir, List<byte[]> records) throws Exception {
    Files.createDirectories(versionDir.resolve("assets.extra"));
    TfRecordFile.write(versionDir.resolve(ModelVersion.WARMUP_FILE), records);
  }

  @Test
  void withoutAFile_theEncoderRunsEveryBatchSizeAndLengthBucket() throws Exception {
    TestModels.writeClip(repo.resolve("clip/1"), 10f, true);
    BatchingOptions batching = BatchingOptions.DEFAULT.withMaxBatchSize(8).withLengthBuckets(2, 4);
    try (ModelVersion v = load(repo.resolve("clip/1"), batching)) {
      Warmup.Report report = v.warmUp(WarmupOptions.DEFAULT);
      assertThat(report.source()).isEqualTo("synthetic");
      List<String> expected = new ArrayList<>();
      for (int bucket : new int[] {2, 4, 8}) { // the configured buckets below the context length, and it
        for (int size : new int[] {1, 2, 4, 8}) {
          expected.add("encode_text " + size + " x " + bucket + " tokens");
        }
      }
      for (int size : new int[] {1, 2, 4, 8}) {
        expected.add("encode_image " + size + " x 8x8 image");
      }
      assertThat(report.runs()).containsExactlyInAnyOrderElementsOf(expected);
    }
  }

  @Test
  void withoutAFile_batchingSignaturesRunAtEachSize_andScalarOnesAreLeftAlone() throws Exception {
    TestModels.writeEncoder(repo.resolve("enc/1"), 1f);
    try (ModelVersion v = load(repo.resolve("enc/1"), BatchingOptions.DEFAULT.withMaxBatchSize(4)
        .withPreferredBatchSizes(3))) {
      Warmup.Report report = v.warmUp(WarmupOptions.DEFAULT);
      assertThat(report.runs()).contains("serving_default 1 rows", "serving_default 2 rows", "serving_default 3 rows",
          "serving_default 4 rows", "add 4 rows", "bytes 4 rows");
      assertThat(report.runs()).noneMatch(r -> r.startsWith("square")); // a scalar signature does not batch
    }
    try (ModelVersion direct = ModelVersion.load(repo.resolve("enc/1"), LoadOptions.DEFAULT)) {
      assertThat(direct.warmUp(WarmupOptions.DEFAULT).runs()).contains("serving_default 1 rows")
          .noneMatch(r -> r.contains(" 2 rows"));
    }
  }

  @Test
  void withoutAFile_aLargeMaxBatchSize_warmsAtMostEightSizesPerBucket() throws Exception {
    TestModels.writeClip(repo.resolve("clip/1"), 10f);
    BatchingOptions batching = BatchingOptions.DEFAULT.withMaxBatchSize(256).withPreferredBatchSizes(3, 6, 12, 24, 48);
    try (ModelVersion v = load(repo.resolve("clip/1"), batching)) {
      List<String> runs = v.warmUp(WarmupOptions.DEFAULT).runs();
      assertThat(runs.stream().filter(r -> r.startsWith("encode_text"))).hasSize(Warmup.MAX_SIZES)
          .contains("encode_text 1 x 8 tokens", "encode_text 256 x 8 tokens");
      assertThat(runs.stream().filter(r -> r.startsWith("encode_image"))).hasSize(Warmup.MAX_SIZES);
    }
  }

  @Test
  void batchSizes_areCapped_keepingOneAndTheLargest() {
    BatchingOptions many = BatchingOptions.DEFAULT.withMaxBatchSize(512).withPreferredBatchSizes(3, 5, 7, 9, 11, 13, 15);
    assertThat(Warmup.batchSizes(many, Warmup.MAX_SIZES)).hasSize(Warmup.MAX_SIZES).contains(1, 512, 3, 5);
    assertThat(Warmup.batchSizes(BatchingOptions.DEFAULT, 2)).containsExactly(1, 32);
    assertThat(Warmup.batchSizes(BatchingOptions.DEFAULT.withMaxBatchSize(1), 8)).containsExactly(1);
  }

  @Test
  void aWarmupFile_runsItsPredictRecords_andSkipsOtherKinds() throws Exception {
    Path dir = repo.resolve("enc/1");
    TestModels.writeEncoder(dir, 1f);
    byte[] classify = PredictionLog.newBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
        .addField(2, com.google.protobuf.UnknownFieldSet.Field.newBuilder()
            .addLengthDelimited(com.google.protobuf.ByteString.EMPTY).build()).build()).build().toByteArray();
    writeWarmup(dir, List.of(
        predict("", "x", floats(2, 4, 1, 2, 3, 4, 5, 6, 7, 8)),
        classify,
        addRecord()));
    try (ModelVersion v = load(dir, BatchingOptions.DEFAULT)) {
      Warmup.Report report = v.warmUp(new WarmupOptions(true, 3));
      assertThat(report.source()).isEqualTo(ModelVersion.WARMUP_FILE);
      assertThat(report.runs()).containsExactly("record 0", "record 0", "record 0", "record 2", "record 2", "record 2");
      assertThat(report.skipped()).isEqualTo(1);
    }
  }

  private static byte[] addRecord() {
    return PredictionLog.newBuilder()
        .setPredictLog(PredictLog.newBuilder().setRequest(PredictRequest.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setSignatureName("add"))
            .putInputs("a", floats(1, 2, 1, 2))
            .putInputs("b", floats(1, 2, 3, 4))
            .addOutputFilter("sum")))
        .build().toByteArray();
  }

  @Test
  void aWarmupFileOfOnlyOtherKinds_countsAsNone() throws Exception {
    Path dir = repo.resolve("enc/1");
    TestModels.writeEncoder(dir, 1f);
    byte[] regress = PredictionLog.newBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
        .addField(3, com.google.protobuf.UnknownFieldSet.Field.newBuilder()
            .addLengthDelimited(com.google.protobuf.ByteString.EMPTY).build()).build()).build().toByteArray();
    writeWarmup(dir, List.of(regress));
    try (ModelVersion v = load(dir, BatchingOptions.DEFAULT)) {
      Warmup.Report report = v.warmUp(WarmupOptions.DEFAULT);
      assertThat(report.source()).startsWith("synthetic");
      assertThat(report.runs()).contains("serving_default 1 rows");
    }
  }

  @Test
  void aFailingRecord_failsTheLoad_namingTheRecordAndTheInput() throws Exception {
    Path dir = repo.resolve("enc/1");
    TestModels.writeEncoder(dir, 1f);
    writeWarmup(dir, List.of(predict("", "x", floats(1, 4, 1, 2, 3, 4)), predict("", "x", floats(1, 3, 1, 2, 3))));
    ModelVersionLoader loader = loader(WarmupOptions.DEFAULT);
    assertThatThrownBy(() -> loader.load(new AspiredVersion(new ServableId("enc", 1), dir, "")))
        .hasMessageStartingWith("warm-up failed: assets.extra/tf_serving_warmup_requests record 1 failed:")
        .hasMessageContaining("input 'x'");
    // off: the same version loads (and its bad record is never read)
    loader(WarmupOptions.OFF).load(new AspiredVersion(new ServableId("enc", 1), dir, "")).close();
  }

  @Test
  void moreRecordsThanTfServingAllows_failTheLoad() throws Exception {
    Path dir = repo.resolve("enc/1");
    TestModels.writeEncoder(dir, 1f);
    writeWarmup(dir, Collections.nCopies(Warmup.MAX_RECORDS + 1, predict("", "x", floats(1, 4, 1, 2, 3, 4))));
    assertThatThrownBy(() -> loader(WarmupOptions.DEFAULT).load(new AspiredVersion(new ServableId("enc", 1), dir, "")))
        .hasMessageContaining("more than 1000 records");
  }

  @Test
  void aCorruptFile_failsTheLoad() throws Exception {
    Path dir = repo.resolve("enc/1");
    TestModels.writeEncoder(dir, 1f);
    writeWarmup(dir, List.of(predict("", "x", floats(1, 4, 1, 2, 3, 4))));
    Path file = dir.resolve(ModelVersion.WARMUP_FILE);
    byte[] raw = Files.readAllBytes(file);
    raw[raw.length - 6] ^= 0x40;
    Files.write(file, raw);
    assertThatThrownBy(() -> loader(WarmupOptions.DEFAULT).load(new AspiredVersion(new ServableId("enc", 1), dir, "")))
        .hasMessageContaining("not a valid TFRecord file").hasMessageContaining("checksum");
  }

  static ModelVersionLoader loader(WarmupOptions warmup) {
    Function<String, BatchingOptions> batching = m -> BatchingOptions.DEFAULT.withMaxQueueDelay(Duration.ofMillis(1));
    return new ModelVersionLoader(m -> LoadOptions.DEFAULT, ImageLimits.DEFAULT, scheduler, batching, pool, warmup);
  }
}
