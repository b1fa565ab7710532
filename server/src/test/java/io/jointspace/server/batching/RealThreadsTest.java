package io.jointspace.server.batching;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** One bounded smoke test on real batch threads and the system clock. */
class RealThreadsTest {
  @Test
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void concurrentRequestsOnTwoQueues_allComplete_inOrder() throws Exception {
    try (BatchScheduler scheduler = BatchScheduler.create(2)) {
      BatchingOptions options = BatchingOptions.DEFAULT.withMaxBatchSize(8)
          .withMaxQueueDelay(Duration.ofMillis(1)).withMaxConcurrentBatches(2);
      RecordingProcessor textProcessor = new RecordingProcessor();
      BatchQueue<String, String> text = scheduler.newQueue("text", options, textProcessor);
      BatchQueue<String, String> image = scheduler.newQueue("image", options, new RecordingProcessor());

      List<CompletableFuture<List<String>>> results = new ArrayList<>();
      List<CompletableFuture<Void>> submitters = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        BatchQueue<String, String> queue = t % 2 == 0 ? text : image;
        String prefix = "t" + t + "-";
        submitters.add(CompletableFuture.runAsync(() -> {
          for (int r = 0; r < 25; r++) {
            CompletableFuture<List<String>> result = queue.submit(BatchSchedulerTest.items(prefix + r + "-", 5));
            synchronized (results) {
              results.add(result);
            }
          }
        }));
      }
      CompletableFuture.allOf(submitters.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
      CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

      assertThat(results).hasSize(100).allSatisfy(result -> assertThat(result.join())
          .hasSize(5).allSatisfy(out -> assertThat(out).endsWith("!")));
      assertThat(results.get(0).join().get(0)).endsWith("-0!");
      assertThat(textProcessor.batches).allSatisfy(b -> assertThat(b.size()).isBetween(1, 8));

      text.close();
      image.close();
      CompletableFuture.allOf(text.drained(), image.drained()).get(10, TimeUnit.SECONDS);
    }
  }
}
