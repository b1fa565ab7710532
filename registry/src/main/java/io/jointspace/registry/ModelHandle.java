package io.jointspace.registry;

/**
 * A reference-counted lease on one AVAILABLE version. While any handle is open the version
 * is not unloaded: a version leaving the repository turns UNLOADING, refuses new leases, and
 * is unloaded when its last handle closes. Hold a handle for one call, in
 * try-with-resources; {@link #close()} is idempotent and may run on any thread.
 *
 * @param <T> the loaded servable
 */
public interface ModelHandle<T> extends AutoCloseable {

  /** The model name and the version this handle leases. */
  ServableId id();

  /** The loaded servable; valid until {@link #close()}. */
  T get();

  @Override
  void close();
}
