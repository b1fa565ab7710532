package io.jointspace.server.rollout;

import io.jointspace.server.store.Rollout;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;

/**
 * The open rollouts on the metrics endpoint: their state, progress and backfill rate, as the
 * database has them (every server reports the same numbers). A rollout's series go when it
 * is finalized or aborted.
 */
final class RolloutMetrics {
  private final MultiGauge items;
  private final MultiGauge states;
  private final MultiGauge rate;

  RolloutMetrics(MeterRegistry meters) {
    this.items = MultiGauge.builder("jointspace.rollout.items")
        .description("Items of each open rollout: total to re-embed, done, remaining, failed")
        .register(meters);
    this.states = MultiGauge.builder("jointspace.rollout.state")
        .description("1 for the current state of each open rollout")
        .register(meters);
    this.rate = MultiGauge.builder("jointspace.rollout.backfill.rate")
        .description("Items re-embedded per second by all servers, since the backfill started")
        .register(meters);
  }

  /** Replaces every series with those of {@code open}. */
  void update(List<Rollout> open) {
    List<MultiGauge.Row<?>> itemRows = new ArrayList<>();
    List<MultiGauge.Row<?>> stateRows = new ArrayList<>();
    List<MultiGauge.Row<?>> rateRows = new ArrayList<>();
    for (Rollout r : open) {
      Tags tags = Tags.of("collection", r.collection(), "rollout", Long.toString(r.id()));
      itemRows.add(MultiGauge.Row.of(tags.and("kind", "total"), r.total()));
      itemRows.add(MultiGauge.Row.of(tags.and("kind", "done"), r.done()));
      itemRows.add(MultiGauge.Row.of(tags.and("kind", "remaining"), r.remaining()));
      itemRows.add(MultiGauge.Row.of(tags.and("kind", "failed"), r.failed()));
      stateRows.add(MultiGauge.Row.of(tags.and("state", r.state().name()), 1));
      rateRows.add(MultiGauge.Row.of(tags, r.itemsPerSecond()));
    }
    items.register(itemRows, true);
    states.register(stateRows, true);
    rate.register(rateRows, true);
  }
}
