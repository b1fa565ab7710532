package io.jointspace.server.store;

/**
 * What a rollout does with items it cannot re-embed: stored without a source, or written as a
 * precomputed vector.
 */
public enum Unembeddable {
  /** Refuse the rollout while there are any, and refuse precomputed vectors while it runs. */
  FAIL("fail"),
  /** Leave them out of the new version; they go with the old table when it is finalized. */
  DROP("drop"),
  /** Leave them out of the new version, and keep the old table (retired, still readable) at finalize. */
  KEEP_IN_OLD("keep_in_old");

  private final String catalogName;

  Unembeddable(String catalogName) {
    this.catalogName = catalogName;
  }

  public String catalogName() {
    return catalogName;
  }

  static Unembeddable fromCatalog(String name) {
    for (Unembeddable u : values()) {
      if (u.catalogName.equals(name)) {
        return u;
      }
    }
    throw new IllegalStateException("unknown unembeddable policy in the catalog: " + name);
  }
}
