package io.jointspace.server.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import javax.annotation.Nullable;

/**
 * The size on disk of the tables searched, for {@link NearestSearch}'s small-table rule: the
 * heap's size now (statistics may lag a load by seconds; the file's size does not), read with
 * {@code pg_relation_size} at most once per {@link #FRESH_FOR} per table, on the search's own
 * connection. Deciding here, before the statement, keeps each search one plain statement: one
 * holding both the exact ranking and the index scan, each gated in SQL, ran a filtered walk of
 * the benchmark's 100k-row table in 100 to 160 ms where the walk alone takes 3 ms (psql, same
 * settings), although its exact branch was never executed.
 */
final class TableSizes {
  /** How long a table's size is used before it is read again. */
  static final Duration FRESH_FOR = Duration.ofSeconds(2);

  private final Cache<String, Long> bytes = Caffeine.newBuilder()
      .expireAfterWrite(FRESH_FOR)
      .maximumSize(10_000)
      .build();

  /**
   * {@code table}'s heap in bytes (a qualified, quoted name), read on {@code c} when not fresh,
   * under {@code timeout} (the call's statement timeout; null: none): the read takes the
   * table's share lock, and waits behind a lock as long as the search itself may.
   */
  long bytes(Connection c, String table, @Nullable Duration timeout) throws SQLException {
    Long known = bytes.getIfPresent(table);
    if (known != null) {
      return known;
    }
    String size = "SELECT coalesce(pg_relation_size(to_regclass(?)), 0)";
    try (PreparedStatement p = c.prepareStatement(timeout == null ? size
        : "SELECT set_config('statement_timeout', ?, true); " + size)) {
      NearestSearch.unprepared(p);
      int i = 1;
      if (timeout != null) {
        p.setString(i++, Long.toString(Math.max(1, timeout.toMillis())));
      }
      p.setString(i, table);
      p.execute();
      if (timeout != null && !p.getMoreResults()) {
        throw new IllegalStateException("the size statement returned no result set");
      }
      try (ResultSet r = p.getResultSet()) {
        r.next();
        long bytesNow = r.getLong(1);
        bytes.put(table, bytesNow);
        return bytesNow;
      }
    }
  }
}
