package io.jointspace.server.api;

import static io.jointspace.server.api.InferenceServiceTest.input;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.TextFormat;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.ModelInferRequest;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.Recorder;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deadlines, cancellation and per-model batching over real gRPC. The server's queues wait
 * 10 s for a batch to fill, so a lone call stays queued until its deadline or its
 * cancellation ends it: the client must hear at once, and the dropped item must be counted.
 */
class DeadlineTest {
  @TempDir static Path repo;
  static ServerFixture fixture;
  static int metricsPort;

  @BeforeAll
  static void start() throws Exception {
    TestModels.writeClip(repo.resolve("clip/1"), 10f);
    TestModels.writeClip(repo.resolve("small/1"), 10f);
    TestModels.writeClip(repo.resolve("shed/1"), 10f);
    TestModels.writeEncoder(repo.resolve("encoder/1"), 2f);
    TestModels.writeEncoder(repo.resolve("plain/1"), 2f);
    metricsPort = ServerFixture.freePort();
    ServerConfig.Builder config = ServerConfig.newBuilder().setMetricsPort(metricsPort);
    TextFormat.merge("""
        batching { max_batch_size: 64 max_queue_delay_micros: 10000000 batch_threads: 1 wait_only_for_admitted: false }
        models { name: "small" batching { max_batch_size: 2 max_queue_delay_micros: 1000 } }
        models { name: "plain" batching { enabled: false } }
        models { name: "shed" batching { max_items_ahead: 1 } }
        """, config);
    fixture = ServerFixture.start(config, repo);
    // warm the text path with one full batch (64 items run at once), so that the calls below
    // reach their queue well within their deadlines
    EmbeddingServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .embed(texts("clip", 64));
  }

