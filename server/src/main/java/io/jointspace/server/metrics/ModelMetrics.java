package io.jointspace.server.metrics;

import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelState;
import io.jointspace.registry.VersionStatus;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;

/**
 * Model version states: {@code jointspace_model_version_state{model,version,state}} is 1 for
 * each tracked version's current state, and {@code jointspace_models_available} counts the
 * models with at least one AVAILABLE version. Refreshed from the registry on every scrape.
 */
public final class ModelMetrics {
  private final ModelManager<?> registry;
  private final MultiGauge states;

  public ModelMetrics(MeterRegistry meters, ModelManager<?> registry) {
    this.registry = registry;
    this.states = MultiGauge.builder("jointspace.model.version.state")
        .description("1 for the current state of each model version")
        .register(meters);
    Gauge.builder("jointspace.models.available", registry, ModelMetrics::availableModels)
        .description("Models with at least one AVAILABLE version")
        .register(meters);
  }

  /** Re-reads every version's state; called before each scrape. */
  public void refresh() {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    for (VersionStatus v : registry.allVersions()) {
      rows.add(MultiGauge.Row.of(Tags.of("model", v.id().name(), "version", Long.toString(v.id().version()),
          "state", v.state().name()), 1));
    }
    states.register(rows, true);
  }

  private static double availableModels(ModelManager<?> registry) {
    return registry.allVersions().stream()
        .filter(v -> v.state() == ModelState.AVAILABLE)
        .map(v -> v.id().name())
        .distinct()
        .count();
  }
}
