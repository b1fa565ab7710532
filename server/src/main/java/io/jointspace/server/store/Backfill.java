package io.jointspace.server.store;

import com.pgvector.PGvector;
import org.postgresql.PGStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.annotation.Nullable;

/**
 * The backfill's statements, shared by every server process on the database.
 *
 * <p>Work is a row per item in {@code rollout_work}. A server claims rows with a lease
 * ({@code FOR UPDATE SKIP LOCKED}), reads their sources, embeds them outside any transaction,
 * and then, in one transaction, deletes the rows it still holds and writes exactly those
 * items into the target table. A server that dies leaves leases that expire; a server whose
 * lease was taken over writes nothing. A client's write of an item deletes its row first (see
 * {@link ItemStore}), so the backfill never replaces or brings back what a client wrote.
 */
public final class Backfill {
  private final Database db;
  private final int indexMemoryMb;

  /** @param indexMemoryMb maintenance_work_mem of the target's index build ({@link IndexBuildOptions}) */
  public Backfill(Database db, int indexMemoryMb) {
    this.db = db;
    this.indexMemoryMb = indexMemoryMb;
  }

  /** An item claimed for re-embedding, as its old version stores it. */
  public record Claimed(String id, @Nullable String sourceText, @Nullable byte[] sourceImage) {}

  /** PENDING -> BACKFILLING; false when another server did it or the state moved on. */
  public boolean begin(long rolloutId) {
    return db.inTransaction(c -> {
      try (PreparedStatement p = c.prepareStatement(
          "SELECT 1 FROM jointspace.rollouts WHERE id = ? AND state = 'pending' FOR UPDATE")) {
        p.setLong(1, rolloutId);
        try (ResultSet r = p.executeQuery()) {
          if (!r.next()) {
            return false;
          }
        }
      }
      RolloutStore.setState(c, rolloutId, RolloutState.BACKFILLING, "");
      return true;
    });
  }

  /**
   * Takes {@code items} from the rollout's rate limit (shared by all servers: a virtual clock
   * in the rollout's row that each claim advances by {@code items / rate}).
   *
   * @return how long to wait before embedding them; zero without a limit
   */
  public Duration reserve(long rolloutId, int items) {
    return db.read(c -> {
      try (PreparedStatement p = c.prepareStatement("""
          UPDATE jointspace.rollouts SET rate_slot = greatest(rate_slot, now() - interval '1 second')
              + make_interval(secs => ? / rate_limit)
          WHERE id = ? AND rate_limit > 0
          RETURNING extract(epoch FROM rate_slot - make_interval(secs => ? / rate_limit) - now())""")) {
        p.setDouble(1, items);
        p.setLong(2, rolloutId);
        p.setDouble(3, items);
        try (ResultSet r = p.executeQuery()) {
          if (!r.next()) {
            return Duration.ZERO;
          }
          return Duration.ofMillis(Math.max(0, (long) (r.getDouble(1) * 1000)));
        }
      }
    });
  }

  /**
   * Claims up to {@code max} items whose lease is free and whose retry time has come, for
   * {@code lease}, and reads their sources from the old version.
   */
  public List<Claimed> claim(Rollout rollout, String worker, int max, Duration lease) {
    return db.inTransaction(c -> {
      List<String> ids = new ArrayList<>();
      // MATERIALIZED: the pick runs once; joined as a subquery, a plan misled by statistics
      // of another rollout's rows re-ran it per row (and leased every item at once)
      try (PreparedStatement p = c.prepareStatement("""
          WITH pick AS MATERIALIZED (
            SELECT item_id FROM jointspace.rollout_work
            WHERE rollout_id = ? AND NOT failed AND not_before <= now() AND lease_until < now()
              AND EXISTS (SELECT 1 FROM jointspace.rollouts WHERE id = ? AND state = 'backfilling')
            ORDER BY item_id LIMIT ? FOR UPDATE SKIP LOCKED)
          UPDATE jointspace.rollout_work w SET leased_by = ?, lease_until = now() + make_interval(secs => ?)
          FROM pick WHERE w.rollout_id = ? AND w.item_id = pick.item_id
          RETURNING w.item_id""")) {
        p.setLong(1, rollout.id());
        p.setLong(2, rollout.id());
        p.setInt(3, max);
        p.setString(4, worker);
        p.setDouble(5, lease.toMillis() / 1000.0);
        p.setLong(6, rollout.id());
        try (ResultSet r = p.executeQuery()) {
          while (r.next()) {
            ids.add(r.getString(1));
          }
        }
      }
      List<Claimed> out = new ArrayList<>();
      if (ids.isEmpty()) {
        return out;
      }
      // only what the encoder needs: complete() copies the rest from the same row in the database
      try (PreparedStatement p = c.prepareStatement("SELECT id, source_text, source_image FROM "
          + SqlNames.qualified(rollout.from().table()) + " WHERE id = ANY (?) ORDER BY id")) {
        // binary results from the first execution on: bytea as raw bytes, not hex text to decode
        p.unwrap(PGStatement.class).setPrepareThreshold(-1);
        p.setArray(1, c.createArrayOf("text", ids.toArray()));
        try (ResultSet r = p.executeQuery()) {
          while (r.next()) {
            out.add(new Claimed(r.getString(1), r.getString(2), r.getBytes(3)));
          }
        }
      }
      if (out.size() < ids.size()) {
        // gone from the old version (a row without its work deleted): nothing to re-embed
        Set<String> found = new HashSet<>();
        out.forEach(i -> found.add(i.id()));
        List<String> gone = ids.stream().filter(id -> !found.contains(id)).toList();
        deleteHeld(c, rollout.id(), worker, gone);
      }
      return out;
    });
  }

