package io.jointspace.server.store;

import io.jointspace.server.errors.FailedPreconditionException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.annotation.Nullable;
import org.postgresql.util.PGInterval;

/**
 * Rollouts in the catalog: starting one (the target's table, view and worklist, in one
 * transaction), the state changes (each one transaction that holds the collection's row, so
 * no write interleaves with a switch), and reading them with their progress. The backfill's
 * own statements are in {@link Backfill}.
 */
public final class RolloutStore {
  private final Database db;

  public RolloutStore(Database db) {
    this.db = db;
  }

  /** What a collection holds, as a rollout sees it: what can be re-embedded, and from what. */
  public record Sources(long texts, long images, long none) {
    public long total() {
      return texts + images + none;
    }
  }

  /** Counts the collection's items by source kind. */
  public Sources sources(Collection collection) {
    return db.read(c -> sources(c, collection.table()));
  }

  private static Sources sources(Connection c, String table) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT"
        + " count(*) FILTER (WHERE source_text IS NOT NULL),"
        + " count(*) FILTER (WHERE source_text IS NULL AND source_image IS NOT NULL),"
        + " count(*) FILTER (WHERE source_text IS NULL AND source_image IS NULL)"
        + " FROM " + SqlNames.qualified(table))) {
      r.next();
      return new Sources(r.getLong(1), r.getLong(2), r.getLong(3));
    }
  }

  /**
   * Starts a rollout of {@code collection} to {@code target}: records it (PENDING), creates
   * the target's table (without its HNSW index, built after the backfill) and view, and the
   * worklist of every item with a source. From the commit on, writes go to both versions.
   *
   * @param check called inside the transaction with the counts the worklist is made from, to
   *     refuse (by throwing) what the caller's policy does not allow
   * @throws CollectionChangedException when the collection changed since it was read
   * @throws RolloutExistsException when the collection has an open rollout
   */
  public Rollout start(Collection collection, VersionTable target, Unembeddable unembeddable, double rateLimit,
      @Nullable Duration finalizeAfter, String by, java.util.function.Consumer<Sources> check) {
    return db.inTransaction(c -> {
      lockForChange(c, collection);
      Optional<Rollout> open = open(c, collection.name());
      if (open.isPresent()) {
        throw new RolloutExistsException("collection '" + collection.name() + "' has an open rollout (id "
            + open.get().id() + ", " + open.get().from().label() + " -> " + open.get().to().label() + ", "
            + open.get().state().catalogName() + "); finalize or abort it first");
      }
      Sources counts = sources(c, collection.table());
      check.accept(counts);
      VersionTable from = collection.active();
      try (PreparedStatement p = c.prepareStatement("SELECT model_name, state FROM jointspace.collection_tables"
          + " WHERE collection = ? AND model_version = ?")) {
        p.setString(1, collection.name());
        p.setLong(2, target.version());
        try (ResultSet r = p.executeQuery()) {
          if (r.next()) {
            throw new FailedPreconditionException("target: collection '" + collection.name() + "' still has a table"
                + " of version " + target.version() + " (model " + r.getString(1) + ", " + r.getString(2)
                + (r.getString(2).equals("retired") ? ": kept by an earlier rollout for items only it holds" : "")
                + "); a collection holds one table per version number");
          }
        }
      }
      if (CollectionCatalog.relationExists(c, SqlNames.qualified(target.table()))) {
        throw new StoreConflictException("table " + SqlNames.qualified(target.table()) + " exists already", null);
      }
      long id;
      try (PreparedStatement p = c.prepareStatement("""
          INSERT INTO jointspace.rollouts (collection, from_model, from_version, from_table, from_dimension,
              to_model, to_version, to_table, to_dimension, state, unembeddable, rate_limit, total,
              unembeddable_count, finalize_after, created_by)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?) RETURNING id""")) {
        p.setString(1, collection.name());
        p.setString(2, from.modelName());
        p.setLong(3, from.version());
        p.setString(4, from.table());
        p.setInt(5, from.dimension());
        p.setString(6, target.modelName());
        p.setLong(7, target.version());
        p.setString(8, target.table());
        p.setInt(9, target.dimension());
        p.setString(10, unembeddable.catalogName());
        p.setDouble(11, rateLimit);
        p.setLong(12, counts.texts() + counts.images());
        p.setLong(13, counts.none());
        p.setObject(14, finalizeAfter == null ? null : interval(finalizeAfter));
        p.setString(15, by);
        try (ResultSet r = p.executeQuery()) {
          r.next();
          id = r.getLong(1);
        }
      }
      CollectionCatalog.addTable(c, collection.name(), target, "shadow");
      CollectionCatalog.createTable(c, collection.spec(), target, false);
      if (!CollectionCatalog.relationExists(c,
          "public." + SqlNames.quote(SqlNames.versionView(collection.name(), from.version())))) {
        // a collection made before rollouts
        CollectionCatalog.createVersionView(c, collection.name(), from, collection.spec().vectorType());
      }
      CollectionCatalog.createVersionView(c, collection.name(), target, collection.spec().vectorType());
      try (PreparedStatement p = c.prepareStatement("INSERT INTO jointspace.rollout_work (rollout_id, item_id)"
          + " SELECT ?, id FROM " + SqlNames.qualified(from.table())
          + " WHERE source_text IS NOT NULL OR source_image IS NOT NULL")) {
        p.setLong(1, id);
        p.executeUpdate();
      }
      bumpEpoch(c, collection.name());
      return read(c, id).orElseThrow();
    });
  }

  /** The rollout {@code id} of the collection, or (0) its open one, else its newest. */
  public Rollout get(String collection, long id) {
    SqlNames.collection(collection, "collection");
    return db.read(c -> {
      CollectionCatalog.require(c, collection);
      Optional<Rollout> found;
      if (id != 0) {
        found = read(c, id).filter(r -> r.collection().equals(collection));
      } else {
        found = open(c, collection);
        if (found.isEmpty()) {
          found = list(c, collection, 1).stream().findFirst();
        }
      }
      return found.orElseThrow(() -> new RolloutNotFoundException(id == 0
          ? "collection '" + collection + "' has no rollout"
          : "collection '" + collection + "' has no rollout " + id));
    });
  }

  /** Rollouts of {@code collection} (null: every collection), newest first. */
  public List<Rollout> list(@Nullable String collection) {
    if (collection != null) {
      SqlNames.collection(collection, "collection");
    }
    return db.read(c -> {
      if (collection != null) {
        CollectionCatalog.require(c, collection);
      }
      return list(c, collection, 1000);
    });
  }

  /** Rollouts in the given states, oldest first, with their progress counted. */
  public List<Rollout> inStates(Set<RolloutState> states) {
    return inStates(states, true);
  }

  /**
   * Rollouts in the given states, oldest first.
   *
   * @param counted whether to count the worklist (remaining and failed are 0 when not)
   */
  public List<Rollout> inStates(Set<RolloutState> states, boolean counted) {
    String[] names = states.stream().map(RolloutState::catalogName).toArray(String[]::new);
    return db.read(c -> {
      List<Rollout> out = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement((counted ? SELECT : SELECT_UNCOUNTED)
          + " WHERE r.state = ANY (?) ORDER BY r.id")) {
        p.setArray(1, c.createArrayOf("text", names));
        try (ResultSet r = p.executeQuery()) {
          while (r.next()) {
            out.add(row(r));
          }
        }
      }
      return out;
    });
  }

  /** An item the backfill gave up on. */
  public record Failure(String id, String error, int attempts) {}

  /** Items given up after their retries, at most {@code max}, by id. */
  public List<Failure> failures(long rolloutId, int max) {
    return db.read(c -> {
      List<Failure> out = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement("SELECT item_id, coalesce(last_error, ''), attempts"
          + " FROM jointspace.rollout_work WHERE rollout_id = ? AND failed ORDER BY item_id LIMIT ?")) {
        p.setLong(1, rolloutId);
        p.setInt(2, max);
        try (ResultSet r = p.executeQuery()) {
          while (r.next()) {
            out.add(new Failure(r.getString(1), r.getString(2), r.getInt(3)));
          }
        }
      }
      return out;
    });
  }

  /** PENDING or BACKFILLING -> PAUSED. */
  public Rollout pause(String collection, long id) {
    return change(collection, id, Set.of(RolloutState.PENDING, RolloutState.BACKFILLING), "pause", false, (c, r) ->
        setState(c, r.id(), RolloutState.PAUSED, ""));
  }

  /** PAUSED -> BACKFILLING; FAILED -> BACKFILLING with its failed items to retry. */
  public Rollout resume(String collection, long id) {
    return change(collection, id, Set.of(RolloutState.PAUSED, RolloutState.FAILED), "resume", false, (c, r) -> {
      try (PreparedStatement p = c.prepareStatement("UPDATE jointspace.rollout_work SET failed = false, attempts = 0,"
          + " not_before = '-infinity', lease_until = '-infinity', leased_by = NULL WHERE rollout_id = ? AND failed")) {
        p.setLong(1, r.id());
        p.executeUpdate();
      }
      setState(c, r.id(), RolloutState.BACKFILLING, "");
    });
  }

  /** Changes the rate limit of an open rollout. */
  public Rollout setRate(String collection, long id, double rateLimit) {
    return change(collection, id, Set.of(RolloutState.values()), "change the rate of", false, (c, r) -> {
      try (PreparedStatement p = c.prepareStatement(
          "UPDATE jointspace.rollouts SET rate_limit = ?, rate_slot = now(), updated_at = now() WHERE id = ?")) {
        p.setDouble(1, rateLimit);
        p.setLong(2, r.id());
        p.executeUpdate();
      }
    });
  }

  /**
   * READY or ROLLED_BACK -> PROMOTED: the target becomes the collection's version and its view
   * points there, in one transaction.
   */
  public Rollout promote(String collection, long id) {
    return change(collection, id, Set.of(RolloutState.READY, RolloutState.ROLLED_BACK), "promote", true, (c, r) -> {
      if (!r.indexBuilt()) {
        throw new FailedPreconditionException("rollout " + r.id() + ": the target's index is not built yet");
      }
      switchTo(c, r, r.to(), r.from());
      try (PreparedStatement p = c.prepareStatement(
          "UPDATE jointspace.rollouts SET promoted_at = now() WHERE id = ?")) {
        p.setLong(1, r.id());
        p.executeUpdate();
      }
      setState(c, r.id(), RolloutState.PROMOTED, "");
    });
  }

  /** PROMOTED -> ROLLED_BACK: the old version is the collection's again, with every write since. */
  public Rollout rollback(String collection, long id) {
    return change(collection, id, Set.of(RolloutState.PROMOTED), "roll back", true, (c, r) -> {
      switchTo(c, r, r.from(), r.to());
      setState(c, r.id(), RolloutState.ROLLED_BACK, "");
    });
  }

  /**
   * PROMOTED -> FINALIZED: drops the old version's table and view, or keeps them retired when
   * the rollout keeps unembeddable items in the old version.
   */
  public Rollout finalize(String collection, long id) {
    return change(collection, id, Set.of(RolloutState.PROMOTED), "finalize", true, (c, r) -> {
      if (r.unembeddable() == Unembeddable.KEEP_IN_OLD) {
        setTableState(c, collection, r.from(), "retired");
      } else {
        dropTable(c, collection, r.from());
      }
      setState(c, r.id(), RolloutState.FINALIZED, "");
    });
  }

  /** Any open state but PROMOTED -> ABORTED: drops the target's table and view. */
  public Rollout abort(String collection, long id) {
    return change(collection, id, Set.of(RolloutState.PENDING, RolloutState.BACKFILLING, RolloutState.PAUSED,
        RolloutState.READY, RolloutState.ROLLED_BACK, RolloutState.FAILED), "abort", true, (c, r) -> {
          // the work first (the backfill holds work rows, then the target table), then the
          // index build, then the table
          try (PreparedStatement p = c.prepareStatement("DELETE FROM jointspace.rollout_work WHERE rollout_id = ?")) {
            p.setLong(1, r.id());
            p.executeUpdate();
          }
          Backfill.stopIndexBuild(c, r.id());
          dropTable(c, collection, r.to());
          setState(c, r.id(), RolloutState.ABORTED, "");
        });
  }

  /** Rollouts PROMOTED longer ago than their finalize_after, oldest first. */
  public List<Rollout> dueForFinalize() {
    List<Rollout> out = new ArrayList<>();
    for (Rollout r : inStates(Set.of(RolloutState.PROMOTED), false)) {
      if (r.finalizeAfter() != null && r.promotedAt() != null
          && r.promotedAt().plus(r.finalizeAfter()).isBefore(r.readAt())) {
        out.add(r);
      }
    }
    return out;
  }

  /**
   * Whether the collection's newest rollout went to {@code model@version} and was aborted:
   * a label that still points there is not followed again by itself.
   */
  public boolean abortedLast(String collection, String model, long version) {
    return db.read(c -> {
      try (PreparedStatement p = c.prepareStatement("SELECT to_model = ? AND to_version = ? AND state = 'aborted'"
          + " FROM jointspace.rollouts WHERE collection = ? ORDER BY id DESC LIMIT 1")) {
        p.setString(1, model);
        p.setLong(2, version);
        p.setString(3, collection);
        try (ResultSet r = p.executeQuery()) {
          return r.next() && r.getBoolean(1);
        }
      }
    });
  }

  /** Sets the rollout's note (its {@code error} field) without changing its state. */
  public void note(long id, String text) {
    db.inTransaction(c -> {
      try (PreparedStatement p = c.prepareStatement(
          "UPDATE jointspace.rollouts SET error = ?, updated_at = now() WHERE id = ?")) {
        p.setString(1, text);
        p.setLong(2, id);
        p.executeUpdate();
      }
      return null;
    });
  }

  /** Keeps an evaluation (JSON) on the rollout. */
  public void saveEvaluation(long id, String json) {
    db.inTransaction(c -> {
      try (PreparedStatement p = c.prepareStatement(
          "UPDATE jointspace.rollouts SET evaluation = ?::jsonb, updated_at = now() WHERE id = ?")) {
        p.setString(1, json);
        p.setLong(2, id);
        p.executeUpdate();
      }
      return null;
    });
  }

  @FunctionalInterface
  private interface Step {
    void apply(Connection c, Rollout r) throws SQLException;
  }

  /**
   * One state change: locks the collection's row (so no write runs across it), checks the
   * rollout's state, applies {@code step}, bumps the epoch, and reads the rollout back.
   */
  private Rollout change(String collection, long id, Set<RolloutState> allowed, String verb, boolean tablesChange,
      Step step) {
    SqlNames.collection(collection, "collection");
    return db.inTransaction(c -> {
      CollectionCatalog.lockRow(c, collection);
      Rollout r = open(c, collection).orElseThrow(() -> new RolloutNotFoundException("collection '" + collection
          + "' has no open rollout to " + verb));
      if (id != 0 && r.id() != id) {
        throw new FailedPreconditionException("rollout_id " + id + " is not the open rollout of collection '"
            + collection + "', which is " + r.id());
      }
      if (!allowed.contains(r.state())) {
        throw new FailedPreconditionException("cannot " + verb + " rollout " + r.id() + " of collection '" + collection
            + "' while it is " + r.state() + hint(r.state(), verb));
      }
      if (tablesChange) {
        try (Statement s = c.createStatement()) {
          s.execute("SET LOCAL lock_timeout = '10s'"); // a table busy that long: UNAVAILABLE, retry
        }
      }
      step.apply(c, r);
      if (tablesChange) {
        bumpEpoch(c, collection); // writes prepared for the old set of tables are prepared again
      }
      return read(c, r.id()).orElseThrow();
    });
  }

  private static String hint(RolloutState state, String verb) {
    return switch (state) {
      case PENDING, BACKFILLING -> "; wait for READY (WatchRollout)";
      case PROMOTED -> verb.equals("abort") ? "; roll back first" : "";
      case PAUSED -> "; resume it first";
      case FAILED -> "; resume it to retry the failed items, or abort";
      default -> "";
    };
  }

  /** Makes {@code to} the collection's active table and {@code from} the one kept for switching back. */
  private static void switchTo(Connection c, Rollout r, VersionTable to, VersionTable from) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("UPDATE jointspace.collections SET model_name = ?,"
        + " model_version = ?, dimension = ?, active_table = ? WHERE name = ?")) {
      p.setString(1, to.modelName());
      p.setLong(2, to.version());
      p.setInt(3, to.dimension());
      p.setString(4, to.table());
      p.setString(5, r.collection());
      p.executeUpdate();
    }
    setTableState(c, r.collection(), to, "active");
    setTableState(c, r.collection(), from, r.state() == RolloutState.PROMOTED ? "shadow" : "previous");
    VectorType type;
    try (PreparedStatement p = c.prepareStatement("SELECT vector_type FROM jointspace.collections WHERE name = ?")) {
      p.setString(1, r.collection());
      try (ResultSet rs = p.executeQuery()) {
        rs.next();
        type = VectorType.fromCatalog(rs.getString(1));
      }
    }
    CollectionCatalog.createView(c, r.collection(), to, type);
  }

  private static void setTableState(Connection c, String collection, VersionTable t, String state)
      throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "UPDATE jointspace.collection_tables SET state = ? WHERE collection = ? AND table_name = ?")) {
      p.setString(1, state);
      p.setString(2, collection);
      p.setString(3, t.table());
      p.executeUpdate();
    }
  }

  private static void dropTable(Connection c, String collection, VersionTable t) throws SQLException {
    IndexBuilds.stop(c, t.table());
    try (Statement s = c.createStatement()) {
      s.execute("DROP VIEW IF EXISTS public." + SqlNames.quote(SqlNames.versionView(collection, t.version())));
      s.execute("DROP TABLE IF EXISTS " + SqlNames.qualified(t.table()));
    }
    try (PreparedStatement p = c.prepareStatement(
        "DELETE FROM jointspace.collection_tables WHERE collection = ? AND table_name = ?")) {
      p.setString(1, collection);
      p.setString(2, t.table());
      p.executeUpdate();
    }
  }

  static void setState(Connection c, long id, RolloutState state, String error) throws SQLException {
    boolean finished = !state.open();
    try (PreparedStatement p = c.prepareStatement("UPDATE jointspace.rollouts SET state = ?, error = ?,"
        + " updated_at = now()" + (finished ? ", finished_at = now()" : "")
        + (state == RolloutState.READY ? ", ready_at = now()" : "")
        + (state == RolloutState.BACKFILLING ? ", backfill_started_at = coalesce(backfill_started_at, now())" : "")
        + " WHERE id = ?")) {
      p.setString(1, state.catalogName());
      p.setString(2, error);
      p.setLong(3, id);
      p.executeUpdate();
    }
  }

  /**
   * Locks the collection's row for a change of its tables, and checks it is the one the
   * caller read.
   */
  private static void lockForChange(Connection c, Collection collection) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "SELECT epoch FROM jointspace.collections WHERE name = ? FOR UPDATE")) {
      p.setString(1, collection.name());
      try (ResultSet r = p.executeQuery()) {
        if (!r.next()) {
          throw new CollectionNotFoundException("collection '" + collection.name() + "' does not exist");
        }
        if (r.getLong(1) != collection.epoch()) {
          throw new CollectionChangedException("collection '" + collection.name() + "' changed meanwhile");
        }
      }
    }
  }

  private static void bumpEpoch(Connection c, String collection) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "UPDATE jointspace.collections SET epoch = epoch + 1 WHERE name = ?")) {
      p.setString(1, collection);
      p.executeUpdate();
    }
  }

  private static final String SELECT = """
      SELECT r.id, r.collection, r.from_model, r.from_version, r.from_table, r.from_dimension, r.to_model,
             r.to_version, r.to_table, r.to_dimension, r.state, r.unembeddable, r.rate_limit, r.total, r.backfilled,
             r.unembeddable_count, r.index_built, r.evaluation::text, r.error,
             extract(epoch FROM r.finalize_after), r.created_at, r.backfill_started_at, r.ready_at, r.promoted_at,
             r.finished_at, now(),
             (SELECT count(*) FROM jointspace.rollout_work w WHERE w.rollout_id = r.id AND NOT w.failed),
             (SELECT count(*) FROM jointspace.rollout_work w WHERE w.rollout_id = r.id AND w.failed), r.created_by
      FROM jointspace.rollouts r""";

  private static final String SELECT_UNCOUNTED = SELECT.replace(
      "(SELECT count(*) FROM jointspace.rollout_work w WHERE w.rollout_id = r.id AND NOT w.failed)", "0::bigint")
      .replace("(SELECT count(*) FROM jointspace.rollout_work w WHERE w.rollout_id = r.id AND w.failed)", "0::bigint");

  static Optional<Rollout> read(Connection c, long id) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(SELECT + " WHERE r.id = ?")) {
      p.setLong(1, id);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? Optional.of(row(r)) : Optional.empty();
      }
    }
  }

  static Optional<Rollout> open(Connection c, String collection) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        SELECT + " WHERE r.collection = ? AND r.state NOT IN ('finalized', 'aborted')")) {
      p.setString(1, collection);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? Optional.of(row(r)) : Optional.empty();
      }
    }
  }

  private static List<Rollout> list(Connection c, @Nullable String collection, int max) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(SELECT + (collection == null ? "" : " WHERE r.collection = ?")
        + " ORDER BY r.id DESC LIMIT " + max)) {
      if (collection != null) {
        p.setString(1, collection);
      }
      List<Rollout> out = new ArrayList<>();
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          out.add(row(r));
        }
      }
      return out;
    }
  }

  private static Rollout row(ResultSet r) throws SQLException {
    VersionTable from = new VersionTable(r.getString(3), r.getLong(4), r.getString(5), r.getInt(6));
    VersionTable to = new VersionTable(r.getString(7), r.getLong(8), r.getString(9), r.getInt(10));
    double finalizeSeconds = r.getDouble(20);
    Duration finalizeAfter = r.wasNull() ? null : Duration.ofMillis((long) (finalizeSeconds * 1000));
    return new Rollout(r.getLong(1), r.getString(2), from, to, RolloutState.fromCatalog(r.getString(11)),
        Unembeddable.fromCatalog(r.getString(12)), r.getDouble(13), r.getLong(14), r.getLong(15), r.getLong(27),
        r.getLong(28), r.getLong(16), r.getBoolean(17), r.getString(18), r.getString(19), finalizeAfter,
        instant(r.getTimestamp(21)), instant(r.getTimestamp(22)), instant(r.getTimestamp(23)),
        instant(r.getTimestamp(24)), instant(r.getTimestamp(25)), instant(r.getTimestamp(26)), r.getString(29));
  }

  @Nullable
  private static Instant instant(@Nullable Timestamp t) {
    return t == null ? null : t.toInstant();
  }

  static PGInterval interval(Duration d) {
    return new PGInterval(0, 0, 0, 0, 0, d.toMillis() / 1000.0);
  }
}
