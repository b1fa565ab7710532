package io.jointspace.server.store;

import com.pgvector.PGvector;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection pool to PostgreSQL and the one place that turns JDBC failures into the
 * store's exceptions. The pool starts without the database: calls made while it cannot be
 * reached fail with {@link StoreUnavailableException}, and the pool reconnects by itself.
 * The catalog schema is migrated (Flyway, {@code db/migration}) before the first call that
 * needs it.
 *
 * <p>Work done for a call runs under its {@link StatementTimeout}: one transaction, with
 * {@code SET LOCAL statement_timeout}, so the setting ends with it and never stays on a pooled
 * connection; or, for {@link #inRoundTrips}, each round trip its own implicit transaction whose
 * first statement sets it locally. Work done for no call (null timeout) runs as asked, outside
 * any transaction for {@link #read}, since some of it cannot run in one ({@code CREATE INDEX
 * CONCURRENTLY}).
 */
public final class Database implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Database.class);

  /** Schema of the catalog and of the per-(collection, version) tables. */
  static final String SCHEMA = "jointspace";

  private final HikariDataSource pool;
  private final DatabaseUrl url;
  private final StatementTimeout statementTimeout;
  private volatile boolean migrated;

  /** Work done with a connection. */
  @FunctionalInterface
  public interface SqlWork<T> {
    T run(Connection connection) throws SQLException;
  }

  /** Work that applies its statement timeout itself (see {@link #inRoundTrips}). */
  @FunctionalInterface
  public interface TimedWork<T> {
    /** @param timeout the statement timeout of the call, null for none */
    T run(Connection connection, @javax.annotation.Nullable Duration timeout) throws SQLException;
  }

  /** A pool whose statements run without a timeout. */
  public Database(DatabaseUrl url, int maxConnections, Duration connectionTimeout) {
    this(url, maxConnections, connectionTimeout, StatementTimeout.NONE);
  }

  public Database(DatabaseUrl url, int maxConnections, Duration connectionTimeout, StatementTimeout statementTimeout) {
    this(url, maxConnections, connectionTimeout, statementTimeout, null);
  }

  /**
   * @param metrics where the pool reports its connections (HikariCP's {@code hikaricp_connections_active},
   *     {@code _idle}, {@code _pending}, timeouts, with {@code pool="jointspace-db"}); null: nowhere
   */
  public Database(DatabaseUrl url, int maxConnections, Duration connectionTimeout, StatementTimeout statementTimeout,
      @javax.annotation.Nullable com.zaxxer.hikari.metrics.MetricsTrackerFactory metrics) {
    this(url, "jointspace-db", false, maxConnections, connectionTimeout, statementTimeout, metrics);
  }

  /**
   * A pool to a streaming replica of the primary ({@link ReadReplicas}): read-only
   * connections, never migrated (the replica replays the primary's catalog), reported as pool
   * {@code poolName}. It waits for a connection at most one second, so a read falls back to
   * the primary soon when the replica is down or busy.
   */
  public static Database replica(DatabaseUrl url, String poolName, int maxConnections, Duration connectionTimeout,
      StatementTimeout statementTimeout, @javax.annotation.Nullable com.zaxxer.hikari.metrics.MetricsTrackerFactory metrics) {
    Duration wait = connectionTimeout.compareTo(Duration.ofSeconds(1)) < 0 ? connectionTimeout : Duration.ofSeconds(1);
    return new Database(url, poolName, true, maxConnections, wait, statementTimeout, metrics);
  }

  private Database(DatabaseUrl url, String poolName, boolean replica, int maxConnections, Duration connectionTimeout,
      StatementTimeout statementTimeout, @javax.annotation.Nullable com.zaxxer.hikari.metrics.MetricsTrackerFactory metrics) {
    this.url = url;
    this.statementTimeout = statementTimeout;
    this.migrated = replica;
    HikariConfig config = new HikariConfig();
    config.setPoolName(poolName);
    config.setReadOnly(replica);
    config.setJdbcUrl(url.jdbcUrl());
    if (url.user() != null) {
      config.setUsername(url.user());
    }
    if (url.password() != null) {
      config.setPassword(url.password());
    }
    config.setMaximumPoolSize(maxConnections);
    config.setMinimumIdle(Math.min(2, maxConnections));
    config.setConnectionTimeout(Math.max(250, connectionTimeout.toMillis()));
    config.setValidationTimeout(Math.max(250, Math.min(connectionTimeout.toMillis(), 5000)));
    // start even when the database is down; calls answer UNAVAILABLE until it is back
    config.setInitializationFailTimeout(-1);
    config.addDataSourceProperty("ApplicationName", "jointspace");
    config.addDataSourceProperty("connectTimeout", "5");
    config.addDataSourceProperty("tcpKeepAlive", "true");
    config.addDataSourceProperty("reWriteBatchedInserts", "true");
    if (metrics != null) {
      config.setMetricsTrackerFactory(metrics);
    }
    this.pool = new HikariDataSource(config);
  }

  /**
   * The physical connections pgvector's types are registered on (by identity, forgotten with
   * them): registering at every checkout added the types to pgjdbc's maps again, about 3% of a
   * search's CPU in the server.
   */
  private final com.github.benmanes.caffeine.cache.Cache<org.postgresql.PGConnection, Boolean> typed =
      com.github.benmanes.caffeine.cache.Caffeine.newBuilder().weakKeys().build();

  /** Registers pgvector's types on {@code c}'s physical connection, once. */
  private void registerTypes(Connection c) throws SQLException {
    org.postgresql.PGConnection pg = c.unwrap(org.postgresql.PGConnection.class);
    if (typed.getIfPresent(pg) == null) {
      PGvector.registerTypes(c);
      typed.put(pg, Boolean.TRUE);
    }
  }

  public DatabaseUrl url() {
    return url;
  }

  /** How long the work of the call on this thread may run; null for none. */
  @javax.annotation.Nullable
  Duration callTimeLeft() {
    return statementTimeout.current();
  }

  /** Runs {@code work} in one transaction and commits; nothing is returned before the commit. */
  public <T> T inTransaction(SqlWork<T> work) {
    ensureMigrated();
    return withConnection(true, work);
  }

  /**
   * Runs {@code work} on a connection in auto-commit mode, or, under a statement timeout, in
   * one transaction (whose statements each see the data committed before they start, as in
   * auto-commit mode).
   */
  public <T> T read(SqlWork<T> work) {
    ensureMigrated();
    return withConnection(false, work);
  }

  /**
   * Runs {@code work} on a connection in auto-commit mode, with no statement of its own: no
   * transaction, no {@code SET LOCAL}. The work applies the statement timeout it is given
   * itself, in each round trip, for example as {@code SELECT set_config('statement_timeout',
   * ?, true)} sent with its statement in one multi-statement execute: pgjdbc sends them with one
   * Sync, so they run in one implicit transaction, and the setting ends with it. A statement
   * cancelled for the timeout fails with {@link StatementTimeoutException}. For reads that are
   * one statement per round trip (search); what needs a consistent view of several statements
   * uses {@link #inTransaction}.
   */
  public <T> T inRoundTrips(TimedWork<T> work) {
    ensureMigrated();
    Duration timeout = null;
    try (Connection c = connection(statementTimeout.current())) {
      registerTypes(c);
      timeout = statementTimeout.current();
      return work.run(c, timeout);
    } catch (SQLException e) {
      throw failure(e, timeout);
    }
  }

  private RuntimeException failure(SQLException e, @javax.annotation.Nullable Duration timeout) {
    if (timeout != null && "57014".equals(e.getSQLState())) {
      return new StatementTimeoutException(timeout, e);
    }
    return translate(e);
  }

  private <T> T withConnection(boolean transaction, SqlWork<T> work) {
    Duration timeout = null;
    try (Connection c = connection(statementTimeout.current())) {
      registerTypes(c);
      timeout = statementTimeout.current();
      if (!transaction && timeout == null) {
        return work.run(c);
      }
      c.setAutoCommit(false);
      try {
        if (timeout != null) {
          try (Statement s = c.createStatement()) {
            s.execute("SET LOCAL statement_timeout = " + Math.max(1, timeout.toMillis()));
          }
        }
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c);
        throw e;
      } finally {
        resetQuietly(c);
      }
    } catch (SQLException e) {
      throw failure(e, timeout);
    }
  }

  /**
   * A pooled connection, waiting for one at most {@code connection_timeout_ms} and, for work
   * done for a call, at most three quarters of the time the call has left ({@code callLeft}):
   * a call whose deadline comes before the pool's timeout then fails with
   * {@link StoreUnavailableException} (the database cannot be reached, or every connection is
   * busy) while its client still waits for the answer, instead of running into its deadline.
   */
  private Connection connection(@javax.annotation.Nullable Duration callLeft) throws SQLException {
    long wait = callLeft == null ? Long.MAX_VALUE : Math.max(1, callLeft.toMillis() * 3 / 4);
    if (wait >= pool.getConnectionTimeout()) {
      return pool.getConnection();
    }
    // HikariDataSource hands out its pool as the MXBean; HikariPool.getConnection(ms) is the
    // pool's own wait with a timeout of the caller's
    return ((com.zaxxer.hikari.pool.HikariPool) pool.getHikariPoolMXBean()).getConnection(wait);
  }

  /**
   * A pooled connection for the caller to keep, in auto-commit mode, and close: for
   * session-level advisory locks held across calls ({@link IndexBuilds}).
   */
  Connection session() throws SQLException {
    ensureMigrated();
    Connection c = pool.getConnection();
    registerTypes(c);
    return c;
  }

  /** Applies the catalog migrations once; retried on the next call when the database was down. */
  public void ensureMigrated() {
    if (migrated) {
      return;
    }
    // a database that cannot be reached fails the call within its time, before it waits for
    // another call's migration (Flyway takes connections with the pool's full timeout)
    try (Connection probe = connection(statementTimeout.current())) {
      // reachable
    } catch (SQLException e) {
      throw translate(e);
    }
    synchronized (this) {
      if (migrated) {
        return;
      }
      try {
        Flyway.configure()
            .dataSource(pool)
            .schemas(SCHEMA)
            .locations("classpath:db/migration")
            .load()
            .migrate();
        migrated = true;
      } catch (FlywayException e) {
        Throwable cause = e;
        while (cause.getCause() != null && !(cause instanceof SQLException)) {
          cause = cause.getCause();
        }
        if (cause instanceof SQLException sql && isConnectionFailure(sql)) {
          throw new StoreUnavailableException("the database cannot be reached", "the database at " + url.display()
              + ": " + sql.getMessage(), e);
        }
        throw new IllegalStateException("migrating the catalog in " + url.display() + " failed: " + e.getMessage(), e);
      }
    }
  }

  /** A JDBC failure as the store's exception: UNAVAILABLE-type failures first. */
  RuntimeException translate(SQLException e) {
    if (isConnectionFailure(e)) {
      return new StoreUnavailableException("the database cannot be reached", "the database at " + url.display() + ": "
          + e.getMessage(), e);
    }
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    return switch (state) {
      // the database's own message names the schema and table: for the log, not the client
      case "42P01" -> {
        log.info("A collection's table is gone: {}", e.getMessage());
        yield new CollectionNotFoundException("the collection's table does not exist (was the collection deleted"
            + " meanwhile?)");
      }
      case "2BP01" -> new StoreConflictException("other database objects depend on it: " + e.getMessage(), e);
      case "55P03", "40001", "40P01" -> new StoreUnavailableException("the database is busy, retry", e.getMessage(), e);
      default -> new IllegalStateException("database error " + state + ": " + e.getMessage(), e);
    };
  }

  /** Connection refused or lost, server shutting down or starting, too many connections, pool timeout. */
  static boolean isConnectionFailure(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException) {
        return true;
      }
      if (t instanceof SQLException s && s.getSQLState() != null) {
        String state = s.getSQLState();
        if (state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03")
            || state.equals("53300")) {
          return true;
        }
      }
    }
    return false;
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // the connection is broken; the pool evicts it
    }
  }

  private static void resetQuietly(Connection c) {
    try {
      c.setAutoCommit(true);
    } catch (SQLException ignored) {
      // as above
    }
  }

  @Override
  public void close() {
    pool.close();
    log.info("Closed the database pool {}", pool.getPoolName());
  }
}
