package io.jointspace.server.store;

import io.jointspace.server.errors.InvalidInputException;
import java.util.regex.Pattern;

/**
 * Identifiers that end up in SQL text. Collection names are validated against a strict
 * pattern and then always double-quoted; every other user value is a bound parameter.
 */
final class SqlNames {
  private SqlNames() {}

  private static final Pattern COLLECTION = Pattern.compile("[a-z][a-z0-9_]*");
  private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  /**
   * @throws InvalidInputException naming {@code field} when the name is not a valid collection name
   */
  static String collection(String name, String field) {
    if (name == null || name.isEmpty()) {
      throw new InvalidInputException(field + " is empty");
    }
    if (name.length() > Limits.MAX_NAME_CHARS || !COLLECTION.matcher(name).matches()) {
      throw new InvalidInputException(field + " '" + shorten(name) + "' is not a valid collection name: use 1 to "
          + Limits.MAX_NAME_CHARS + " lowercase letters, digits and underscores, starting with a letter");
    }
    return name;
  }

  /** Model names are written into the view as a literal, so they are held to a safe alphabet. */
  static String modelName(String name, String field) {
    if (name == null || name.isEmpty() || name.length() > 200 || !MODEL.matcher(name).matches()) {
      throw new InvalidInputException(field + " '" + shorten(String.valueOf(name)) + "' cannot name a collection's"
          + " model: use letters, digits, '.', '_' and '-'");
    }
    return name;
  }

  /** The item table of a collection for one model version (in {@link Database#SCHEMA}). */
  static String table(String collection, long version) {
    return collection + "_v" + version;
  }

  /** The view of one version of a collection (in {@code public}): {@code <collection>__v<version>}. */
  static String versionView(String collection, long version) {
    return collection + "__v" + version;
  }

  /** {@code "name"}; only ever called on validated names. */
  static String quote(String identifier) {
    if (identifier.indexOf('"') >= 0 || identifier.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("identifier with a quote or NUL: " + identifier);
    }
    return '"' + identifier + '"';
  }

  /**
   * {@code s} as an escape string literal ({@code E'...'}, quotes and backslashes escaped by
   * pgjdbc), read the same whatever {@code standard_conforming_strings} is: for text that a
   * statement cannot take as a parameter (DDL; a value a generic plan must see).
   *
   * @throws IllegalArgumentException for a NUL character, which no PostgreSQL text holds
   */
  static String literal(String s) {
    try {
      return "E'" + org.postgresql.core.Utils.escapeLiteral(null, s, false) + "'";
    } catch (java.sql.SQLException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** {@code jointspace."table"}. */
  static String qualified(String table) {
    return Database.SCHEMA + "." + quote(table);
  }

  static String shorten(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }
}
