package io.jointspace.server.api;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.VersionStatus;
import io.jointspace.server.runtime.ModelVersion;

/**
 * Keeps {@code grpc.health.v1.Health} current: the overall service ("") is SERVING while
 * the server is ready; each model name is a service, SERVING while it has an AVAILABLE
 * version.
 */
@Singleton
public final class ModelHealth {
  private final HealthStatusManager health = new HealthStatusManager();
  private final ModelManager<ModelVersion> registry;
  private final ServerState state;

  @Inject
  public ModelHealth(ModelManager<ModelVersion> registry, ServerState state) {
    this.registry = registry;
    this.state = state;
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.NOT_SERVING);
    registry.addListener(this::onVersionChange);
  }

  public HealthStatusManager manager() {
    return health;
  }

  private void onVersionChange(VersionStatus change) {
    String model = change.id().name();
    health.setStatus(model, registry.isAvailable(model) ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  }

  /** Marks the server ready (or not) in both readiness and health. */
  public void setReady(boolean ready) {
    state.setReady(ready);
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES,
        ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  }

  /** On shutdown: every service answers NOT_SERVING from now on. */
  public void enterTerminalState() {
    state.setReady(false);
    health.enterTerminalState();
  }
}
