package io.jointspace.registry;

/**
 * Decides when a version that left the aspired set may be unloaded. Stateless: it sees the
 * state of the model's aspired versions at each decision.
 */
@FunctionalInterface
public interface RolloutPolicy {

  /**
   * @param aspiredAvailable some aspired version of the model is AVAILABLE
   * @param anyAspired the model has aspired versions at all
   */
  boolean mayUnload(boolean aspiredAvailable, boolean anyAspired);

  /**
   * The default: keep serving an old version until a new one is AVAILABLE. If every new
   * version fails to load, the old one goes on serving; it leaves only when the model has
   * no aspired version at all. Needs memory for two versions during a rollout.
   */
  static RolloutPolicy availabilityPreserving() {
    return (available, anyAspired) -> available || !anyAspired;
  }
}
