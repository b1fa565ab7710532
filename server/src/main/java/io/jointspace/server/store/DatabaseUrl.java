package io.jointspace.server.store;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import javax.annotation.Nullable;

/**
 * Where the database is: a JDBC URL plus the user and password kept apart from it, so the
 * URL can be logged. Parsed from a PostgreSQL URI ({@code postgresql://user:pw@host:port/db?k=v},
 * also {@code postgres://}) or taken as is from a JDBC URL ({@code jdbc:postgresql://...}).
 */
public record DatabaseUrl(String jdbcUrl, @Nullable String user, @Nullable String password) {

  public static DatabaseUrl parse(String url) {
    String u = url.strip();
    if (u.startsWith("jdbc:postgresql:")) {
      return new DatabaseUrl(u, null, null);
    }
    String rest;
    if (u.startsWith("postgresql://")) {
      rest = u.substring("postgresql://".length());
    } else if (u.startsWith("postgres://")) {
      rest = u.substring("postgres://".length());
    } else {
      throw new IllegalArgumentException("database URL must start with postgresql://, postgres:// or jdbc:postgresql:"
          + " (got '" + redact(u) + "')");
    }
    String query = "";
    int q = rest.indexOf('?');
    if (q >= 0) {
      query = rest.substring(q + 1);
      rest = rest.substring(0, q);
    }
    String path = "";
    int slash = rest.indexOf('/');
    if (slash >= 0) {
      path = rest.substring(slash + 1);
      rest = rest.substring(0, slash);
    }
    String user = null;
    String password = null;
    int at = rest.lastIndexOf('@');
    if (at >= 0) {
      String info = rest.substring(0, at);
      rest = rest.substring(at + 1);
      int colon = info.indexOf(':');
      user = decode(colon >= 0 ? info.substring(0, colon) : info);
      password = colon >= 0 ? decode(info.substring(colon + 1)) : null;
    }
    String hosts = rest.isEmpty() ? "localhost" : rest;
    String database = decode(path);
    StringBuilder jdbc = new StringBuilder("jdbc:postgresql://").append(hosts).append('/');
    if (!database.isEmpty()) {
      jdbc.append(java.net.URLEncoder.encode(database, StandardCharsets.UTF_8).replace("+", "%20"));
    }
    if (!query.isEmpty()) {
      jdbc.append('?').append(query);
    }
    return new DatabaseUrl(jdbc.toString(), user == null || user.isEmpty() ? null : user, password);
  }

  /** The URL without its password, for logs and messages. */
  public String display() {
    return redact(jdbcUrl) + (user == null ? "" : " as " + user);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** Hides a password given in user info or as a query parameter. */
  static String redact(String url) {
    return url.replaceAll("(//[^:/@?]*:)[^@/?]*@", "$1***@").replaceAll("(?i)(password=)[^&]*", "$1***");
  }

  @Override
  public String toString() {
    return display();
  }
}
