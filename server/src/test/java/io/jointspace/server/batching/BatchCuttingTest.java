package io.jointspace.server.batching;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** When batches are cut and what goes into them; time is moved by hand, nothing sleeps. */
class BatchCuttingTest {
  final FakeTicker ticker = new FakeTicker();
  final BatchScheduler scheduler = BatchScheduler.manual(ticker);
  final RecordingProcessor processor = new RecordingProcessor();

  @AfterEach
  void close() {
    scheduler.close();
  }

  BatchQueue<String, String> queue(BatchingOptions options) {
    return scheduler.newQueue("clip@2/encode_text", options, processor);
  }

  @Test
  void itemsOfSeveralRequests_shareOneBatch() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING);
    CompletableFuture<List<String>> first = queue.submit(List.of("a", "b"));
    CompletableFuture<List<String>> second = queue.submit(List.of("c"));
    CompletableFuture<List<String>> third = queue.submit(List.of("d", "e", "f"));

    ticker.advanceMillis(5);
    assertThat(scheduler.runPending()).isEqualTo(1);

    assertThat(processor.itemsPerBatch()).containsExactly(List.of("a", "b", "c", "d", "e", "f"));
    assertThat(first).isCompletedWithValue(List.of("a!", "b!"));
    assertThat(second).isCompletedWithValue(List.of("c!"));
    assertThat(third).isCompletedWithValue(List.of("d!", "e!", "f!"));
  }

  @Test
  void fullBatch_isCutAtMaxBatchSize_withoutWaiting() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withMaxBatchSize(3));
    queue.submit(List.of("a", "b"));
    queue.submit(List.of("c", "d"));

    assertThat(scheduler.runPending()).isEqualTo(1);

    assertThat(processor.itemsPerBatch()).containsExactly(List.of("a", "b", "c"));
    assertThat(queue.depth()).isEqualTo(1);
  }

  @Test
  void partialBatch_isCutWhenItsOldestItemHasWaitedMaxQueueDelay() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING
        .withMaxQueueDelay(Duration.ofMillis(5)));
    queue.submit(List.of("a"));
    ticker.advanceMillis(3);
    queue.submit(List.of("b"));

    ticker.advance(Duration.ofMillis(2).minusNanos(1));
    assertThat(scheduler.runPending()).as("4.999999 ms after the oldest item").isZero();

    ticker.advance(Duration.ofNanos(1));
    assertThat(scheduler.runPending()).isEqualTo(1);
    assertThat(processor.itemsPerBatch()).containsExactly(List.of("a", "b"));
  }

  @Test
  void zeroQueueDelay_runsWhateverIsWaiting() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withMaxQueueDelay(Duration.ZERO));
    queue.submit(List.of("a"));

    assertThat(scheduler.runPending()).isEqualTo(1);
  }

  @Test
  void preferredBatchSize_isCutWithoutWaiting_atTheLargestSizeReached() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withMaxBatchSize(16)
        .withPreferredBatchSizes(2, 4));
    queue.submit(List.of("a"));
    assertThat(scheduler.runPending()).as("1 item reaches no preferred size").isZero();

    queue.submit(List.of("b", "c", "d", "e"));
    assertThat(scheduler.runPending()).as("5 waiting: a batch of 4, then 1 left").isEqualTo(1);
    assertThat(processor.itemsPerBatch()).containsExactly(List.of("a", "b", "c", "d"));

    ticker.advanceMillis(5);
    assertThat(scheduler.runPending()).isEqualTo(1);
    assertThat(processor.itemsPerBatch()).last().isEqualTo(List.of("e"));
  }

  @Test
  void requestOf100Items_isSplitIntoBatchesOf32_andReassembledInOrder() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING);
    List<String> items = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      items.add("t" + i);
      expected.add("t" + i + "!");
    }
    CompletableFuture<List<String>> result = queue.submit(items);

    assertThat(scheduler.runPending()).as("three full batches at once").isEqualTo(3);
    assertThat(result).isNotDone();
    ticker.advanceMillis(5);
    assertThat(scheduler.runPending()).as("the last 4 after maxQueueDelay").isEqualTo(1);

    assertThat(processor.batches).extracting(Batch::size).containsExactly(32, 32, 32, 4);
    assertThat(result).isCompletedWithValue(expected);
  }

  @Test
  void lengthBuckets_neverMix_andEachBatchNamesItsBucket() {
    BatchQueue<String, String> queue = scheduler.newQueue("clip@2/encode_text",
        TestOptions.WAITING.withMaxBatchSize(2).withLengthBuckets(4, 8), String::length,
        processor);
    CompletableFuture<List<String>> mixed = queue.submit(List.of("ab", "abcdef", "abcd", "abcdefgh"));

    assertThat(scheduler.runPending()).isEqualTo(2);

    assertThat(processor.batches).extracting(Batch::items, Batch::lengthBucket).containsExactly(
        org.assertj.core.groups.Tuple.tuple(List.of("ab", "abcd"), 4),
        org.assertj.core.groups.Tuple.tuple(List.of("abcdef", "abcdefgh"), 8));
    assertThat(mixed).isCompletedWithValue(List.of("ab!", "abcdef!", "abcd!", "abcdefgh!"));
  }

  @Test
  void bucketWithTheOldestItem_runsFirst() {
    BatchQueue<String, String> queue = scheduler.newQueue("q",
        TestOptions.WAITING.withLengthBuckets(4, 8), String::length, processor);
    queue.submit(List.of("abcdef"));
    ticker.advanceMillis(1);
    queue.submit(List.of("ab"));
    ticker.advanceMillis(10);

    assertThat(scheduler.step()).isTrue();
    assertThat(processor.batches.get(0).lengthBucket()).isEqualTo(8);
  }

  @Test
  void itemLongerThanTheLargestBucket_isRefusedAtSubmit() {
    BatchQueue<String, String> queue = scheduler.newQueue("clip@2/encode_text",
        TestOptions.WAITING.withLengthBuckets(4, 8), String::length, processor);

    assertThatThrownBy(() -> queue.submit(List.of("ok", "much too long")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("items[1] has length 13, outside the length buckets of queue "
            + "'clip@2/encode_text' (0..8)");
    assertThat(queue.depth()).isZero();
  }

  @Test
  void lengthBucketsWithoutALengthFunction_areRefused() {
    assertThatThrownBy(() -> queue(TestOptions.WAITING.withLengthBuckets(16)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("length function");
  }
}
