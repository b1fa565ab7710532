package io.jointspace.server.store;

import io.jointspace.server.errors.InvalidInputException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.annotation.Nullable;

/**
 * What a write answers so that a later read can see it on a streaming replica: a position in
 * the primary's write-ahead log at or past the write's commit record, in PostgreSQL's
 * {@code pg_lsn} text form ({@code 16/B374D848}). A replica has the write once its
 * {@code pg_last_wal_replay_lsn()} (the end of the last record it replayed) has reached it.
 * {@link #NONE} (the empty token) asks for no wait.
 */
public record ConsistencyToken(long lsn) implements Comparable<ConsistencyToken> {
  public static final ConsistencyToken NONE = new ConsistencyToken(0);
  private static final Pattern LSN = Pattern.compile("([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})");

  /**
   * A token as clients pass it; empty for {@link #NONE}.
   *
   * @throws InvalidInputException naming {@code field} when it is not one a write answered
   */
  public static ConsistencyToken parse(String text, String field) {
    if (text.isEmpty()) {
      return NONE;
    }
    ConsistencyToken t = parseOrNull(text);
    if (t == null) {
      throw InvalidInputException.of(field, "'" + (text.length() > 40 ? text.substring(0, 40) + "..." : text)
          + "' is not a consistency token; pass the consistency_token of a write response as it is, or leave it empty");
    }
    return t;
  }

  /** A {@code pg_lsn} text as PostgreSQL prints it; null when it is not one. */
  @Nullable
  static ConsistencyToken parseOrNull(@Nullable String text) {
    if (text == null) {
      return null;
    }
    Matcher m = LSN.matcher(text.strip());
    if (!m.matches()) {
      return null;
    }
    return new ConsistencyToken(Long.parseUnsignedLong(m.group(1), 16) << 32 | Long.parseUnsignedLong(m.group(2), 16));
  }

  /**
   * The token of every write committed on the primary before this call: {@code
   * pg_current_wal_insert_lsn()}. Each transaction's commit record is inserted into the WAL
   * before its COMMIT returns, and the insert position is one for the whole server and only
   * grows, so read after the commit (on any connection) it is at or past the end of that
   * record. Neither an LSN read inside the transaction (it precedes the commit record) nor
   * {@code pg_current_wal_lsn()} (the write position, which with {@code synchronous_commit =
   * off} can still be before the commit record) is. When the insert position sits at the
   * start of a WAL page it points past the page header, a few bytes beyond the end of the
   * last record: a replica then reaches it with the next record, and a read that waits on it
   * meanwhile falls back to the primary (correct, only slower).
   */
  static ConsistencyToken current(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
      r.next();
      ConsistencyToken t = parseOrNull(r.getString(1));
      if (t == null) {
        throw new IllegalStateException("pg_current_wal_insert_lsn() answered '" + r.getString(1) + "'");
      }
      return t;
    }
  }

  public boolean isNone() {
    return lsn == 0;
  }

  @Override
  public int compareTo(ConsistencyToken o) {
    return Long.compareUnsigned(lsn, o.lsn);
  }

  /** The text clients pass back; empty for {@link #NONE}. */
  @Override
  public String toString() {
    return isNone() ? "" : Long.toHexString(lsn >>> 32).toUpperCase(java.util.Locale.ROOT) + "/"
        + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase(java.util.Locale.ROOT);
  }
}
