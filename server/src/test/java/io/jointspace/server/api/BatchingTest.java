package io.jointspace.server.api;

import static io.jointspace.server.api.EmbeddingServiceTest.assertStatus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.Input;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import io.jointspace.server.batching.BatchQueue;
import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
import java.awt.Color;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Encoder calls through the batch queues, over a real server, against the same calls unbatched. */
class BatchingTest {
  @TempDir static Path repo;
  static ServerFixture batched;
  static ServerFixture direct;
  static ServerFixture tiny;
  static ServerFixture gathering;
  static int gatheringMetrics;

  @BeforeAll
  static void start() throws Exception {
    TestModels.writeClip(repo.resolve("clip/1"), 10f);
    ServerConfig.Builder on = ServerConfig.newBuilder();
    on.getBatchingBuilder().setMaxBatchSize(8).setMaxQueueDelayMicros(1000).setMaxItemsAhead(1024); // bursts of calls, no shedding
    batched = ServerFixture.start(on, repo);
    ServerConfig.Builder off = ServerConfig.newBuilder();
    off.getBatchingBuilder().setEnabled(false);
    direct = ServerFixture.start(off, repo);
    ServerConfig.Builder small = ServerConfig.newBuilder();
    small.getBatchingBuilder().setMaxQueuedItems(4);
    tiny = ServerFixture.start(small, repo);
    // a batch runs when 4 items wait (or after 30 s): concurrent one-item calls must share it
    gatheringMetrics = ServerFixture.freePort();
    ServerConfig.Builder gather = ServerConfig.newBuilder().setMetricsPort(gatheringMetrics);
    gather.getBatchingBuilder().setMaxBatchSize(8).setMaxQueueDelayMicros(30_000_000).addPreferredBatchSizes(4)
        .setWaitOnlyForAdmitted(false);
    gathering = ServerFixture.start(gather, repo);
  }

  @AfterAll
  static void stop() throws Exception {
    for (ServerFixture f : new ServerFixture[] {batched, direct, tiny, gathering}) {
      if (f != null) {
        f.close();
      }
    }
  }