  /**
   * Writes re-embedded items into the target table: exactly those whose work this worker
   * still holds, each once, in one transaction with removing their work.
   *
   * @param target the collection as seen through the rollout's target version
   * @return how many were written
   */
  public int complete(Rollout rollout, Collection target, String worker, List<Claimed> items,
      List<float[]> vectors) {
    if (items.isEmpty()) {
      return 0;
    }
    for (int i = 0; i < vectors.size(); i++) {
      ItemStore.checkVector(vectors.get(i), target, "the backfill's vector of item '" + items.get(i).id() + "'");
    }
    String[] ids = new String[items.size()];
    String[] embeddings = new String[items.size()];
    for (int i = 0; i < items.size(); i++) {
      ids[i] = items.get(i).id();
      embeddings[i] = new PGvector(vectors.get(i)).getValue();
    }
    // The work this worker still holds is deleted first (the lock order of an abort: work
    // rows, then the target table), then exactly those items are copied from the old
    // version's row (metadata, sources, timestamps) with their new vector. An item a client
    // wrote or deleted meanwhile has no work left (the write dropped it, or waited on these
    // row locks and then found none), so its row is left to the client.
    return db.inTransaction(c -> {
      Set<String> held = deleteHeld(c, rollout.id(), worker, Arrays.asList(ids));
      if (held.isEmpty()) {
        return 0;
      }
      try (PreparedStatement p = c.prepareStatement("WITH written AS (INSERT INTO " + SqlNames.qualified(target.table())
          + " (id, embedding, metadata, source_text, source_image, created_at, updated_at)"
          + " SELECT s.id, v.embedding::vector" + ItemStore.castFor(target.spec())
          + ", s.metadata, s.source_text, s.source_image, s.created_at, s.updated_at"
          + " FROM unnest(?::text[], ?::text[]) AS v (id, embedding)"
          + " JOIN " + SqlNames.qualified(rollout.from().table()) + " s ON s.id = v.id"
          + " WHERE v.id = ANY (?) ON CONFLICT (id) DO NOTHING RETURNING 1)"
          + " UPDATE jointspace.rollouts SET backfilled = backfilled + (SELECT count(*) FROM written),"
          + " updated_at = now() WHERE id = ? RETURNING (SELECT count(*) FROM written)")) {
        p.setArray(1, c.createArrayOf("text", ids));
        p.setArray(2, c.createArrayOf("text", embeddings));
        p.setArray(3, c.createArrayOf("text", held.toArray()));
        p.setLong(4, rollout.id());
        try (ResultSet r = p.executeQuery()) {
          return r.next() ? r.getInt(1) : 0;
        }
      }
    });
  }

