package io.jointspace.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.server.batching.BatchQueue;
import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
import io.jointspace.server.batching.Ticker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Batch meters follow their queue: made by its first event, removed once it drained. */
class BatchMetricsTest {

  @Test
  void aDrainedQueue_isNoLongerExported() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (BatchScheduler scheduler = BatchScheduler.create(1, new BatchMetrics(registry))) {
      BatchQueue<String, String> queue = scheduler.newQueue("m@1/encode", BatchingOptions.DEFAULT
          .withMaxQueueDelay(Duration.ofMillis(1)), batch -> {
            List<String> out = new ArrayList<>();
            batch.items().forEach(s -> out.add(s + "!"));
            return out;
          });
      assertThat(queue.submit(List.of("a", "b")).get(10, TimeUnit.SECONDS)).containsExactly("a!", "b!");
      assertThat(registry.find("jointspace.batch.items").tag("queue", "m@1/encode").counter().count())
          .isEqualTo(2.0);
      assertThat(registry.find("jointspace.batch.size").tag("model", "m").tag("version", "1").summary())
          .isNotNull();

      queue.close();
      queue.drained().get(10, TimeUnit.SECONDS);
      assertThat(registry.find("jointspace.batch.items").tag("queue", "m@1/encode").counter()).isNull();
      assertThat(registry.find("jointspace.batch.size").tag("queue", "m@1/encode").summary()).isNull();
    }
  }

  @Test
  void queueDepth_readsTheItemsWaitingAtScrape() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    long[] now = {0};
    Ticker ticker = () -> now[0];
    try (BatchScheduler scheduler = BatchScheduler.manual(ticker, new BatchMetrics(registry))) {
      BatchQueue<String, String> queue = scheduler.newQueue("m@1/encode", BatchingOptions.DEFAULT
          .withMaxBatchSize(2).withMaxQueueDelay(Duration.ofSeconds(1)), batch -> batch.items());
      var depth = registry.find("jointspace.batch.queue.depth").tag("queue", "m@1/encode").gauge();
      assertThat(depth).isNotNull();
      assertThat(depth.value()).isZero();
      queue.submit(List.of("a", "b", "c"));
      assertThat(depth.value()).isEqualTo(3);
      assertThat(scheduler.step()).isTrue(); // a full batch of 2 runs; one item still waits for the delay
      assertThat(depth.value()).isEqualTo(1);
      now[0] += Duration.ofSeconds(1).toNanos();
      assertThat(scheduler.runPending()).isEqualTo(1);
      assertThat(depth.value()).isZero();
    }
  }
}
