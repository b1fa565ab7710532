package io.jointspace.server.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One streaming replica: its pool, its reader, whether it is used now, and how far it has
 * replayed the primary's WAL as last seen. Marked down by a failed check or a failed read and
 * up again only by a check that passes ({@link ReadReplicas} runs them); each change is
 * logged once.
 */
final class Standby implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Standby.class);
  /** Between two looks at the replay position while a read waits for it. */
  private static final long POLL_MILLIS = 5;

  private final Database db;
  private final Reader reader;
  private final String name;
  private final ReadListener listener;
  /** Null until the first check; then whether reads may use it. */
  private final AtomicBoolean healthy = new AtomicBoolean(false);
  private volatile boolean checked;
  /** The replay position last seen (only grows while the replica runs). */
  private volatile long replayed;

  Standby(Database db, ReadListener listener) {
    this.db = db;
    this.reader = new Reader(new CollectionCatalog(db), new ItemStore(db, new KeyIndexes(), listener));
    this.name = name(db.url());
    this.listener = listener;
  }

  /** {@code host:port/database} of a JDBC URL: what logs and metrics call the replica. */
  static String name(DatabaseUrl url) {
    String s = url.jdbcUrl().replaceFirst("^jdbc:postgresql://", "");
    int q = s.indexOf('?');
    return q >= 0 ? s.substring(0, q) : s;
  }

  String name() {
    return name;
  }

  Reader reader() {
    return reader;
  }

  boolean healthy() {
    return healthy.get();
  }

  /**
   * Checks that the replica answers and is a standby, and notes how far it has replayed;
   * marks it up or down accordingly.
   */
  void check() {
    try {
      Long position = db.inRoundTrips((c, timeout) -> {
        try (Statement s = c.createStatement();
            ResultSet r = s.executeQuery("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()")) {
          r.next();
          if (!r.getBoolean(1)) {
            return null;
          }
          ConsistencyToken t = ConsistencyToken.parseOrNull(r.getString(2));
          return t == null ? 0L : t.lsn();
        }
      });
      if (position == null) {
        down("it is not a standby (pg_is_in_recovery() is false: a primary, or a promoted replica)");
        return;
      }
      replayed = position;
      if (!healthy.getAndSet(true) || !checked) {
        log.info("Read replica {} is a standby and answers; reads use it", name);
        listener.onReplicaHealth(name, true);
      }
      checked = true;
    } catch (RuntimeException e) {
      down(e.getMessage());
    }
  }

  /** Stops reads from using it until a check passes. */
  void down(String why) {
    if (healthy.getAndSet(false) || !checked) {
      log.warn("Read replica {} is not used: {}; reads go to the other replicas or the primary, and it is checked"
          + " again every few seconds", name, why);
      listener.onReplicaHealth(name, false);
    }
    checked = true;
  }

  /**
   * Whether the replica has replayed {@code token}, waiting for it at most {@code max}.
   *
   * @throws StoreUnavailableException when the replica cannot be asked
   */
  boolean awaitReplay(ConsistencyToken token, Duration max) {
    if (Long.compareUnsigned(replayed, token.lsn()) >= 0) {
      return true;
    }
    long end = System.nanoTime() + max.toNanos();
    // one statement per round trip in auto-commit mode: no transaction (and no snapshot) is
    // held open on the replica while it waits, so the wait never holds back the replay it waits for
    return db.inRoundTrips((c, timeout) -> {
      try (Statement s = c.createStatement()) {
        while (true) {
          try (ResultSet r = s.executeQuery("SELECT pg_last_wal_replay_lsn()")) {
            r.next();
            ConsistencyToken now = ConsistencyToken.parseOrNull(r.getString(1));
            if (now == null) {
              throw new SQLException("pg_last_wal_replay_lsn() is null: " + name + " is not a standby", "55000");
            }
            if (Long.compareUnsigned(now.lsn(), replayed) > 0) {
              replayed = now.lsn();
            }
            if (now.compareTo(token) >= 0) {
              return true;
            }
          }
          long left = end - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          try {
            Thread.sleep(Math.min(POLL_MILLIS, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        }
      }
    });
  }

  @Override
  public void close() {
    db.close();
  }
}
