package io.jointspace.server.metrics;

import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelState;
import io.jointspace.registry.ServableId;
import io.jointspace.registry.VersionStatus;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Model version states: {@code jointspace_model_version_state{model,version,state}} is 1 for
 * each tracked version's current state, and {@code jointspace_models_available} counts the
 * models with at least one AVAILABLE version. Refreshed from the registry on every scrape.
 *
 * <p>Also ends the per-version series of meters named {@link #PER_VERSION}: once a version has
 * ended (END, or gone from the registry), its series are exported at one more scrape, with
 * their final values, and removed before the next, so versions that come and go do not add
 * series for ever.
 */
public final class ModelMetrics {
  /** Meters tagged {@code model} and {@code version} whose series end with their version. */
  public static final String PER_VERSION = "jointspace.model.requests";

  private final MeterRegistry meters;
  private final ModelManager<?> registry;
  private final MultiGauge states;
  /** Versions found ended at the last refresh, whose series go at this one. */
  private Set<ServableId> ended = Set.of();

  public ModelMetrics(MeterRegistry meters, ModelManager<?> registry) {
    this.meters = meters;
    this.registry = registry;
    this.states = MultiGauge.builder("jointspace.model.version.state")
        .description("1 for the current state of each model version")
        .register(meters);
    Gauge.builder("jointspace.models.available", registry, ModelMetrics::availableModels)
        .description("Models with at least one AVAILABLE version")
        .register(meters);
  }

  /** Re-reads every version's state and ends the series of ended versions; called before each scrape. */
  public synchronized void refresh() {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    Set<ServableId> live = new HashSet<>();
    for (VersionStatus v : registry.allVersions()) {
      rows.add(MultiGauge.Row.of(Tags.of("model", v.id().name(), "version", Long.toString(v.id().version()),
          "state", v.state().name()), 1));
      if (v.state() != ModelState.END) {
        live.add(v.id());
      }
    }
    states.register(rows, true);
    Set<ServableId> endedNow = new HashSet<>();
    for (Meter m : meters.find(PER_VERSION).meters()) {
      ServableId id = new ServableId(m.getId().getTag("model"), Long.parseLong(m.getId().getTag("version")));
      if (live.contains(id)) {
        continue;
      }
      if (ended.contains(id)) {
        meters.remove(m);
      } else {
        endedNow.add(id);
      }
    }
    ended = endedNow;
  }

  private static double availableModels(ModelManager<?> registry) {
    return registry.allVersions().stream()
        .filter(v -> v.state() == ModelState.AVAILABLE)
        .map(v -> v.id().name())
        .distinct()
        .count();
  }
}
