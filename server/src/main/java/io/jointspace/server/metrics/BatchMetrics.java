package io.jointspace.server.metrics;

import io.jointspace.server.batching.BatchListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import java.util.stream.Stream;

/**
 * Feeds the batch scheduler's events into Micrometer: batch sizes, queue and compute times,
 * padding ratios, items run, rejected, expired and cancelled, and the items waiting, per queue. A queue named {@code model@version/signature}
 * is labelled {@code queue}, {@code model} and {@code version}.
 */
public final class BatchMetrics implements BatchListener {
  /** The buckets of the batch timing histograms unless detailed ones are asked for. */
  static final Duration[] TIME_BUCKETS = Stream.of(0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000)
      .map(ms -> Duration.ofNanos(Math.round(ms.doubleValue() * 1e6))).toArray(Duration[]::new);

  private final MeterRegistry registry;
  private final boolean detailedHistograms;
  private final Map<String, QueueMeters> queues = new ConcurrentHashMap<>();
  private final Map<String, Gauge> depths = new ConcurrentHashMap<>();

  public BatchMetrics(MeterRegistry registry) {
    this(registry, false);
  }

  /**
   * @param detailedHistograms time histograms with Micrometer's 69 percentile buckets instead
   *     of {@link #TIME_BUCKETS}
   */
  public BatchMetrics(MeterRegistry registry, boolean detailedHistograms) {
    this.registry = registry;
    this.detailedHistograms = detailedHistograms;
  }

  @Override
  public void onBatch(String queueName, int size, int lengthBucket, double paddingRatio, Duration queueTime,
      Duration computeTime) {
    QueueMeters m = meters(queueName);
    m.size.record(size);
    m.padding.record(paddingRatio);
    m.items.increment(size);
    m.queueTime.record(queueTime);
    m.computeTime.record(computeTime);
  }

  /**
   * Only the depth gauge is exported from the start; a queue's other series appear with its
   * first batch or refusal, so the queues of signatures nobody calls cost one line a scrape.
   */
  @Override
  public void onQueueOpened(String queueName, IntSupplier depth) {
    depths.put(queueName, Gauge.builder("jointspace.batch.queue.depth", depth::getAsInt)
        .description("Items waiting in the queue (not yet running)")
        .tags(tags(queueName)).register(registry));
  }

  @Override
  public void onRejected(String queueName, int items, int depth) {
    meters(queueName).rejected.increment(items);
  }

  @Override
  public void onExpired(String queueName, int items) {
    meters(queueName).expired.increment(items);
  }

  @Override
  public void onCancelled(String queueName, int items) {
    meters(queueName).cancelled.increment(items);
  }

  /** A drained queue (its version unloaded) stops being exported. */
  @Override
  public void onDrained(String queueName) {
    QueueMeters m = queues.remove(queueName);
    if (m != null) {
      m.removeFrom(registry);
    }
    Gauge depth = depths.remove(queueName);
    if (depth != null) {
      registry.remove(depth);
    }
  }

  private QueueMeters meters(String queueName) {
    return queues.computeIfAbsent(queueName, q -> new QueueMeters(registry, tags(q), detailedHistograms));
  }

  /** {@code queue}, plus {@code model} and {@code version} parsed from {@code model@version/signature}. */
  static Tags tags(String queueName) {
    String model = "";
    String version = "";
    int slash = queueName.indexOf('/');
    String head = slash < 0 ? queueName : queueName.substring(0, slash);
    int at = head.lastIndexOf('@');
    if (at > 0) {
      model = head.substring(0, at);
      version = head.substring(at + 1);
    }
    return Tags.of("queue", queueName, "model", model, "version", version);
  }

  private static final class QueueMeters {
    final DistributionSummary size;
    final Counter items;
    final Timer queueTime;
    final Timer computeTime;
    final Counter rejected;
    final Counter expired;
    final Counter cancelled;
    final DistributionSummary padding;

    QueueMeters(MeterRegistry registry, Tags tags, boolean detailedHistograms) {
      size = DistributionSummary.builder("jointspace.batch.size")
          .description("Items per batch run")
          .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256)
          .tags(tags).register(registry);
      items = Counter.builder("jointspace.batch.items")
          .description("Items run in batches")
          .tags(tags).register(registry);
      queueTime = Timer.builder("jointspace.batch.queue")
          .description("How long the oldest item of a batch waited in its queue")
          .publishPercentileHistogram(detailedHistograms)
          .serviceLevelObjectives(detailedHistograms ? new Duration[0] : TIME_BUCKETS)
          .tags(tags).register(registry);
      computeTime = Timer.builder("jointspace.batch.compute")
          .description("How long running a batch took")
          .publishPercentileHistogram(detailedHistograms)
          .serviceLevelObjectives(detailedHistograms ? new Duration[0] : TIME_BUCKETS)
          .tags(tags).register(registry);
      rejected = Counter.builder("jointspace.batch.rejected.items")
          .description("Items refused because their queue was full")
          .tags(tags).register(registry);
      expired = Counter.builder("jointspace.batch.expired.items")
          .description("Waiting items dropped because their request's deadline passed")
          .tags(tags).register(registry);
      cancelled = Counter.builder("jointspace.batch.cancelled.items")
          .description("Waiting items dropped because their call was cancelled")
          .tags(tags).register(registry);
      padding = DistributionSummary.builder("jointspace.batch.padding.ratio")
          .description("Share of each batch's input that is padding (texts padded to their length bucket; 0 for"
              + " inputs that are not padded)")
          .serviceLevelObjectives(0.1, 0.25, 0.5, 0.75, 0.9)
          .tags(tags).register(registry);
    }

    void removeFrom(MeterRegistry registry) {
      for (io.micrometer.core.instrument.Meter m : List.of(size, items, queueTime, computeTime, rejected, expired,
          cancelled, padding)) {
        registry.remove(m);
      }
    }
  }
}