  @AfterAll
  static void stop() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
  }

  static EmbedRequest texts(String model, int n) {
    EmbedRequest.Builder b = EmbedRequest.newBuilder().setModel(ModelSpec.newBuilder().setName(model));
    for (int i = 0; i < n; i++) {
      b.addInputs(Input.newBuilder().setText(i % 2 == 0 ? "red" : "green blue"));
    }
    return b.build();
  }

  static String metrics() throws Exception {
    return MetricsTest.get(metricsPort, "/metrics").body();
  }

  /** Polls the metrics until {@code name} with {@code labels} reads {@code expected} (10 s at most). */
  static void awaitValue(String name, String label, double expected) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      String text = metrics();
      boolean present = text.lines().anyMatch(l -> l.startsWith(name + "{") && l.contains(label));
      if (present && MetricsTest.value(text, name, label) == expected) {
        return;
      }
      if (System.nanoTime() > end) {
        assertThat(present).as("%s{%s} in%n%s", name, label, text).isTrue();
        assertThat(MetricsTest.value(text, name, label)).isEqualTo(expected);
      }
      Thread.sleep(20);
    }
  }

  /**
   * The deadline leaves time to reach the queue even on a loaded machine; the answer must still
   * come long before the 10 s queue delay would have run the item.
   */
  static final int DEADLINE_MS = 3000;

  @Test
  void embedWhoseDeadlinePassesInTheQueue_isDeadlineExceededAtOnce_andItsItemCountsAsExpired() throws Exception {
    long start = System.nanoTime();
    Recorder<EmbedResponse> ended = new Recorder<>();
    EmbeddingServiceGrpc.newStub(fixture.channel).withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
        .embed(texts("clip", 1), ended);
    awaitValue("jointspace_batch_queue_depth", "queue=\"clip@1/encode_text\"", 1);
    assertThat(Status.fromThrowable(ended.ended().get(30, TimeUnit.SECONDS)).getCode())
        .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(DEADLINE_MS + 4000);
    awaitValue("jointspace_batch_expired_items_total", "queue=\"clip@1/encode_text\"", 1);
    awaitValue("jointspace_batch_queue_depth", "queue=\"clip@1/encode_text\"", 0);
  }

  @Test
  void modelInferWhoseDeadlinePassesInTheQueue_dropsItsQueuedRows() throws Exception {
    ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("encoder")
        .addInputs(input("x", "FP32", 3, 4).setContents(InferenceServiceTest.fp32(new float[12])))
        .build();
    Recorder<io.jointspace.api.inference.ModelInferResponse> ended = new Recorder<>();
    GRPCInferenceServiceGrpc.newStub(fixture.channel).withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
        .modelInfer(request, ended);
    awaitValue("jointspace_batch_queue_depth", "queue=\"encoder@1/serving_default\"", 3);
    assertThat(Status.fromThrowable(ended.ended().get(30, TimeUnit.SECONDS)).getCode())
        .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    awaitValue("jointspace_batch_expired_items_total", "queue=\"encoder@1/serving_default\"", 3);
    awaitValue("jointspace_batch_queue_depth", "queue=\"encoder@1/serving_default\"", 0);
  }

  @Test
  void cancelledCall_dropsItsQueuedItems() throws Exception {
    Recorder<EmbedResponse> ended = new Recorder<>();
    Context.CancellableContext context = Context.current().withCancellation();
    context.run(() -> EmbeddingServiceGrpc.newStub(fixture.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .embed(texts("clip", 2), ended));
    awaitValue("jointspace_batch_queue_depth", "queue=\"clip@1/encode_text\"", 2); // then the client goes away
    context.cancel(null);
    assertThat(Status.fromThrowable(ended.ended().get(5, TimeUnit.SECONDS)).getCode()).isEqualTo(Status.Code.CANCELLED);
    awaitValue("jointspace_batch_cancelled_items_total", "queue=\"clip@1/encode_text\"", 2);
  }

  @Test
  void modelWithItsOwnMaxBatchSize_cutsBatchesOfThatSize() throws Exception {
    EmbedResponse r = EmbeddingServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .embed(texts("small", 5));
    assertThat(r.getEmbeddingsCount()).isEqualTo(5);
    String text = metrics();
    String queue = "queue=\"small@1/encode_text\"";
    assertThat(MetricsTest.value(text, "jointspace_batch_items_total", queue)).isEqualTo(5);
    assertThat(MetricsTest.value(text, "jointspace_batch_size_count", queue)).isEqualTo(3);
    assertThat(MetricsTest.value(text, "jointspace_batch_size_max", queue)).isEqualTo(2);
  }

  @Test
  void modelWithBatchingDisabled_runsDirectly_whileOthersWaitForFullBatches() throws Exception {
    ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("plain")
        .addInputs(input("x", "FP32", 2, 4).setContents(InferenceServiceTest.fp32(new float[8])))
        .build();
    long start = System.nanoTime();
    assertThat(GRPCInferenceServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(5, TimeUnit.SECONDS)
        .modelInfer(request).getOutputsCount()).isEqualTo(1);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5000);
    assertThat(metrics()).doesNotContain("queue=\"plain@1/");
  }

  @Test
  void requestBehindTooLongABacklog_isShedAtOnceWithResourceExhausted() throws Exception {
    Recorder<EmbedResponse> first = new Recorder<>();
    Context.CancellableContext context = Context.current().withCancellation();
    context.run(() -> EmbeddingServiceGrpc.newStub(fixture.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .embed(texts("shed", 2), first));
    awaitValue("jointspace_batch_queue_depth", "queue=\"shed@1/encode_text\"", 2); // waiting for their batch to fill
    long start = System.nanoTime();
    assertThatThrownBy(() -> EmbeddingServiceGrpc.newBlockingStub(fixture.channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS).embed(texts("shed", 1)))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          assertThat(e.getStatus().getDescription()).contains("shed@1/encode_text", "2 items waiting");
        });
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(3000);
    awaitValue("jointspace_batch_rejected_items_total", "queue=\"shed@1/encode_text\"", 1);
    context.cancel(null);
    assertThat(Status.fromThrowable(first.ended().get(5, TimeUnit.SECONDS)).getCode()).isEqualTo(Status.Code.CANCELLED);
  }
}
