package io.jointspace.server.store;

/** One model version's item table of a collection. */
public record VersionTable(String modelName, long version, String table, int dimension) {

  /** {@code model@version}, as messages show it. */
  public String label() {
    return modelName + "@" + version;
  }
}
