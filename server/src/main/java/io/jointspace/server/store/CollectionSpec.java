package io.jointspace.server.store;

/**
 * What a collection is: its name, the model version that embeds it, and how its vectors
 * are stored and indexed.
 *
 * @param m HNSW connections per node
 * @param efConstruction HNSW candidate list size while building
 * @param keepSources whether item sources (text, image bytes) are stored
 * @param indexedKeys metadata key paths ("a.b") whose frequent values get partial HNSW indexes
 *     ({@link KeyIndexes})
 */
public record CollectionSpec(
    String name,
    String modelName,
    long modelVersion,
    int dimension,
    Metric metric,
    VectorType vectorType,
    int m,
    int efConstruction,
    boolean keepSources,
    String description,
    java.util.List<String> indexedKeys) {

  public static final int DEFAULT_M = 16;
  public static final int DEFAULT_EF_CONSTRUCTION = 64;

  public CollectionSpec {
    indexedKeys = java.util.List.copyOf(indexedKeys);
  }

  /** A spec without indexed keys. */
  public CollectionSpec(String name, String modelName, long modelVersion, int dimension, Metric metric,
      VectorType vectorType, int m, int efConstruction, boolean keepSources, String description) {
    this(name, modelName, modelVersion, dimension, metric, vectorType, m, efConstruction, keepSources, description,
        java.util.List.of());
  }
}
