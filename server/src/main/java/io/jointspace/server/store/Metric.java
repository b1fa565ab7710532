package io.jointspace.server.store;

/** How closeness is measured: the pgvector operator, its HNSW operator class, and the score (higher is closer). */
public enum Metric {
  /** score = 1 - cosine distance. */
  COSINE("cosine", "<=>", "cosine_ops"),
  /** score = inner product ({@code <#>} is its negative). */
  INNER_PRODUCT("inner_product", "<#>", "ip_ops"),
  /** score = -(L2 distance). */
  L2("l2", "<->", "l2_ops");

  private final String catalogName;
  private final String operator;
  private final String opsSuffix;

  Metric(String catalogName, String operator, String opsSuffix) {
    this.catalogName = catalogName;
    this.operator = operator;
    this.opsSuffix = opsSuffix;
  }

  String catalogName() {
    return catalogName;
  }

  String operator() {
    return operator;
  }

  String operatorClass(VectorType type) {
    return type.sqlName() + "_" + opsSuffix;
  }

  static Metric fromCatalog(String name) {
    for (Metric m : values()) {
      if (m.catalogName.equals(name)) {
        return m;
      }
    }
    throw new IllegalStateException("unknown metric in the catalog: " + name);
  }
}
