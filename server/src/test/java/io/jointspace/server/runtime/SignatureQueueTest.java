package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.jointspace.server.TestModels;
import io.jointspace.server.batching.BatchListener;
import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
import io.jointspace.server.batching.QueueClosedException;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.errors.OverloadedException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One signature's batch queue on its own, over a real SavedModel and a manual scheduler (no
 * threads, no sleeps): rows of several calls run as one session call, each call gets its own
 * rows back, and a group that fails fails only its own calls.
 */
class SignatureQueueTest {
  @TempDir static Path dir;
  static SavedModel model;
  static SignatureInfo sig;

  final long[] now = {0};
  final List<Integer> batchSizes = new ArrayList<>();
  BatchScheduler scheduler;

  @BeforeAll
  static void load() throws Exception {
    TestModels.writeEncoder(dir.resolve("1"), 1f);
    model = SavedModel.load(dir.resolve("1"), LoadOptions.DEFAULT);
    sig = model.signature("");
  }

  @AfterAll
  static void close() {
    model.close();
  }

  @BeforeEach
  void scheduler() {
    scheduler = BatchScheduler.manual(() -> now[0], new BatchListener() {
      @Override
      public void onBatch(String queueName, int size, int lengthBucket, double paddingRatio, Duration queueTime,
          Duration computeTime) {
        batchSizes.add(size);
      }
    });
  }

  @AfterEach
  void stopScheduler() {
    scheduler.close();
  }

  SignatureQueue queue(BatchingOptions options) {
    return new SignatureQueue(model, sig, scheduler, options, "encoder@1/serving_default");
  }

  /** Waits a second for any arrival: the test decides when batches run. */
  static final BatchingOptions WAIT_A_SECOND = BatchingOptions.DEFAULT.withMaxQueueDelay(Duration.ofSeconds(1))
      .withWaitOnlyForAdmitted(false);

  static TensorData fp32(float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return TensorData.ofBytes(DType.FP32, new long[] {values.length}, b.array());
  }

  static Row row(TensorData x) {
    return new Row(Map.of("x", x), List.of("embedding"));
  }

  static void assertEmbedding(List<TensorData> outputs, float... x) {
    assertThat(outputs).hasSize(1);
    assertThat(outputs.get(0).toFloats()).containsExactly(TestModels.expectedEmbedding(x, 1f), within(1e-6f));
  }

  @Test
  void rowsOfTwoCalls_runAsOneBatch_andEachCallGetsItsOwnRowsInOrder() {
    SignatureQueue q = queue(WAIT_A_SECOND);
    CompletableFuture<List<List<TensorData>>> a = q.submitRows(List.of(row(fp32(1, 2, 3, 4))), CallScope.NONE, null);
    CompletableFuture<List<List<TensorData>>> b = q.submitRows(
        List.of(row(fp32(0, 0, 0, 1)), row(fp32(-1, 0, 1, 0))), CallScope.NONE, null);
    assertThat(scheduler.runPending()).as("nothing runs before the delay").isZero();
    now[0] += Duration.ofSeconds(1).toNanos();
    assertThat(scheduler.runPending()).isEqualTo(1);
    assertThat(batchSizes).containsExactly(3);
    assertEmbedding(a.join().get(0), 1, 2, 3, 4);
    assertThat(b.join()).hasSize(2);
    assertEmbedding(b.join().get(0), 0, 0, 0, 1);
    assertEmbedding(b.join().get(1), -1, 0, 1, 0);
  }

  @Test
  void callOfSeveralRows_isCutIntoRows_andItsOutputsStackedBack() {
    SignatureQueue q = queue(WAIT_A_SECOND);
    TensorData stacked = TensorData.stack(List.of(fp32(1, 2, 3, 4), fp32(0, 0, 0, 1)));
    CompletableFuture<Map<String, TensorData>> call = q.submit(Map.of("x", stacked), 2, List.of("embedding"),
        CallScope.NONE);
    now[0] += Duration.ofSeconds(1).toNanos();
    scheduler.runPending();
    TensorData out = call.join().get("embedding");
    assertThat(out.shape()).containsExactly(2, 3);
    assertThat(out.toFloats()).containsExactly(concat(TestModels.expectedEmbedding(new float[] {1, 2, 3, 4}, 1f),
        TestModels.expectedEmbedding(new float[] {0, 0, 0, 1}, 1f)), within(1e-6f));
  }

