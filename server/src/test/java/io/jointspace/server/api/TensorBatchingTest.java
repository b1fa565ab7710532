package io.jointspace.server.api;

import static io.jointspace.server.api.InferenceServiceTest.concat;
import static io.jointspace.server.api.InferenceServiceTest.fp32;
import static io.jointspace.server.api.InferenceServiceTest.input;
import static io.jointspace.server.api.InferenceServiceTest.rawBytes;
import static io.jointspace.server.api.InferenceServiceTest.signatureRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.ModelInferRequest;
import io.jointspace.api.inference.ModelInferResponse;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.Input;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tensor inputs of Embed and ModelInfer through the per-signature batch queues, over real
 * servers: concurrent calls give what the same calls give with batching off (exactly, up to
 * float rounding in the last place).
 */
class TensorBatchingTest {
  @TempDir static Path repo;
  static ServerFixture batched;
  static ServerFixture direct;
  static ServerFixture gathering;
  static int metricsPort;
  static int gatheringMetrics;

  @BeforeAll
  static void start() throws Exception {
    TestModels.writeEncoder(repo.resolve("encoder/1"), 2f);
    metricsPort = ServerFixture.freePort();
    ServerConfig.Builder on = ServerConfig.newBuilder().setMetricsPort(metricsPort);
    on.getBatchingBuilder().setMaxBatchSize(4).setMaxQueueDelayMicros(5000).setMaxItemsAhead(1024); // bursts, no shedding
    batched = ServerFixture.start(on, repo);
    ServerConfig.Builder off = ServerConfig.newBuilder();
    off.getBatchingBuilder().setEnabled(false);
    direct = ServerFixture.start(off, repo);
    // a batch runs when 4 rows wait (or after 30 s): concurrent one-row calls must share it
    gatheringMetrics = ServerFixture.freePort();
    ServerConfig.Builder gather = ServerConfig.newBuilder().setMetricsPort(gatheringMetrics);
    gather.getBatchingBuilder().setMaxBatchSize(8).setMaxQueueDelayMicros(30_000_000).addPreferredBatchSizes(4)
        .setWaitOnlyForAdmitted(false); // a queue that waits for company (by default a call runs while a slot is free)
    gathering = ServerFixture.start(gather, repo);
  }

  @AfterAll
  static void stop() throws Exception {
    for (ServerFixture f : new ServerFixture[] {batched, direct, gathering}) {
      if (f != null) {
        f.close();
      }
    }
  }

