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
      List<List<String>> submitted = new ArrayList<>();
      List<CompletableFuture<Void>> submitters = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        BatchQueue<String, String> queue = t % 2 == 0 ? text : image;
        String prefix = "t" + t + "-";
        submitters.add(CompletableFuture.runAsync(() -> {
          for (int r = 0; r < 25; r++) {
            List<String> items = BatchSchedulerTest.items(prefix + r + "-", 5);
            CompletableFuture<List<String>> result = queue.submit(items);
            synchronized (results) {
              results.add(result);
              submitted.add(items);
            }
          }
        }));
      }
      CompletableFuture.allOf(submitters.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
      CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

      assertThat(results).hasSize(100);
      for (int i = 0; i < results.size(); i++) {
        // each request gets its own items back, processed, in its order
        assertThat(results.get(i).join()).containsExactlyElementsOf(
            submitted.get(i).stream().map(item -> item + "!").toList());
      }
      assertThat(textProcessor.batches).allSatisfy(b -> assertThat(b.size()).isBetween(1, 8));

      text.close();
      image.close();
      CompletableFuture.allOf(text.drained(), image.drained()).get(10, TimeUnit.SECONDS);
    }
  }
}