  /**
   * Items that failed to embed: retried after {@code backoff * 2^attempts}, given up (listed
   * with their error) after {@code maxAttempts}.
   */
  public void failed(Rollout rollout, String worker, Map<String, String> errors, Duration backoff,
      int maxAttempts) {
    db.inTransaction(c -> {
      try (PreparedStatement p = c.prepareStatement("""
          UPDATE jointspace.rollout_work SET attempts = attempts + 1, last_error = ?,
              failed = attempts + 1 >= ?,
              not_before = now() + make_interval(secs => ? * power(2, attempts)),
              lease_until = '-infinity', leased_by = NULL
          WHERE rollout_id = ? AND item_id = ? AND leased_by = ?""")) {
        for (Map.Entry<String, String> e : errors.entrySet()) {
          p.setString(1, e.getValue());
          p.setInt(2, maxAttempts);
          p.setDouble(3, backoff.toMillis() / 1000.0);
          p.setLong(4, rollout.id());
          p.setString(5, e.getKey());
          p.setString(6, worker);
          p.addBatch();
        }
        p.executeBatch();
      }
      return null;
    });
  }

  /** Gives claimed items back, to be claimed again after {@code delay} (the server was busy). */
  public void release(Rollout rollout, String worker, List<String> ids, Duration delay) {
    db.inTransaction(c -> {
      try (PreparedStatement p = c.prepareStatement("UPDATE jointspace.rollout_work SET lease_until = '-infinity',"
          + " leased_by = NULL, not_before = now() + make_interval(secs => ?)"
          + " WHERE rollout_id = ? AND item_id = ANY (?) AND leased_by = ?")) {
        p.setDouble(1, delay.toMillis() / 1000.0);
        p.setLong(2, rollout.id());
        p.setArray(3, c.createArrayOf("text", ids.toArray()));
        p.setString(4, worker);
        p.executeUpdate();
      }
      return null;
    });
  }

  /** Where a backfill stands once its worklist may be empty. */
  public enum Finish {
    /** Items remain, or the rollout is not backfilling. */
    NOT_YET,
    /** Items failed after their retries: the rollout is FAILED. */
    FAILED,
    /** Every item is in, the target's HNSW index is built: ready to evaluate. */
    INDEXED,
    /** Another server is finishing it. */
    BUSY
  }

  /**
   * When no work is left: marks the rollout FAILED if some items failed, else builds the
   * target's HNSW index (concurrently: writes go on meanwhile). One server at a time does it,
   * under an advisory lock; one that dies leaves it to the next.
   */
  public Finish finish(Rollout rollout, Collection target) {
    Finish worklist = db.inTransaction(c -> {
      try (PreparedStatement p = c.prepareStatement(
          "SELECT state FROM jointspace.rollouts WHERE id = ? FOR UPDATE")) {
        p.setLong(1, rollout.id());
        try (ResultSet r = p.executeQuery()) {
          if (!r.next() || !r.getString(1).equals("backfilling")) {
            return Finish.NOT_YET;
          }
        }
      }
      long remaining = 0;
      long failed = 0;
      try (PreparedStatement p = c.prepareStatement("SELECT count(*) FILTER (WHERE NOT failed),"
          + " count(*) FILTER (WHERE failed) FROM jointspace.rollout_work WHERE rollout_id = ?")) {
        p.setLong(1, rollout.id());
        try (ResultSet r = p.executeQuery()) {
          r.next();
          remaining = r.getLong(1);
          failed = r.getLong(2);
        }
      }
      if (remaining > 0) {
        return Finish.NOT_YET;
      }
      if (failed > 0) {
        RolloutStore.setState(c, rollout.id(), RolloutState.FAILED, failed + " item(s) could not be embedded by "
            + rollout.to().label() + " (listed in failures); resume to retry them, or abort");
        return Finish.FAILED;
      }
      return Finish.INDEXED; // the worklist is empty; the index comes next
    });
    if (worklist != Finish.INDEXED) {
      return worklist;
    }
    return db.read(c -> {
      if (!tryLock(c, rollout.id())) {
        return Finish.BUSY;
      }
      try {
        // an abort or a delete that dropped the tables held this lock until it committed
        try (PreparedStatement p = c.prepareStatement(
            "SELECT 1 FROM jointspace.rollouts WHERE id = ? AND state = 'backfilling'")) {
          p.setLong(1, rollout.id());
          try (ResultSet r = p.executeQuery()) {
            if (!r.next()) {
              return Finish.NOT_YET;
            }
          }
        }
        IndexBuilds.build(c, target.spec(), target.table(), indexMemoryMb);
        try (PreparedStatement p = c.prepareStatement(
            "UPDATE jointspace.rollouts SET index_built = true, updated_at = now() WHERE id = ?")) {
          p.setLong(1, rollout.id());
          p.executeUpdate();
        }
        return Finish.INDEXED;
      } finally {
        unlock(c, rollout.id());
      }
    });
  }

