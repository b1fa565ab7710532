package io.jointspace.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link FilterSql} for tests outside this package (the filter fuzz test maps protos in
 * {@code api}): compile a {@link Condition}, and run it as the WHERE clause of a plain query.
 */
public final class FilterQueries {
  private FilterQueries() {}

  /** The compiled SQL text; throws what {@link FilterSql#compile} throws. */
  public static String sql(Condition condition) {
    return FilterSql.compile(condition, "filter").sql();
  }

  /**
   * The ids of {@code table}'s rows ({@code id text, metadata jsonb}) whose metadata matches,
   * in id order.
   */
  public static List<String> matching(Connection c, String table, Condition condition) throws SQLException {
    FilterSql.Compiled filter = FilterSql.compile(condition, "filter");
    try (PreparedStatement p = c.prepareStatement("SELECT id FROM " + table + " WHERE " + filter.sql() + " ORDER BY id")) {
      filter.bind(c, p, 1);
      List<String> ids = new ArrayList<>();
      try (ResultSet rs = p.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1));
        }
      }
      return ids;
    }
  }
}
