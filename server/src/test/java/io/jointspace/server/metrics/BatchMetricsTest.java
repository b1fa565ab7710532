package io.jointspace.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.server.batching.BatchQueue;
import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
import io.jointspace.server.batching.Ticker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
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
      assertThat(registry.find("jointspace.batch.queue.depth").tag("queue", "m@1/encode").gauge()).isNotNull();
      assertThat(registry.find("jointspace.batch.size").tag("queue", "m@1/encode").summary())
          .as("histograms wait for the first batch").isNull();
      assertThat(queue.submit(List.of("a", "b")).get(10, TimeUnit.SECONDS)).containsExactly("a!", "b!");
      assertThat(registry.find("jointspace.batch.items").tag("queue", "m@1/encode").counter().count())
          .isEqualTo(2.0);
      assertThat(registry.find("jointspace.batch.size").tag("model", "m").tag("version", "1").summary())
          .isNotNull();

      queue.close();
      queue.drained().get(10, TimeUnit.SECONDS);
      assertThat(registry.find("jointspace.batch.items").tag("queue", "m@1/encode").counter()).isNull();
      assertThat(registry.find("jointspace.batch.size").tag("queue", "m@1/encode").summary()).isNull();
      assertThat(registry.find("jointspace.batch.queue.depth").tag("queue", "m@1/encode").gauge()).isNull();
    }
  }

  @Test
  void timeHistograms_haveFourteenBucketsByDefault_andMicrometersFullSetWhenDetailed() throws Exception {
    for (boolean detailed : new boolean[] {false, true}) {
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      try (BatchScheduler scheduler = BatchScheduler.create(1, new BatchMetrics(registry, detailed))) {
        BatchQueue<String, String> queue = scheduler.newQueue("m@1/encode", BatchingOptions.DEFAULT
            .withMaxQueueDelay(Duration.ofMillis(1)), batch -> batch.items());
        queue.submit(List.of("a")).get(10, TimeUnit.SECONDS);
        long buckets = registry.scrape().lines()
            .filter(l -> l.startsWith("jointspace_batch_compute_seconds_bucket{")).count();
        // +Inf is a bucket of its own
        assertThat(buckets).as("detailed=" + detailed).isEqualTo(detailed ? 69 : 15);
      }
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