  static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub infer(ServerFixture f) {
    return GRPCInferenceServiceGrpc.newBlockingStub(f.channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  static EmbeddingServiceGrpc.EmbeddingServiceBlockingStub embed(ServerFixture f) {
    return EmbeddingServiceGrpc.newBlockingStub(f.channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  /** Calls every request at once on {@code f}; the answers in request order. */
  static <T> List<T> concurrently(List<Callable<T>> calls) throws Exception {
    ExecutorService callers = Executors.newFixedThreadPool(calls.size());
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (Callable<T> call : calls) {
        futures.add(callers.submit(call));
      }
      List<T> out = new ArrayList<>();
      for (Future<T> f : futures) {
        out.add(f.get(60, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      callers.shutdownNow();
    }
  }

  static ModelInferRequest addRequest(int rows, int seed) {
    float[] a = new float[rows * 2];
    float[] b = new float[rows * 2];
    for (int i = 0; i < a.length; i++) {
      a[i] = seed * 10 + i * 0.5f;
      b[i] = -seed + i * 0.25f;
    }
    return signatureRequest("add")
        .setId("r" + seed)
        .addInputs(input("a", "FP32", rows, 2).setContents(fp32(a)))
        .addInputs(input("b", "FP32", rows, 2).setContents(fp32(b)))
        .build();
  }

  static ModelInferRequest embeddingRequest(int rows, int seed) {
    float[][] x = new float[rows][];
    for (int r = 0; r < rows; r++) {
      x[r] = new float[] {seed + r, 1 - r, 0.5f * seed, r * r};
    }
    return ModelInferRequest.newBuilder().setModelName("encoder")
        .addInputs(input("x", "FP32", rows, 4).setContents(fp32(concat(x))))
        .build();
  }

  static ModelInferRequest bytesRequest(int seed) {
    byte[][] elements = new byte[seed % 3 + 1][];
    for (int i = 0; i < elements.length; i++) {
      elements[i] = ("s" + seed + "-" + i).getBytes(StandardCharsets.UTF_8);
    }
    return signatureRequest("bytes")
        .addInputs(input("s", "BYTES", elements.length))
        .addRawInputContents(rawBytes(elements))
        .build();
  }

  @Test
  void concurrentModelInferCalls_giveExactlyTheUnbatchedOutputs() throws Exception {
    List<ModelInferRequest> requests = new ArrayList<>();
    int addRows = 0;
    for (int k = 0; k < 12; k++) {
      requests.add(addRequest(1 + k % 5, k));
      addRows += 1 + k % 5;
      requests.add(embeddingRequest(1 + k % 3, k));
      requests.add(bytesRequest(k));
    }
    List<Callable<ModelInferResponse>> calls = new ArrayList<>();
    for (ModelInferRequest r : requests) {
      calls.add(() -> infer(batched).modelInfer(r));
    }
    List<ModelInferResponse> got = concurrently(calls);
    for (int i = 0; i < requests.size(); i++) {
      assertSameOutputs(got.get(i), infer(direct).modelInfer(requests.get(i)), "request " + i);
    }
    String metrics = MetricsTest.get(metricsPort, "/metrics").body();
    assertThat(MetricsTest.value(metrics, "jointspace_batch_items_total", "queue=\"encoder@1/add\"")).isEqualTo(addRows);
    assertThat(MetricsTest.value(metrics, "jointspace_batch_size_max", "queue=\"encoder@1/add\"")).isLessThanOrEqualTo(4);
  }

  @Test
  void concurrentOneRowCalls_shareOneBatch() throws Exception {
    List<ModelInferRequest> infers = new ArrayList<>();
    List<EmbedRequest> embeds = new ArrayList<>();
    List<Callable<Object>> calls = new ArrayList<>();
    for (int k = 0; k < 4; k++) {
      ModelInferRequest add = addRequest(1, k);
      EmbedRequest row = EmbeddingServiceTest.request(EmbeddingServiceTest.encoder(), EmbeddingServiceTest.row(k, -k, 1, 0));
      infers.add(add);
      embeds.add(row);
      calls.add(() -> infer(gathering).modelInfer(add));
      calls.add(() -> embed(gathering).embed(row));
    }
    long start = System.nanoTime();
    List<Object> got = concurrently(calls);
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start))
        .as("answered by batches of 4, not by the 30 s queue delay").isLessThan(25);
    for (int k = 0; k < 4; k++) {
      assertSameOutputs((ModelInferResponse) got.get(2 * k), infer(direct).modelInfer(infers.get(k)), "add " + k);
      assertThat(EmbeddingServiceTest.values((EmbedResponse) got.get(2 * k + 1), 0))
          .containsExactly(EmbeddingServiceTest.values(embed(direct).embed(embeds.get(k)), 0),
              within(1e-6f));
    }
    String metrics = MetricsTest.get(gatheringMetrics, "/metrics").body();
    for (String queue : new String[] {"queue=\"encoder@1/add\"", "queue=\"encoder@1/serving_default\""}) {
      assertThat(MetricsTest.value(metrics, "jointspace_batch_items_total", queue)).as(queue).isEqualTo(4);
      assertThat(MetricsTest.value(metrics, "jointspace_batch_size_count", queue)).as(queue + " batches").isEqualTo(1);
    }
  }

  /**
   * Same response; FP32 values may differ in the last place, because TensorFlow's kernels
   * round differently for other batch sizes (a row's value depends on how many rows run with
   * it, batching or not). Integer and byte-string outputs must match exactly.
   */
  static void assertSameOutputs(ModelInferResponse got, ModelInferResponse want, String what) {
    assertThat(got.getOutputsCount()).as(what).isEqualTo(want.getOutputsCount());
    for (int o = 0; o < want.getOutputsCount(); o++) {
      var g = got.getOutputs(o);
      var w = want.getOutputs(o);
      assertThat(g.toBuilder().clearContents().build()).as(what).isEqualTo(w.toBuilder().clearContents().build());
      assertThat(g.getContents().toBuilder().clearFp32Contents().build()).as(what)
          .isEqualTo(w.getContents().toBuilder().clearFp32Contents().build());
      assertThat(g.getContents().getFp32ContentsCount()).isEqualTo(w.getContents().getFp32ContentsCount());
      for (int i = 0; i < w.getContents().getFp32ContentsCount(); i++) {
        float x = w.getContents().getFp32Contents(i);
        assertThat(g.getContents().getFp32Contents(i)).as(what).isCloseTo(x, within(1e-6f * Math.max(1, Math.abs(x))));
      }
    }
    assertThat(got.getRawOutputContentsList()).as(what).isEqualTo(want.getRawOutputContentsList());
    assertThat(got.getId()).isEqualTo(want.getId());
  }

  @Test
  void signatureWithoutABatchDimension_runsDirectlyWithBatchingOn() {
    ModelInferRequest square = signatureRequest("square")
        .addInputs(input("s", "FP32").setContents(fp32(3f)))
        .build();
    assertThat(infer(batched).modelInfer(square)).isEqualTo(infer(direct).modelInfer(square));
  }

  @Test
  void concurrentTensorEmbedCalls_giveExactlyTheUnbatchedVectors() throws Exception {
    List<EmbedRequest> requests = new ArrayList<>();
    for (int k = 0; k < 10; k++) {
      List<Input> rows = new ArrayList<>();
      for (int r = 0; r <= k % 6; r++) {
        rows.add(EmbeddingServiceTest.row(k, r, -r, 0.25f * k));
      }
      requests.add(EmbeddingServiceTest.request(EmbeddingServiceTest.encoder(), rows.toArray(Input[]::new)));
    }
    List<Callable<EmbedResponse>> calls = new ArrayList<>();
    for (EmbedRequest r : requests) {
      calls.add(() -> embed(batched).embed(r));
    }
    List<EmbedResponse> got = concurrently(calls);
    for (int i = 0; i < requests.size(); i++) {
      EmbedResponse want = embed(direct).embed(requests.get(i));
      assertThat(got.get(i).getEmbeddingsCount()).isEqualTo(want.getEmbeddingsCount());
      assertThat(got.get(i).getDimension()).isEqualTo(want.getDimension());
      for (int e = 0; e < want.getEmbeddingsCount(); e++) {
        float[] w = EmbeddingServiceTest.values(want, e);
        float[] g = EmbeddingServiceTest.values(got.get(i), e);
        assertThat(g).hasSameSizeAs(w);
        for (int j = 0; j < w.length; j++) {
          assertThat(g[j]).isCloseTo(w[j], within(1e-6f * Math.max(1, Math.abs(w[j]))));
        }
      }
    }
  }
}
