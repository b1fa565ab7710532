package io.jointspace.registry;

import java.util.List;

/**
 * Tells the registry which versions of each model should be served. Each call carries
 * the complete set for one model: a version left out is to be unloaded, an empty list
 * unloads the whole model.
 */
public interface VersionSource extends AutoCloseable {

  /** Receives the aspired versions of one model. */
  interface Target {
    void setAspiredVersions(String model, List<AspiredVersion> versions);
  }

  /** Starts reporting to {@code target}: once at once, then whenever the set changes. */
  void start(Target target);

  @Override
  void close();
}
