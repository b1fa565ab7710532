package io.jointspace.server.batching;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchingOptionsTest {
  @Test
  void defaults_areTheDocumentedValues() {
    BatchingOptions options = BatchingOptions.DEFAULT;

    assertThat(options.maxBatchSize()).isEqualTo(32);
    assertThat(options.maxQueueDelay()).isEqualTo(Duration.ofMillis(2));
    assertThat(options.preferredBatchSizes()).isEmpty();
    assertThat(options.maxQueuedItems()).isEqualTo(1024);
    assertThat(options.lengthBuckets()).isEmpty();
    assertThat(options.maxConcurrentBatches()).isEqualTo(Integer.MAX_VALUE);
    assertThat(options.maxItemsAhead()).isEqualTo(Integer.MAX_VALUE);
    assertThat(options.waitOnlyForAdmitted()).isTrue();
  }

  @Test
  void invalidValue_failsNamingTheField() {
    BatchingOptions d = BatchingOptions.DEFAULT;
    assertThatThrownBy(() -> d.withMaxBatchSize(0)).hasMessageContaining("maxBatchSize");
    assertThatThrownBy(() -> d.withMaxQueueDelay(Duration.ofMillis(-1)))
        .hasMessageContaining("maxQueueDelay");
    assertThatThrownBy(() -> d.withPreferredBatchSizes(8, 64))
        .hasMessageContaining("preferredBatchSizes").hasMessageContaining("64");
    assertThatThrownBy(() -> d.withMaxQueuedItems(0)).hasMessageContaining("maxQueuedItems");
    assertThatThrownBy(() -> d.withLengthBuckets(0, 16)).hasMessageContaining("lengthBuckets");
    assertThatThrownBy(() -> d.withMaxConcurrentBatches(0))
        .hasMessageContaining("maxConcurrentBatches");
    assertThatThrownBy(() -> d.withMaxQueueDelay(null)).hasMessageContaining("maxQueueDelay");
  }

  @Test
  void preferredSizesAndLengthBuckets_areSortedAndDeduplicated() {
    BatchingOptions options = BatchingOptions.DEFAULT
        .withPreferredBatchSizes(16, 4, 16, 8)
        .withLengthBuckets(77, 16, 32);

    assertThat(options.preferredBatchSizes()).containsExactly(4, 8, 16);
    assertThat(options.lengthBuckets()).containsExactly(16, 32, 77);
  }

  @Test
  void shrinkingMaxBatchSizeBelowAPreferredSize_isRefused() {
    BatchingOptions options = BatchingOptions.DEFAULT.withPreferredBatchSizes(16);

    assertThatThrownBy(() -> options.withMaxBatchSize(8))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("preferredBatchSizes must lie in 1..maxBatchSize (8), got 16");
  }

  @Test
  void record_isAValue() {
    assertThat(BatchingOptions.DEFAULT.withMaxBatchSize(8))
        .isEqualTo(new BatchingOptions(8, Duration.ofMillis(2), List.of(), 1024, List.of(), Integer.MAX_VALUE, Integer.MAX_VALUE, true));
  }
}