  static EmbeddingServiceGrpc.EmbeddingServiceBlockingStub stub(ServerFixture f) {
    return EmbeddingServiceGrpc.newBlockingStub(f.channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  static EmbedRequest embed(List<Input> inputs) {
    return EmbedRequest.newBuilder().setModel(MultimodalTest.clip()).addAllInputs(inputs).build();
  }

  static final String[] TEXTS = {"red", "green", "blue", "red green", "a photo of a blue .", "green blue", "red green blue"};
  static final Color[] COLORS = {Color.RED, Color.GREEN, Color.BLUE, Color.ORANGE, Color.MAGENTA, Color.GRAY};

  @Test
  void concurrentMixedCalls_giveTheSameVectorsAsWithoutBatching() throws Exception {
    List<EmbedRequest> requests = new ArrayList<>();
    for (int r = 0; r < 8; r++) {
      List<Input> inputs = new ArrayList<>();
      for (int i = 0; i < 3 + r; i++) {
        inputs.add((i + r) % 3 == 0
            ? MultimodalTest.image(COLORS[(i + r) % COLORS.length], 8 + i, 8 + r, "png")
            : MultimodalTest.text(TEXTS[(i * 3 + r) % TEXTS.length]));
      }
      requests.add(embed(inputs));
    }
    ExecutorService callers = Executors.newFixedThreadPool(requests.size());
    try {
      List<Future<EmbedResponse>> calls = new ArrayList<>();
      for (EmbedRequest request : requests) {
        calls.add(callers.submit(() -> stub(batched).embed(request)));
      }
      for (int r = 0; r < requests.size(); r++) {
        EmbedResponse got = calls.get(r).get(60, TimeUnit.SECONDS);
        EmbedResponse want = stub(direct).embed(requests.get(r));
        assertThat(got.getEmbeddingsCount()).isEqualTo(requests.get(r).getInputsCount());
        for (int i = 0; i < want.getEmbeddingsCount(); i++) {
          EmbeddingServiceTest.assertEmbedding(EmbeddingServiceTest.values(got, i), EmbeddingServiceTest.values(want, i));
        }
      }
    } finally {
      callers.shutdownNow();
    }
  }

  @Test
  void concurrentOneItemCalls_shareOneBatch_perQueue() throws Exception {
    List<java.util.concurrent.Callable<EmbedResponse>> calls = new ArrayList<>();
    List<EmbedRequest> requests = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      EmbedRequest request = embed(List.of(MultimodalTest.text(TEXTS[c]),
          MultimodalTest.image(COLORS[c], 8 + c, 8, "png")));
      requests.add(request);
      calls.add(() -> stub(gathering).embed(request));
    }
    long start = System.nanoTime();
    List<EmbedResponse> got = TensorBatchingTest.concurrently(calls);
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start))
        .as("answered by the batch of 4, not by the 30 s queue delay").isLessThan(25);
    for (int c = 0; c < 4; c++) {
      EmbedResponse want = stub(direct).embed(requests.get(c));
      for (int i = 0; i < 2; i++) {
        EmbeddingServiceTest.assertEmbedding(EmbeddingServiceTest.values(got.get(c), i),
            EmbeddingServiceTest.values(want, i));
      }
    }
    String metrics = MetricsTest.get(gatheringMetrics, "/metrics").body();
    for (String queue : new String[] {"queue=\"clip@1/encode_text\"", "queue=\"clip@1/encode_image\""}) {
      assertThat(MetricsTest.value(metrics, "jointspace_batch_items_total", queue)).as(queue).isEqualTo(4);
      assertThat(MetricsTest.value(metrics, "jointspace_batch_size_count", queue)).as(queue + " batches").isEqualTo(1);
    }
  }

  @Test
  void requestLargerThanMaxBatchSize_isSplitAndComesBackInOrder() {
    List<Input> inputs = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      inputs.add(MultimodalTest.text(TEXTS[i % TEXTS.length]));
    }
    EmbedResponse r = stub(batched).embed(embed(inputs));
    assertThat(r.getEmbeddingsCount()).isEqualTo(100);
    float s2 = (float) (1 / Math.sqrt(2));
    float s3 = (float) (1 / Math.sqrt(3));
    float[][] expected = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {s2, s2, 0}, {0, 0, 1}, {0, s2, s2}, {s3, s3, s3}};
    for (int i = 0; i < 100; i++) {
      EmbeddingServiceTest.assertEmbedding(EmbeddingServiceTest.values(r, i), expected[i % expected.length]);
    }
  }

  @Test
  void requestOverTheQueueLimit_isResourceExhaustedNamingTheQueue() {
    List<Input> inputs = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      inputs.add(MultimodalTest.text("red"));
    }
    assertStatus(() -> stub(tiny).embed(embed(inputs)), Status.Code.RESOURCE_EXHAUSTED, "clip@1/encode_text", "4");
    // a request that fits still runs
    assertThat(stub(tiny).embed(embed(inputs.subList(0, 4))).getEmbeddingsCount()).isEqualTo(4);
  }

  @Test
  void statusMapper_mapsTheQueueErrors() {
    long[] now = {0};
    try (BatchScheduler scheduler = BatchScheduler.manual(() -> now[0])) {
      BatchQueue<String, String> queue = scheduler.newQueue("m@1/sig",
          BatchingOptions.DEFAULT.withMaxQueuedItems(1), batch -> batch.items());
      CompletableFuture<List<String>> expired = queue.submit(List.of("a"), Duration.ZERO);
      now[0] += 10;
      scheduler.runPending();
      assertThat(StatusMapper.toStatus(catchError(expired)).getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
      queue.submit(List.of("b"));
      Throwable full = catchError(() -> queue.submit(List.of("c")));
      assertThat(StatusMapper.toStatus(full).getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(StatusMapper.toStatus(full).getStatus().getDescription()).contains("m@1/sig", "1 of 1");
      queue.close();
      Throwable closed = catchError(() -> queue.submit(List.of("d")));
      assertThat(StatusMapper.toStatus(new java.util.concurrent.CompletionException(closed)).getStatus().getCode())
          .isEqualTo(Status.Code.UNAVAILABLE);
    }
  }

  private static Throwable catchError(CompletableFuture<?> future) {
    assertThat(future).isCompletedExceptionally();
    return catchError(future::join);
  }

  private static Throwable catchError(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
    Throwable[] caught = new Throwable[1];
    assertThatThrownBy(() -> {
      try {
        call.call();
      } catch (Throwable t) {
        caught[0] = t;
        throw t;
      }
    });
    return caught[0];
  }
}