  /**
   * Runs {@code work} for the rollout while holding its advisory lock (one server at a time);
   * false without running it when another server holds the lock.
   */
  public boolean exclusively(long rolloutId, Runnable work) {
    return db.read(c -> {
      if (!tryLock(c, rolloutId)) {
        return false;
      }
      try {
        work.run();
        return true;
      } finally {
        unlock(c, rolloutId);
      }
    });
  }

  /** BACKFILLING (index built, evaluated) -> READY; false when the state moved on meanwhile. */
  public boolean ready(long rolloutId) {
    return db.inTransaction(c -> {
      try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM jointspace.rollouts WHERE id = ?"
          + " AND state = 'backfilling' AND index_built FOR UPDATE")) {
        p.setLong(1, rolloutId);
        try (ResultSet r = p.executeQuery()) {
          if (!r.next()) {
            return false;
          }
        }
      }
      RolloutStore.setState(c, rolloutId, RolloutState.READY, "");
      return true;
    });
  }

  /**
   * Takes the rollout's advisory lock for the rest of the caller's transaction, cancelling the
   * server session that holds it (building the target's index, or evaluating) until it lets
   * go. Called before the rollout's tables are dropped: the drop then neither waits for an
   * index build nor deadlocks with {@code CREATE INDEX CONCURRENTLY} (which waits for the
   * dropping transaction in turn), and no index build starts until the drop commits.
   */
  static void stopIndexBuild(Connection c, long rolloutId) throws SQLException {
    long until = System.nanoTime() + STOP_INDEX_BUILD.toNanos();
    while (true) {
      try (PreparedStatement p = c.prepareStatement(
          "SELECT pg_try_advisory_xact_lock(hashtext('jointspace.rollout'), ?)")) {
        p.setInt(1, (int) rolloutId);
        try (ResultSet r = p.executeQuery()) {
          r.next();
          if (r.getBoolean(1)) {
            return;
          }
        }
      }
      // the holder may be between two statements, where a cancel does nothing: try again
      try (PreparedStatement p = c.prepareStatement("SELECT pg_cancel_backend(pid) FROM pg_locks"
          + " WHERE locktype = 'advisory' AND classid = hashtext('jointspace.rollout')::oid AND objid = ?::oid"
          + " AND objsubid = 2 AND granted AND pid <> pg_backend_pid()")) {
        p.setInt(1, (int) rolloutId);
        p.execute();
      }
      if (System.nanoTime() > until) {
        throw new StoreUnavailableException("the database is busy, retry: rollout " + rolloutId
            + "'s index build or evaluation did not stop within " + STOP_INDEX_BUILD.toSeconds() + " s", null);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StoreUnavailableException("interrupted while stopping rollout " + rolloutId + "'s index build", null);
      }
    }
  }

  private static final Duration STOP_INDEX_BUILD = Duration.ofSeconds(10);

  private static boolean tryLock(Connection c, long rolloutId) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT pg_try_advisory_lock(hashtext('jointspace.rollout'), ?)")) {
      p.setInt(1, (int) rolloutId);
      try (ResultSet r = p.executeQuery()) {
        r.next();
        return r.getBoolean(1);
      }
    }
  }

  private static void unlock(Connection c, long rolloutId) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_unlock(hashtext('jointspace.rollout'), ?)")) {
      p.setInt(1, (int) rolloutId);
      p.execute();
    }
  }

  /** Deletes the work rows of {@code ids} this worker holds; returns their ids. */
  private static Set<String> deleteHeld(Connection c, long rolloutId, String worker, List<String> ids)
      throws SQLException {
    Set<String> held = new HashSet<>();
    try (PreparedStatement p = c.prepareStatement("DELETE FROM jointspace.rollout_work"
        + " WHERE rollout_id = ? AND item_id = ANY (?) AND leased_by = ? RETURNING item_id")) {
      p.setLong(1, rolloutId);
      p.setArray(2, c.createArrayOf("text", ids.toArray()));
      p.setString(3, worker);
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          held.add(r.getString(1));
        }
      }
    }
    return held;
  }
}
