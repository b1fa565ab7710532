package io.jointspace.server.batching;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How the shared threads serve the queues: fairness, concurrency, close, metrics hooks. */
class BatchSchedulerTest {
  final FakeTicker ticker = new FakeTicker();
  final List<String> events = new CopyOnWriteArrayList<>();
  final BatchScheduler scheduler = BatchScheduler.manual(ticker, new BatchListener() {
    @Override
    public void onBatch(String queue, int size, int lengthBucket, double paddingRatio, Duration queueTime,
        Duration computeTime) {
      events.add("batch " + queue + " size=" + size + " bucket=" + lengthBucket + " waited="
          + queueTime.toMillis() + "ms");
    }

    @Override
    public void onRejected(String queue, int items, int depth) {
      events.add("rejected " + queue + " items=" + items + " depth=" + depth);
    }

    @Override
    public void onExpired(String queue, int items) {
      events.add("expired " + queue + " items=" + items);
    }
  });
  final BatchingOptions pairs = TestOptions.WAITING.withMaxBatchSize(2);

  @AfterEach
  void close() {
    scheduler.close();
  }

  static List<String> items(String prefix, int n) {
    List<String> items = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      items.add(prefix + i);
    }
    return items;
  }

  @Test
  void twoBusyQueuesOnOneThread_takeTurns() {
    List<String> order = new CopyOnWriteArrayList<>();
    BatchQueue<String, String> a = scheduler.newQueue("a", pairs, new RecordingProcessor(order));
    BatchQueue<String, String> b = scheduler.newQueue("b", pairs, new RecordingProcessor(order));
    a.submit(items("a", 6));
    b.submit(items("b", 6));

    assertThat(scheduler.runPending()).isEqualTo(6);

    assertThat(order).containsExactly("a", "b", "a", "b", "a", "b");
  }

  @Test
  void queueThatRefillsItselfForever_cannotStarveAnother() {
    List<String> order = new CopyOnWriteArrayList<>();
    RecordingProcessor busyProcessor = new RecordingProcessor(order);
    BatchQueue<String, String> busy = scheduler.newQueue("busy", pairs, busyProcessor);
    BatchQueue<String, String> quiet = scheduler.newQueue("quiet", pairs, new RecordingProcessor(order));
    busyProcessor.whileProcessing(() -> busy.submit(items("more", 2)));
    busy.submit(items("busy", 2));
    CompletableFuture<List<String>> quietResult = quiet.submit(items("q", 2));

    for (int i = 0; i < 4; i++) {
      assertThat(scheduler.step()).isTrue();
    }

    assertThat(order).containsExactly("busy", "quiet", "busy", "busy");
    assertThat(quietResult).isCompletedWithValue(List.of("q0!", "q1!"));
  }

  @Test
  void maxConcurrentBatchesOne_keepsASecondThreadFromRunningTheSameQueue() {
    RecordingProcessor processor = new RecordingProcessor();
    BatchQueue<String, String> queue = scheduler.newQueue("q", pairs, processor);
    AtomicBoolean secondThreadRan = new AtomicBoolean();
    AtomicBoolean nested = new AtomicBoolean();
    processor.whileProcessing(() -> {
      if (nested.compareAndSet(false, true)) {
        secondThreadRan.set(scheduler.step()); // as if another batch thread looked now
      }
    });
    queue.submit(items("x", 4));

    assertThat(scheduler.runPending()).isEqualTo(2);

    assertThat(secondThreadRan).isFalse();
  }

  @Test
  void maxConcurrentBatchesTwo_letsASecondThreadRunTheSameQueue() {
    RecordingProcessor processor = new RecordingProcessor();
    BatchQueue<String, String> queue = scheduler.newQueue("q", pairs.withMaxConcurrentBatches(2),
        processor);
    AtomicInteger runningInside = new AtomicInteger();
    AtomicBoolean thirdRan = new AtomicBoolean();
    AtomicInteger depth = new AtomicInteger();
    processor.whileProcessing(() -> {
      if (depth.incrementAndGet() == 1) {
        scheduler.step(); // a second thread runs the next batch concurrently
      } else if (depth.get() == 2) {
        runningInside.set(queue.runningBatches());
        thirdRan.set(scheduler.step()); // a third thread finds the queue at its limit
      }
    });
    CompletableFuture<List<String>> result = queue.submit(items("x", 6));

    scheduler.runPending();

    assertThat(runningInside).hasValue(2);
    assertThat(thirdRan).isFalse();
    assertThat(result).isCompletedWithValue(List.of("x0!", "x1!", "x2!", "x3!", "x4!", "x5!"));
  }

  @Test
  void drainedQueue_leavesTheRotation() {
    List<String> order = new CopyOnWriteArrayList<>();
    BatchQueue<String, String> gone = scheduler.newQueue("gone", pairs, new RecordingProcessor(order));
    BatchQueue<String, String> stays = scheduler.newQueue("stays", pairs, new RecordingProcessor(order));
    gone.close();
    stays.submit(items("s", 4));

    assertThat(scheduler.runPending()).isEqualTo(2);
    assertThat(gone.drained()).isCompleted();
    assertThat(order).containsExactly("stays", "stays");
  }

  @Test
  void closingTheScheduler_failsWaitingItems_andRefusesNewQueues() {
    BatchQueue<String, String> queue = scheduler.newQueue("clip@2/encode_text", pairs,
        new RecordingProcessor());
    CompletableFuture<List<String>> waiting = queue.submit(items("w", 1));

    scheduler.close();

    assertThatThrownBy(waiting::join).hasCauseInstanceOf(QueueClosedException.class)
        .hasMessageContaining("batch scheduler closed: queue 'clip@2/encode_text' dropped 1 "
            + "waiting items");
    assertThat(queue.drained()).isCompleted();
    assertThatThrownBy(() -> queue.submit(items("x", 1))).isInstanceOf(QueueClosedException.class);
    assertThatThrownBy(() -> scheduler.newQueue("late", pairs, new RecordingProcessor()))
        .isInstanceOf(IllegalStateException.class);
    assertThat(scheduler.runPending()).isZero();
  }

  @Test
  void listener_hearsOfBatchesRejectionsAndExpiries() {
    BatchQueue<String, String> queue = scheduler.newQueue("q", pairs.withMaxQueuedItems(3),
        new RecordingProcessor());
    queue.submit(items("late", 1), Duration.ofMillis(1));
    queue.submit(items("x", 1));
    assertThatThrownBy(() -> queue.submit(items("y", 2))).isInstanceOf(QueueFullException.class);

    ticker.advanceMillis(7);
    scheduler.runPending();

    assertThat(events).containsExactly(
        "rejected q items=2 depth=2",
        "expired q items=1",
        "batch q size=1 bucket=0 waited=7ms");
  }

  @Test
  void throwingListener_doesNotDisturbBatching() {
    BatchScheduler noisy = BatchScheduler.manual(ticker, new BatchListener() {
      @Override
      public void onBatch(String queue, int size, int bucket, double padding, Duration waited, Duration compute) {
        throw new IllegalStateException("metrics down");
      }
    });
    BatchQueue<String, String> queue = noisy.newQueue("q", pairs, new RecordingProcessor());
    CompletableFuture<List<String>> result = queue.submit(items("x", 2));

    noisy.runPending();

    assertThat(result).isCompletedWithValue(List.of("x0!", "x1!"));
    noisy.close();
  }

  @Test
  void steppingAThreadedScheduler_isRefused() {
    try (BatchScheduler threaded = BatchScheduler.create(1)) {
      assertThatThrownBy(threaded::runPending).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("manual");
    }
  }
}
