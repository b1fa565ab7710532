package io.jointspace.server.store;

import javax.annotation.Nullable;

/**
 * The collection store of a running server, or its absence: a server started without a
 * database answers every collection call with {@link StoreUnavailableException}.
 */
public final class Storage implements AutoCloseable {
  @Nullable private final Database db;
  @Nullable private final CollectionCatalog catalog;
  @Nullable private final ItemStore items;
  @Nullable private final LabelStore labels;
  @Nullable private final ArchiveStore archives;
  @Nullable private final RolloutStore rollouts;
  @Nullable private final Backfill backfill;
  @Nullable private final KeyStore keys;
  @Nullable private final IndexBuilds indexBuilds;

  public Storage(@Nullable Database db) {
    this(db, IndexBuildOptions.DEFAULT);
  }

  public Storage(@Nullable Database db, IndexBuildOptions indexBuildOptions) {
    this.db = db;
    this.catalog = db == null ? null : new CollectionCatalog(db);
    this.items = db == null ? null : new ItemStore(db);
    this.labels = db == null ? null : new LabelStore(db);
    this.archives = db == null ? null : new ArchiveStore(db);
    this.rollouts = db == null ? null : new RolloutStore(db);
    this.backfill = db == null ? null : new Backfill(db, indexBuildOptions.memoryMb());
    this.indexBuilds = db == null ? null : new IndexBuilds(db, indexBuildOptions);
    this.keys = db == null ? null : new KeyStore(db);
  }

  public RolloutStore rollouts() {
    require();
    return rollouts;
  }

  public Backfill backfill() {
    require();
    return backfill;
  }

  /** Where API keys are kept; null for a server without a database. */
  @Nullable
  public KeyStore keysOrNull() {
    return keys;
  }

  /** Where uploaded model versions are shared; null for a server without a database. */
  @Nullable
  public ArchiveStore archivesOrNull() {
    return archives;
  }

  /** Where model label changes are kept; null for a server without a database. */
  @Nullable
  public LabelStore labelsOrNull() {
    return labels;
  }

  /** Bulk loads and HNSW index builds. */
  public IndexBuilds indexBuilds() {
    require();
    return indexBuilds;
  }

  public CollectionCatalog catalog() {
    require();
    return catalog;
  }

  public ItemStore items() {
    require();
    return items;
  }

  /**
   * Migrates the catalog now (also done by the first call that needs it).
   *
   * @throws StoreUnavailableException when the database cannot be reached
   */
  public void check() {
    require();
    db.ensureMigrated();
  }

  public boolean configured() {
    return db != null;
  }

  private void require() {
    if (db == null) {
      throw new StoreUnavailableException("this server runs without a database; start it with --database-url"
          + " (or let ./jointspace serve run its private one)", null);
    }
  }

  @Override
  public void close() {
    if (db != null) {
      indexBuilds.close();
      db.close();
    }
  }
}
