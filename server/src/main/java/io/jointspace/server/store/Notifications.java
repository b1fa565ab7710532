package io.jointspace.server.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** PostgreSQL LISTEN on a connection of its own, outside the pool, for as long as a thread wants. */
public final class Notifications {
  private static final Logger log = LoggerFactory.getLogger(Notifications.class);

  /** How often the listening connection is checked, and everything reloaded. */
  static final long CHECK_EVERY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);

  private Notifications() {}

  /**
   * Starts a daemon thread named {@code threadName} that {@link #listen listens} on
   * {@code channel}; interrupting it stops it.
   */
  static Thread follow(Database db, String channel, String threadName, Runnable changed) {
    Thread t = new Thread(() -> {
      try {
        listen(db, channel, changed);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, threadName);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /**
   * Stops a thread {@link #follow} started, and waits (up to 2 s) until it has let go of its
   * connection, so that a database stopped next does not make it warn.
   */
  public static void stop(@javax.annotation.Nullable Thread listener) {
    if (listener == null) {
      return;
    }
    listener.interrupt();
    try {
      listener.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Listens on {@code channel} until the thread is interrupted: calls {@code changed} after
   * each notification, after (re)connecting, and every 30 s after checking the connection,
   * since notifications may have been missed while it was down (it retries every second).
   */
  static void listen(Database db, String channel, Runnable changed) throws InterruptedException {
    DatabaseUrl url = db.url();
    boolean warned = false;
    while (!Thread.currentThread().isInterrupted()) {
      Properties props = new Properties();
      if (url.user() != null) {
        props.setProperty("user", url.user());
      }
      if (url.password() != null) {
        props.setProperty("password", url.password());
      }
      props.setProperty("tcpKeepAlive", "true");
      try (Connection c = DriverManager.getConnection(url.jdbcUrl(), props)) {
        try (Statement s = c.createStatement()) {
          s.execute("LISTEN " + channel);
        }
        if (warned) {
          log.info("Listener on {} is connected to the database again", channel);
          warned = false;
        }
        changed.run();
        PGConnection pg = c.unwrap(PGConnection.class);
        long nextCheck = System.nanoTime() + CHECK_EVERY_NANOS;
        while (!Thread.currentThread().isInterrupted()) {
          PGNotification[] notes = pg.getNotifications(500);
          if (notes != null && notes.length > 0) {
            changed.run();
          }
          if (System.nanoTime() - nextCheck >= 0) {
            // a connection that died quietly only shows when used; a change missed meanwhile shows in the reload
            try (Statement s = c.createStatement()) {
              s.setQueryTimeout(5);
              s.execute("SELECT 1");
            }
            changed.run();
            nextCheck = System.nanoTime() + CHECK_EVERY_NANOS;
          }
        }
      } catch (SQLException | RuntimeException e) {
        if (!warned) {
          log.warn("Listener on {} has no connection to the database ({}); retrying every second", channel,
              e.getMessage());
          warned = true;
        }
        Thread.sleep(1000);
      }
    }
  }
}
