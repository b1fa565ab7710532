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
final class Notifications {
  private static final Logger log = LoggerFactory.getLogger(Notifications.class);

  private Notifications() {}

  /**
   * Listens on {@code channel} until the thread is interrupted: calls {@code changed} after
   * each notification, and after (re)connecting, since notifications may have been missed
   * while the connection was down (it retries every second).
   */
  static void listen(Database db, String channel, Runnable changed) throws InterruptedException {
    DatabaseUrl url = db.url();
    while (!Thread.currentThread().isInterrupted()) {
      Properties props = new Properties();
      if (url.user() != null) {
        props.setProperty("user", url.user());
      }
      if (url.password() != null) {
        props.setProperty("password", url.password());
      }
      try (Connection c = DriverManager.getConnection(url.jdbcUrl(), props)) {
        try (Statement s = c.createStatement()) {
          s.execute("LISTEN " + channel);
        }
        changed.run();
        PGConnection pg = c.unwrap(PGConnection.class);
        while (!Thread.currentThread().isInterrupted()) {
          PGNotification[] notes = pg.getNotifications(500);
          if (notes != null && notes.length > 0) {
            changed.run();
          }
        }
      } catch (SQLException | RuntimeException e) {
        log.debug("Listener on {} lost its connection ({}); reconnecting", channel, e.getMessage());
        Thread.sleep(1000);
      }
    }
  }
}
