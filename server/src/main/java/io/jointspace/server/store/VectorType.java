package io.jointspace.server.store;

/** How vectors are stored: 32-bit {@code vector(d)} or 16-bit {@code halfvec(d)}. */
public enum VectorType {
  VECTOR("vector", 2000),
  HALFVEC("halfvec", 4000);

  private final String sqlName;
  private final int maxIndexedDimension;

  VectorType(String sqlName, int maxIndexedDimension) {
    this.sqlName = sqlName;
    this.maxIndexedDimension = maxIndexedDimension;
  }

  public String sqlName() {
    return sqlName;
  }

  /** pgvector's HNSW limit for this type. */
  public int maxIndexedDimension() {
    return maxIndexedDimension;
  }

  /** The column type, e.g. {@code vector(512)}. */
  String column(int dimension) {
    return sqlName + "(" + dimension + ")";
  }

  /** Bytes of one stored value. */
  int bytes(int dimension) {
    return 4 + dimension * (this == VECTOR ? 4 : 2);
  }

  static VectorType fromCatalog(String name) {
    for (VectorType t : values()) {
      if (t.sqlName.equals(name)) {
        return t;
      }
    }
    throw new IllegalStateException("unknown vector type in the catalog: " + name);
  }
}
