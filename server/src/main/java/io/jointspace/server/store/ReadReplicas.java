package io.jointspace.server.store;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.annotation.Nullable;

/**
 * Sends reads to PostgreSQL streaming replicas (hot standbys of the primary), round-robin over
 * the healthy ones, and to the primary when none is healthy, when the chosen one has not
 * replayed the read's {@link ConsistencyToken} within {@link ReadReplicaOptions#maxWait}, or
 * when it fails the read. Reads are idempotent, so a read the replica failed runs again on the
 * primary, whole. Writes never come here: they use the primary's stores directly.
 *
 * <p>A read runs all of its work (the catalog lookup and the item read) on one {@link Reader},
 * so it never mixes the catalog of one server with the tables of another. A collection a
 * replica does not have yet (created a moment ago) fails there with
 * {@link CollectionNotFoundException}, whether the catalog row or the table is missing; the
 * read then runs on the primary, which answers or says NOT_FOUND itself. So a read never
 * answers "nothing" because a replica lags a creation.
 *
 * <p>Replicas start unused: {@link #start()} checks each once before the server serves, then
 * every {@link ReadReplicaOptions#recheck} on a daemon thread. A replica that cannot be
 * reached or is not a standby is skipped (with one warning) until a check passes; a read that
 * fails on a replica marks it down at once. Thread-safe; the calls' threads call {@link #read}.
 */
public final class ReadReplicas implements AutoCloseable {
  private final Reader primary;
  private final List<Standby> replicas;
  private final ReadReplicaOptions options;
  private final ReadListener listener;
  private final Database primaryDb;
  private final AtomicInteger next = new AtomicInteger();
  @Nullable private ScheduledExecutorService checker;

  /**
   * @param replicas pools made with {@link Database#replica}; owned from now on (closed by {@link #close})
   */
  ReadReplicas(Database primaryDb, Reader primary, List<Database> replicas, ReadReplicaOptions options,
      ReadListener listener) {
    this.primaryDb = primaryDb;
    this.primary = primary;
    this.replicas = replicas.stream().map(db -> new Standby(db, listener)).toList();
    this.options = options;
    this.listener = listener;
  }

  boolean configured() {
    return !replicas.isEmpty();
  }

  /** Checks every replica once (a few seconds at most per unreachable one), then keeps checking them. */
  synchronized void start() {
    if (replicas.isEmpty() || checker != null) {
      return;
    }
    replicas.forEach(Standby::check);
    checker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "read-replica-check");
      t.setDaemon(true);
      return t;
    });
    long every = options.recheck().toMillis();
    checker.scheduleWithFixedDelay(() -> replicas.forEach(Standby::check), every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Runs {@code read} on a healthy replica that has replayed {@code token}, else on the
   * primary; once more on the primary when the replica fails it.
   */
  public <T> T read(ConsistencyToken token, Function<Reader, T> read) {
    if (replicas.isEmpty()) {
      listener.onRead(ReadRoute.NO_REPLICAS, "");
      return read.apply(primary);
    }
    Standby replica = pick();
    if (replica == null) {
      listener.onRead(ReadRoute.NO_HEALTHY_REPLICA, "");
      return read.apply(primary);
    }
    T result;
    try {
      if (!token.isNone() && !replica.awaitReplay(token, waitBound())) {
        listener.onRead(ReadRoute.LAG, replica.name());
        return read.apply(primary);
      }
      result = read.apply(replica.reader());
    } catch (CollectionNotFoundException e) {
      listener.onRead(ReadRoute.NOT_ON_REPLICA, replica.name());
      return read.apply(primary);
    } catch (StoreUnavailableException e) {
      if (e.getCause() instanceof SQLException sql && Database.isConnectionFailure(sql)) {
        replica.down("a read failed: " + e.getMessage());
      }
      listener.onRead(ReadRoute.REPLICA_FAILED, replica.name());
      return read.apply(primary);
    } catch (IllegalStateException e) {
      if (!(e.getCause() instanceof SQLException)) {
        throw e;
      }
      // a database error on the replica (it was promoted meanwhile, or cannot run the read)
      replica.down("a read failed: " + e.getMessage());
      listener.onRead(ReadRoute.REPLICA_FAILED, replica.name());
      return read.apply(primary);
    }
    listener.onRead(ReadRoute.REPLICA, replica.name());
    return result;
  }

  /** The token of every write committed on the primary so far. */
  ConsistencyToken current() {
    return primaryDb.inRoundTrips((c, timeout) -> ConsistencyToken.current(c));
  }

  /** The next healthy replica after the last one used; null when none is healthy. */
  @Nullable
  private Standby pick() {
    int n = replicas.size();
    int start = Math.floorMod(next.getAndIncrement(), n);
    for (int i = 0; i < n; i++) {
      Standby s = replicas.get((start + i) % n);
      if (s.healthy()) {
        return s;
      }
    }
    return null;
  }

  /** The configured wait, at most half of what the call has left (the rest is the primary's). */
  private Duration waitBound() {
    Duration left = primaryDb.callTimeLeft();
    if (left == null) {
      return options.maxWait();
    }
    Duration half = left.dividedBy(2);
    return half.compareTo(options.maxWait()) < 0 ? half : options.maxWait();
  }

  @Override
  public synchronized void close() {
    if (checker != null) {
      checker.shutdownNow();
      try {
        checker.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      checker = null;
    }
    replicas.forEach(Standby::close);
  }
}
