package io.jointspace.registry;

/**
 * Loads and unloads one kind of servable. The registry calls both methods on its load
 * threads, never while holding its lock, and never twice for the same version at once.
 *
 * @param <T> what a loaded version is (for the server: a SavedModel)
 */
public interface ServableLoader<T> {

  /**
   * Loads and warms up one version. Any exception puts the version in ERROR with the
   * exception's message as the reason.
   */
  T load(AspiredVersion version) throws Exception;

  /** Frees a version. Called once, after its last {@link ModelHandle} has closed. */
  void unload(T servable);
}
