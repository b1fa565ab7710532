package io.jointspace.server.batching;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What happens to a request: failure, deadline, cancellation, a full or closed queue. */
class BatchQueueTest {
  final FakeTicker ticker = new FakeTicker();
  final BatchScheduler scheduler = BatchScheduler.manual(ticker);
  final RecordingProcessor processor = new RecordingProcessor();

  @AfterEach
  void close() {
    scheduler.close();
  }

  BatchQueue<String, String> queue(BatchingOptions options) {
    return scheduler.newQueue("clip@2/encode_image", options, processor);
  }

  @Test
  void failingBatch_failsOnlyTheRequestsWithItemsInIt() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withMaxBatchSize(3));
    CompletableFuture<List<String>> a = queue.submit(List.of("a1", "a2"));
    CompletableFuture<List<String>> bad = queue.submit(List.of("bad"));
    CompletableFuture<List<String>> c = queue.submit(List.of("c1", "c2", "c3"));

    assertThat(scheduler.runPending()).isEqualTo(2);

    assertThat(a).isCompletedExceptionally();
    assertThatThrownBy(bad::join).hasRootCauseInstanceOf(IllegalStateException.class)
        .hasRootCauseMessage("cannot encode bad");
    assertThat(c).isCompletedWithValue(List.of("c1!", "c2!", "c3!"));
  }

  @Test
  void failingBatch_dropsTheWaitingItemsOfItsRequests() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withMaxBatchSize(2));
    CompletableFuture<List<String>> split = queue.submit(List.of("bad", "x", "y", "z"));

    assertThat(scheduler.runPending()).isEqualTo(1);

    assertThat(split).isCompletedExceptionally();
    assertThat(queue.depth()).isZero();
    assertThat(processor.batches).hasSize(1);
  }

  @Test
  void processorReturningTheWrongNumberOfOutputs_failsTheBatch() {
    BatchQueue<String, String> queue = scheduler.newQueue("q", TestOptions.WAITING,
        batch -> List.of("only one"));
    CompletableFuture<List<String>> result = queue.submit(List.of("a", "b"));
    ticker.advanceMillis(5);
    scheduler.runPending();

    assertThatThrownBy(result::join).hasRootCauseInstanceOf(IllegalStateException.class)
        .hasRootCauseMessage("processor of queue 'q' returned 1 outputs for a batch of 2 items");
  }

  @Test
  void nullOutputs_areDelivered() {
    BatchQueue<String, String> queue = scheduler.newQueue("q", TestOptions.WAITING,
        batch -> Collections.nCopies(batch.size(), null));
    CompletableFuture<List<String>> result = queue.submit(List.of("a", "b"));
    ticker.advanceMillis(5);
    scheduler.runPending();

    assertThat(result.join()).containsExactly(null, null);
  }

  @Test
  void itemsWhoseDeadlinePassed_areDroppedBeforeTheirBatchRuns() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING);
    CompletableFuture<List<String>> late = queue.submit(List.of("l1", "l2"), Duration.ofMillis(2));
    CompletableFuture<List<String>> patient = queue.submit(List.of("p"), Duration.ofSeconds(1));

    ticker.advanceMillis(5);
    scheduler.runPending();

    assertThat(processor.itemsPerBatch()).containsExactly(List.of("p"));
    assertThat(patient).isCompletedWithValue(List.of("p!"));
    assertThatThrownBy(late::join).hasCauseInstanceOf(DeadlineExceededException.class)
        .hasMessageContaining("deadline exceeded after 5.0 ms in queue 'clip@2/encode_image': "
            + "2 of 2 items dropped before running");
  }

  @Test
  void splitRequest_whoseDeadlinePassesBetweenBatches_dropsItsRest() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withMaxBatchSize(2));
    CompletableFuture<List<String>> result = queue.submit(List.of("a", "b", "c"), Duration.ofMillis(3));
    assertThat(scheduler.runPending()).isEqualTo(1);

    ticker.advanceMillis(5);
    assertThat(scheduler.runPending()).isZero();

    assertThatThrownBy(result::join).hasMessageContaining("1 of 3 items dropped");
    assertThat(queue.depth()).isZero();
  }

  @Test
  void timeoutAlreadyPassed_failsAtOnce() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING);

    CompletableFuture<List<String>> result = queue.submit(List.of("a"), Duration.ZERO);

    assertThatThrownBy(result::join).hasCauseInstanceOf(DeadlineExceededException.class);
    assertThat(queue.depth()).isZero();
  }

  @Test
  void cancelledRequest_itsWaitingItemsAreDroppedAndFreeTheirPlaces() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withMaxQueuedItems(4));
    CompletableFuture<List<String>> cancelled = queue.submit(List.of("c1", "c2", "c3"));
    CompletableFuture<List<String>> kept = queue.submit(List.of("k"));

    cancelled.cancel(false);

    assertThat(queue.depth()).isEqualTo(1);
    CompletableFuture<List<String>> admitted = queue.submit(List.of("n1", "n2", "n3"));
    ticker.advanceMillis(5);
    scheduler.runPending();
    assertThat(processor.itemsPerBatch()).containsExactly(List.of("k", "n1", "n2", "n3"));
    assertThat(kept).isCompletedWithValue(List.of("k!"));
    assertThat(admitted).isCompleted();
  }

  @Test
  void requestCancelledWhileItsBatchRuns_getsNoOutputs_andOthersDo() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING);
    CompletableFuture<List<String>> cancelled = queue.submit(List.of("c"));
    CompletableFuture<List<String>> kept = queue.submit(List.of("k"));
    processor.whileProcessing(() -> cancelled.cancel(true));
    ticker.advanceMillis(5);

    scheduler.runPending();

    assertThat(cancelled).isCancelled();
    assertThat(kept).isCompletedWithValue(List.of("k!"));
  }

  @Test
  void fullQueue_rejectsAtOnce_withItsNameAndDepthInTheMessage() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withMaxQueuedItems(4));
    queue.submit(List.of("a", "b", "c"));

    assertThatThrownBy(() -> queue.submit(List.of("d", "e")))
        .isInstanceOfSatisfying(QueueFullException.class, e -> {
          assertThat(e.depth()).isEqualTo(3);
          assertThat(e.capacity()).isEqualTo(4);
          assertThat(e.requested()).isEqualTo(2);
        })
        .hasMessage("queue 'clip@2/encode_image' is full: 3 of 4 items waiting, "
            + "cannot add 2 more; retry later");
    assertThat(queue.depth()).isEqualTo(3);
    assertThat(queue.submit(List.of("d"))).isNotDone();
  }

  @Test
  void requestLargerThanTheWholeQueue_isRejectedWithAHint() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withMaxQueuedItems(2));

    assertThatThrownBy(() -> queue.submit(List.of("a", "b", "c")))
        .isInstanceOf(QueueFullException.class)
        .hasMessage("queue 'clip@2/encode_image' holds at most 2 waiting items: "
            + "a request of 3 items can never fit, split it (0 waiting now)");
  }

  @Test
  void emptyRequest_completesAtOnce() {
    assertThat(queue(TestOptions.WAITING).submit(List.of())).isCompletedWithValue(List.of());
  }

  @Test
  void closedQueue_drainsItsWaitingItemsWithoutDelay_thenRefusesNewWork() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING);
    CompletableFuture<List<String>> waiting = queue.submit(List.of("a", "b"));

    queue.close();

    assertThat(queue.drained()).isNotDone();
    assertThatThrownBy(() -> queue.submit(List.of("c")))
        .isInstanceOf(QueueClosedException.class)
        .hasMessage("queue 'clip@2/encode_image' is closed to new work");
    assertThat(scheduler.runPending()).as("no need to wait for maxQueueDelay").isEqualTo(1);
    assertThat(waiting).isCompletedWithValue(List.of("a!", "b!"));
    assertThat(queue.drained()).isCompleted();
  }

  @Test
  void closedQueue_isDrainedOnlyAfterItsRunningBatchFinishes() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withMaxQueueDelay(Duration.ZERO));
    queue.submit(List.of("a"));
    AtomicInteger drainedDuringRun = new AtomicInteger(-1);
    processor.whileProcessing(() -> {
      queue.close();
      drainedDuringRun.set(queue.drained().isDone() ? 1 : 0);
    });

    scheduler.runPending();

    assertThat(drainedDuringRun).hasValue(0);
    assertThat(queue.drained()).isCompleted();
  }

  @Test
  void maxItemsAhead_refusesARequestBehindTooLongABacklog_butAdmitsALargeOneIntoAShortQueue() {
    BatchQueue<String, String> queue = scheduler.newQueue("q",
        TestOptions.WAITING.withMaxBatchSize(4).withMaxItemsAhead(2).withMaxQueueDelay(java.time.Duration.ofSeconds(1)),
        batch -> batch.items());
    var big = queue.submit(java.util.List.of("a", "b", "c")); // 0 waiting: admitted, though 3 > 2
    assertThatThrownBy(() -> queue.submit(java.util.List.of("d")))
        .isInstanceOf(QueueFullException.class)
        .hasMessageContaining("3 items waiting").hasMessageContaining("2");
    assertThatThrownBy(() -> queue.reserve(1)).isInstanceOf(QueueFullException.class);
    ticker.advance(java.time.Duration.ofSeconds(1));
    scheduler.runPending();
    assertThat(big.join()).containsExactly("a", "b", "c");
    assertThat(queue.submit(java.util.List.of("d"))).isNotNull(); // the backlog ran: admitted again
  }

  @Test
  void deadline_refusesOnlyARequestWhoseWaitAheadWouldOutlastIt_sayingSo() {
    // each batch takes 100 ms of the ticker's time
    BatchQueue<String, String> queue = scheduler.newQueue("q",
        TestOptions.WAITING.withMaxBatchSize(2).withMaxQueueDelay(Duration.ofSeconds(1)),
        batch -> {
          ticker.advanceMillis(100);
          return batch.items();
        });
    var first = queue.submit(List.of("first"), Duration.ofSeconds(5));
    ticker.advance(Duration.ofSeconds(1));
    scheduler.runPending();
    assertThat(first.join()).containsExactly("first");
    // 6 items wait: with 2 more, 4 batches of 100 ms run before the new request's last item
    var waiting = queue.submit(List.of("a", "b", "c", "d", "e", "f"));
    assertThatThrownBy(() -> queue.submit(List.of("x", "y"), Duration.ofMillis(300)))
        .isInstanceOf(QueueFullException.class)
        .hasMessageContaining("6 items wait ahead").hasMessageContaining("about 400.0 ms")
        .hasMessageContaining("300.0 ms left of the call's deadline");
    assertThatThrownBy(() -> queue.reserve(2, Duration.ofMillis(300))).isInstanceOf(QueueFullException.class);
    assertThat(queue.reserved()).isZero();
    var patient = queue.submit(List.of("x", "y"), Duration.ofMillis(500));
    var noDeadline = queue.submit(List.of("z"));
    scheduler.runPending(); // the full batches: 400 ms
    ticker.advance(Duration.ofSeconds(1));
    scheduler.runPending();
    assertThat(waiting.join()).hasSize(6);
    assertThat(patient.join()).containsExactly("x", "y");
    assertThat(noDeadline.join()).containsExactly("z");
  }

  @Test
  void reservation_holdsRoomUntilUsed_andItsItemsAreAdmittedWithoutAnotherCheck() {
    BatchQueue<String, String> queue = scheduler.newQueue("q",
        TestOptions.WAITING.withMaxBatchSize(4).withMaxItemsAhead(1).withMaxQueueDelay(java.time.Duration.ofSeconds(1)),
        batch -> batch.items());
    Reservation first = queue.reserve(1); // nothing ahead
    Reservation second = queue.reserve(1); // 1 ahead: not more than 1
    assertThat(queue.reserved()).isEqualTo(2);
    // the two held places count as waiting items: a third request is refused before it starts
    assertThatThrownBy(() -> queue.reserve(1)).isInstanceOf(QueueFullException.class)
        .hasMessageContaining("2 items waiting");
    assertThatThrownBy(() -> queue.submit(List.of("x"))).isInstanceOf(QueueFullException.class);
    assertThat(queue.reserved()).as("a refused reservation holds nothing").isEqualTo(2);

    // its own items get in whatever waits by now, and use the reservation up
    var a = queue.submit(List.of("a"), null, first);
    assertThat(queue.depth()).isEqualTo(1);
    assertThat(queue.reserved()).isEqualTo(1);
    first.close(); // used: gives nothing back twice
    assertThat(queue.reserved()).isEqualTo(1);

    second.close(); // not used: its room is free again
    assertThat(queue.reserved()).isZero();
    var b = queue.submit(List.of("b"), null, second); // a closed reservation is checked as usual: 1 ahead, admitted
    ticker.advance(java.time.Duration.ofSeconds(1));
    scheduler.runPending();
    assertThat(a.join()).containsExactly("a");
    assertThat(b.join()).containsExactly("b");

    BatchQueue<String, String> other = scheduler.newQueue("other", TestOptions.WAITING, batch -> batch.items());
    try (Reservation elsewhere = other.reserve(1)) {
      assertThatThrownBy(() -> queue.submit(List.of("c"), null, elsewhere))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("another queue");
    }
    queue.close();
    assertThatThrownBy(() -> queue.reserve(1)).isInstanceOf(QueueClosedException.class);
  }

  @Test
  void waitOnlyForAdmitted_waitsOnlyWhileItemsAreKnownToBeComing() {
    BatchQueue<String, String> queue = scheduler.newQueue("q", TestOptions.WAITING.withMaxBatchSize(8)
        .withMaxQueueDelay(java.time.Duration.ofSeconds(1)).withWaitOnlyForAdmitted(true), processor);
    // nothing reserved: a lone item runs at once, without waiting for the delay
    var lone = queue.submit(List.of("a"));
    assertThat(scheduler.runPending()).isEqualTo(1);
    assertThat(lone).isCompletedWithValue(List.of("a!"));

    // room reserved for an item being prepared: what waits, waits for it
    Reservation coming = queue.reserve(1);
    var early = queue.submit(List.of("b"));
    assertThat(scheduler.runPending()).isZero();
    var late = queue.submit(List.of("c"), null, coming);
    assertThat(scheduler.runPending()).isEqualTo(1);
    assertThat(processor.batches.get(processor.batches.size() - 1).items()).containsExactly("b", "c");
    assertThat(early.join()).containsExactly("b!");
    assertThat(late.join()).containsExactly("c!");

    // a reservation given back unused (its preparation failed) stops the wait too
    Reservation failed = queue.reserve(2);
    var waiting = queue.submit(List.of("d"));
    assertThat(scheduler.runPending()).isZero();
    failed.close();
    assertThat(scheduler.runPending()).isEqualTo(1);
    assertThat(waiting.join()).containsExactly("d!");

    // without the option, a lone item waits out the delay though nothing is reserved
    BatchQueue<String, String> plain = scheduler.newQueue("plain", TestOptions.WAITING.withMaxBatchSize(8)
        .withMaxQueueDelay(java.time.Duration.ofSeconds(1)), processor);
    var patient = plain.submit(List.of("e"));
    assertThat(scheduler.runPending()).isZero();
    ticker.advance(java.time.Duration.ofSeconds(1));
    assertThat(scheduler.runPending()).isEqualTo(1);
    assertThat(patient.join()).containsExactly("e!");
  }

  @Test
  void run_withAFreeSlotAndNothingComing_runsOnTheCallingThreadAtOnce() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withWaitOnlyForAdmitted(true)
        .withMaxQueueDelay(Duration.ofSeconds(1)));
    Thread caller = Thread.currentThread();
    AtomicInteger ranHere = new AtomicInteger();
    processor.whileProcessing(() -> ranHere.addAndGet(Thread.currentThread() == caller ? 1 : 0));
    var lone = queue.run(List.of("a", "b"), null, null);
    assertThat(lone).as("done before run returns, no step, no delay").isCompletedWithValue(List.of("a!", "b!"));
    assertThat(ranHere).hasValue(1);
    assertThat(queue.depth()).isZero();
    assertThat(queue.runningBatches()).isZero();
  }

  @Test
  @SuppressWarnings("unchecked")
  void run_whileEverySlotIsBusy_queues_andTheItemsBatchOnceASlotFrees() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withWaitOnlyForAdmitted(true)
        .withMaxQueueDelay(Duration.ofSeconds(1)));
    CompletableFuture<List<String>>[] behind = new CompletableFuture[2];
    // the first call runs on this thread; while it runs, two more arrive and must wait for its slot
    processor.whileProcessing(() -> {
      if (behind[0] == null) {
        behind[0] = queue.run(List.of("b"), null, null);
        behind[1] = queue.run(List.of("c"), null, null);
      }
    });
    var first = queue.run(List.of("a"), null, null);
    assertThat(first).isCompletedWithValue(List.of("a!"));
    assertThat(behind[0]).isNotDone();
    assertThat(queue.depth()).isEqualTo(2);
    assertThat(scheduler.runPending()).as("cut as soon as the slot is free, without the delay").isEqualTo(1);
    assertThat(processor.itemsPerBatch()).containsExactly(List.of("a"), List.of("b", "c"));
    assertThat(behind[0].join()).containsExactly("b!");
    assertThat(behind[1].join()).containsExactly("c!");
  }

  @Test
  @SuppressWarnings("unchecked")
  void run_whileEverySlotIsBusy_runsAtOnceToo_whenTheQueuesBatchesTakeLessThanAHandOff() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withWaitOnlyForAdmitted(true)
        .withMaxQueueDelay(Duration.ofSeconds(1)));
    Duration[] takes = {Duration.ofNanos(20_000)};
    boolean[] arrive = {false};
    CompletableFuture<List<String>>[] behind = new CompletableFuture[1];
    // every batch takes takes[0] by the queue's clock; while one runs, a call may arrive
    processor.whileProcessing(() -> {
      ticker.advance(takes[0]);
      if (arrive[0]) {
        arrive[0] = false;
        behind[0] = queue.run(List.of(processor.batches.size() == 2 ? "b" : "c"), null, null);
      }
    });
    assertThat(queue.run(List.of("timed"), null, null)).isCompletedWithValue(List.of("timed!"));

    // batches of 20 us: the call that arrives while the only slot is taken runs at once too
    arrive[0] = true;
    assertThat(queue.run(List.of("a"), null, null)).isCompletedWithValue(List.of("a!"));
    assertThat(behind[0]).as("ran on the calling thread, beside the batch holding the slot")
        .isCompletedWithValue(List.of("b!"));
    assertThat(queue.depth()).isZero();
    assertThat(scheduler.runPending()).isZero();

    // batches of 1 ms (the smoothed time is past the hand-off's once one has run): it queues
    takes[0] = Duration.ofMillis(1);
    assertThat(queue.run(List.of("slow"), null, null)).isCompletedWithValue(List.of("slow!"));
    arrive[0] = true;
    assertThat(queue.run(List.of("d"), null, null)).isCompletedWithValue(List.of("d!"));
    assertThat(behind[0]).as("waits for the slot").isNotDone();
    assertThat(queue.depth()).isEqualTo(1);
    assertThat(scheduler.runPending()).isEqualTo(1);
    assertThat(behind[0].join()).containsExactly("c!");
    assertThat(processor.itemsPerBatch()).containsExactly(List.of("timed"), List.of("a"), List.of("b"),
        List.of("slow"), List.of("d"), List.of("c"));
  }

  @Test
  void run_withRoomReservedForItemsBeingPrepared_queuesToWaitForThem() {
    // batches of at most 8: two items are worth waiting for
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withWaitOnlyForAdmitted(true).withMaxBatchSize(8)
        .withMaxQueueDelay(Duration.ofSeconds(1)));
    Reservation mine = queue.reserve(1);
    Reservation theirs = queue.reserve(1);
    var early = queue.run(List.of("a"), null, mine);
    assertThat(early).as("another call's item is coming").isNotDone();
    var late = queue.run(List.of("b"), null, theirs);
    assertThat(late).isNotDone();
    assertThat(scheduler.runPending()).isEqualTo(1);
    assertThat(processor.itemsPerBatch()).containsExactly(List.of("a", "b"));

    Reservation alone = queue.reserve(1);
    assertThat(queue.run(List.of("c"), null, alone)).as("its own room is all that was held")
        .isCompletedWithValue(List.of("c!"));
    assertThat(queue.reserved()).isZero();
  }

  @Test
  void aFewItemsBeingPrepared_areNotWaitedFor_aQuarterOfABatchIs() {
    // batches of at most 32: 8 items, waiting and reserved, are worth waiting for
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withWaitOnlyForAdmitted(true)
        .withMaxQueueDelay(Duration.ofSeconds(1)));
    List<Reservation> few = List.of(queue.reserve(1), queue.reserve(1), queue.reserve(1));
    assertThat(queue.run(List.of("a"), null, null)).as("three other callers are preparing an item each")
        .isCompletedWithValue(List.of("a!"));
    var queued = queue.submit(List.of("b"));
    assertThat(scheduler.runPending()).as("cut at once, without the delay").isEqualTo(1);
    assertThat(queued.join()).containsExactly("b!");

    Reservation more = queue.reserve(4);
    var patient = queue.run(List.of("c"), null, null);
    assertThat(patient).as("1 + 7 reserved: a quarter of a batch").isNotDone();
    assertThat(scheduler.runPending()).isZero();
    List<CompletableFuture<List<String>>> late = new java.util.ArrayList<>();
    for (int i = 0; i < few.size(); i++) {
      late.add(queue.submit(List.of("d" + i), null, few.get(i)));
    }
    assertThat(scheduler.runPending()).as("4 waiting + 4 reserved: still worth it").isZero();
    late.add(queue.submit(List.of("e0", "e1", "e2", "e3"), null, more));
    assertThat(scheduler.runPending()).isEqualTo(1);
    assertThat(processor.itemsPerBatch().get(processor.itemsPerBatch().size() - 1))
        .containsExactly("c", "d0", "d1", "d2", "e0", "e1", "e2", "e3");
    assertThat(patient.join()).containsExactly("c!");
    assertThat(late.get(3).join()).containsExactly("e0!", "e1!", "e2!", "e3!");
  }

  @Test
  void run_onAQueueThatWaitsForAnyArrival_queuesAsSubmitDoes() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING);
    var patient = queue.run(List.of("a"), null, null);
    assertThat(patient).isNotDone();
    assertThat(scheduler.runPending()).isZero();
    ticker.advanceMillis(5);
    assertThat(scheduler.runPending()).isEqualTo(1);
    assertThat(patient.join()).containsExactly("a!");
  }

  @Test
  void run_whoseDeadlineHasPassed_failsWithoutRunning() {
    BatchQueue<String, String> queue = queue(TestOptions.WAITING.withWaitOnlyForAdmitted(true));
    var late = queue.run(List.of("a"), Duration.ZERO, null);
    assertThat(late).isCompletedExceptionally();
    assertThat(processor.batches).isEmpty();
  }
}