  @Test
  void rowsThatCannotRunTogether_runInGroups_andABadGroupFailsOnlyItsOwnCall() {
    SignatureQueue q = queue(WAIT_A_SECOND);
    TensorData ints = TensorData.ofBytes(DType.INT32, new long[] {4}, new byte[16]);
    CompletableFuture<List<List<TensorData>>> good = q.submitRows(List.of(row(fp32(1, 2, 3, 4))), CallScope.NONE, null);
    CompletableFuture<List<List<TensorData>>> bad = q.submitRows(List.of(row(ints)), CallScope.NONE, null);
    now[0] += Duration.ofSeconds(1).toNanos();
    assertThat(scheduler.runPending()).isEqualTo(1);
    assertThat(batchSizes).containsExactly(2);
    assertEmbedding(good.join().get(0), 1, 2, 3, 4);
    assertThatThrownBy(bad::join).isInstanceOf(CompletionException.class)
        .cause().isInstanceOf(InvalidInputException.class).hasMessageContaining("INT32");
  }

  @Test
  void fullQueue_refusesWithTheQueueItsDepthAndCapacity_andKeepsNothing() {
    SignatureQueue q = queue(WAIT_A_SECOND.withMaxQueuedItems(2));
    q.submitRows(List.of(row(fp32(1, 1, 1, 1))), CallScope.NONE, null);
    assertThatThrownBy(() -> q.submitRows(List.of(row(fp32(1, 2, 3, 4)), row(fp32(1, 2, 3, 4))), CallScope.NONE, null))
        .isInstanceOfSatisfying(OverloadedException.class, e -> {
          assertThat(e.resource()).isEqualTo("encoder@1/serving_default");
          assertThat(e.depth()).isEqualTo(1);
          assertThat(e.capacity()).isEqualTo(2);
          assertThat(e.requested()).isEqualTo(2);
        });
    assertThatThrownBy(() -> q.reserve(5, null)).isInstanceOf(OverloadedException.class);
    now[0] += Duration.ofSeconds(1).toNanos();
    scheduler.runPending();
    assertThat(batchSizes).containsExactly(1);
  }

  @Test
  void endedCall_isDroppedBeforeItRuns() {
    SignatureQueue q = queue(WAIT_A_SECOND);
    CallScope scope = CallScope.withTimeout(Duration.ofSeconds(30));
    CompletableFuture<List<List<TensorData>>> call = q.submitRows(List.of(row(fp32(1, 2, 3, 4))), scope, null);
    scope.cancel();
    assertThat(call).isCompletedExceptionally();
    assertThatThrownBy(call::join).hasRootCauseInstanceOf(java.util.concurrent.CancellationException.class);
    now[0] += Duration.ofSeconds(1).toNanos();
    scheduler.runPending();
    assertThat(batchSizes).isEmpty();
  }

  @Test
  void closedQueue_refusesNewRows_butRunsTheQueuedOnes() throws Exception {
    SignatureQueue q = queue(WAIT_A_SECOND);
    CompletableFuture<List<List<TensorData>>> queued = q.submitRows(List.of(row(fp32(1, 2, 3, 4))), CallScope.NONE, null);
    q.close();
    assertThatThrownBy(() -> q.submitRows(List.of(row(fp32(1, 2, 3, 4))), CallScope.NONE, null))
        .isInstanceOf(QueueClosedException.class);
    now[0] += Duration.ofSeconds(1).toNanos();
    scheduler.runPending();
    assertEmbedding(queued.join().get(0), 1, 2, 3, 4);
    assertThat(q.drained()).isDone();
  }

  @Test
  void batchable_needsTheBatchAsFirstDimensionOfEveryInputAndOutput() {
    assertThat(Signatures.batchable(model.signature(""))).isTrue();
    assertThat(Signatures.batchable(model.signature("add"))).isTrue();
    assertThat(Signatures.batchable(model.signature("square"))).isFalse();
  }

  static float[] concat(float[] a, float[] b) {
    float[] out = new float[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
