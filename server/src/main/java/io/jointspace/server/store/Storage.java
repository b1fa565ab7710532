package io.jointspace.server.store;

import java.util.List;
import java.util.function.Function;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The collection store of a running server, or its absence: a server started without a
 * database answers every collection call with {@link StoreUnavailableException}.
 */
public final class Storage implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Storage.class);
  @Nullable private final Database db;
  @Nullable private final CollectionCatalog catalog;
  @Nullable private final ItemStore items;
  @Nullable private final LabelStore labels;
  @Nullable private final ArchiveStore archives;
  @Nullable private final RolloutStore rollouts;
  @Nullable private final Backfill backfill;
  @Nullable private final KeyStore keys;
  @Nullable private final IndexBuilds indexBuilds;
  @Nullable private final ReadReplicas reads;

  public Storage(@Nullable Database db) {
    this(db, IndexBuildOptions.DEFAULT);
  }

  public Storage(@Nullable Database db, IndexBuildOptions indexBuildOptions) {
    this(db, indexBuildOptions, List.of(), ReadReplicaOptions.DEFAULT, ReadListener.NONE);
  }

  /**
   * @param readReplicas pools to streaming replicas of {@code db} ({@link Database#replica}),
   *     owned from now on; empty: every read goes to {@code db}
   * @param readListener told where each routed read was served, and which plan each search took
   */
  public Storage(@Nullable Database db, IndexBuildOptions indexBuildOptions, List<Database> readReplicas,
      ReadReplicaOptions replicaOptions, ReadListener readListener) {
    if (db == null && !readReplicas.isEmpty()) {
      throw new IllegalArgumentException("read replicas need the primary's database URL");
    }
    this.db = db;
    this.catalog = db == null ? null : new CollectionCatalog(db);
    KeyIndexes keyIndexes = new KeyIndexes();
    this.items = db == null ? null : new ItemStore(db, keyIndexes, readListener);
    this.labels = db == null ? null : new LabelStore(db);
    this.archives = db == null ? null : new ArchiveStore(db);
    this.rollouts = db == null ? null : new RolloutStore(db);
    this.backfill = db == null ? null : new Backfill(db, indexBuildOptions.memoryMb());
    this.indexBuilds = db == null ? null : new IndexBuilds(db, indexBuildOptions, keyIndexes);
    this.keys = db == null ? null : new KeyStore(db);
    this.reads = db == null ? null : new ReadReplicas(db, new Reader(catalog, items), readReplicas, replicaOptions,
        readListener);
  }

  /**
   * Runs a read (Search, Get, GetCollection, ListCollections) on a streaming replica that has
   * replayed {@code token}, or on the primary: see {@link ReadReplicas}. The read must use only
   * the {@link Reader} it is given, and write nothing.
   */
  public <T> T read(ConsistencyToken token, Function<Reader, T> read) {
    require();
    return reads.read(token, read);
  }

  /**
   * The consistency token to answer a write with, read from the primary after the write
   * committed (see {@link ConsistencyToken#current}). Without read replicas every read is on
   * the primary and sees the write: the empty token, and no query. The write has committed
   * whatever happens here, so a failure to read the token answers the empty token (a replica
   * read may then miss the write) rather than failing a write that is stored.
   */
  public ConsistencyToken writeToken() {
    require();
    if (!reads.configured()) {
      return ConsistencyToken.NONE;
    }
    try {
      return reads.current();
    } catch (RuntimeException e) {
      log.warn("A write committed but its consistency token could not be read; answering without one: {}",
          e.getMessage());
      return ConsistencyToken.NONE;
    }
  }

  /** Checks the read replicas once and keeps checking them (before the server serves). */
  public void startReadReplicas() {
    if (reads != null) {
      reads.start();
    }
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
      reads.close();
      db.close();
    }
  }
}
