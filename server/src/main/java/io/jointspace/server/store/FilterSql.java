package io.jointspace.server.store;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.jointspace.server.errors.InvalidInputException;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A {@link Condition} as a SQL boolean expression over the {@code metadata} column. Keys and
 * values appear as bound parameters, the SQL text built from fixed fragments; one exception: a
 * required equality whose containment test is the predicate of a partial index ({@link
 * KeyIndexes}) writes that test's JSON as a literal, escaped by pgjdbc, so that a plan made once
 * for every call (a server-side prepared statement's generic plan) can still prove that the
 * partial index holds every match, which it cannot for a parameter.
 *
 * <p>A key path names nested object fields, never array elements: a step into anything but an
 * object finds nothing. It is read with {@code ->} for one key (metadata is an object), with
 * {@code #>} for a longer path none of whose keys reads as an integer (where {@code #>} finds
 * nothing in an array, as wanted), and otherwise with a strict SQL/JSON path ({@code strict
 * $."a"."0"}), under which a step into an array finds nothing where {@code #>} would take
 * {@code "0"} as an index. Each is bound as a parameter. The operators cost far less per row
 * than the path: a filtered walk of 168 rows with a range on one key ran in 1.0 ms against
 * 1.9 ms (psql, warm cache), and a filtered walk reads its rows one by one.
 */
final class FilterSql {
  private final StringBuilder sql = new StringBuilder();
  private final List<Object> params = new ArrayList<>();
  /** Containments written as literals where the filter requires them ({@link #compile(Condition, String, Set)}). */
  private final Set<String> indexed;
  private boolean keyed;
  private int conditions;

  private FilterSql(Set<String> indexed) {
    this.indexed = indexed;
  }

  /**
   * The value at a key path, or SQL NULL where a field is missing or a step is not an object;
   * JSON null is a value: its SQL, with one parameter, and that parameter.
   */
  private record Value(String sql, Object param) {}

  private static Value value(String[] path) {
    if (path.length == 1) {
      return new Value("(metadata -> ?::text)", path[0]);
    }
    for (String key : path) {
      if (ARRAY_INDEX.matcher(key).matches()) {
        return new Value("jsonb_path_query_first(metadata, ?::jsonpath, '{}'::jsonb, true)", jsonPath(path));
      }
    }
    return new Value("(metadata #> ?::text[])", new TextArray(path));
  }

  /** A key {@code #>} takes as an index into an array (PostgreSQL reads it with strtol). */
  private static final java.util.regex.Pattern ARRAY_INDEX = java.util.regex.Pattern.compile("\\s*[+-]?[0-9]+");

  /** A text[] parameter. */
  private record TextArray(String[] values) {}

  /**
   * A jsonb parameter, sent with jsonb's type: a statement with a generic plan (a filtered
   * walk's) would otherwise convert a text parameter to jsonb again for every row it reads.
   */
  private record Jsonb(String json) {}

  /** A jsonb[] parameter, sent with jsonb[]'s type (as {@link Jsonb}). */
  private record JsonbArray(String[] jsons) {}

  /**
   * The compiled expression and its parameters, in order.
   *
   * @param keyed whether an equality the filter requires (at its top, or in an {@code and}
   *     there) has its containment test written as a literal: that of a partial index, which
   *     holds every match ({@link KeyIndexes})
   */
  record Compiled(String sql, List<Object> params, boolean keyed) {
    /** The expression and its parameter values as text: equal for equal filters. */
    String key() {
      StringBuilder k = new StringBuilder(sql);
      for (Object o : params) {
        k.append('\0').append(o instanceof TextArray a ? java.util.Arrays.toString(a.values())
            : o instanceof JsonbArray a ? java.util.Arrays.toString(a.jsons()) : String.valueOf(o));
      }
      return k.toString();
    }

    /** Binds the parameters starting at {@code index}; returns the next free index. */
    int bind(Connection c, PreparedStatement p, int index) throws SQLException {
      for (Object o : params) {
        if (o instanceof TextArray a) {
          p.setArray(index++, c.createArrayOf("text", a.values()));
        } else if (o instanceof JsonbArray a) {
          p.setArray(index++, c.createArrayOf("jsonb", a.jsons()));
        } else if (o instanceof Jsonb j) {
          org.postgresql.util.PGobject value = new org.postgresql.util.PGobject();
          value.setType("jsonb");
          value.setValue(j.json());
          p.setObject(index++, value);
        } else if (o instanceof BigDecimal d) {
          p.setBigDecimal(index++, d);
        } else {
          p.setString(index++, (String) o);
        }
      }
      return index;
    }
  }

  /**
   * @param field the request field holding the filter, for messages
   * @throws InvalidInputException for an empty and/or, a bad key, mixed range bounds, or over
   *     {@link Limits#MAX_FILTER_CONDITIONS} or {@link Limits#MAX_FILTER_DEPTH}
   */
  static Compiled compile(Condition condition, String field) {
    return compile(condition, field, Set.of());
  }

  /**
   * As {@link #compile(Condition, String)}, with the containment test of each equality the
   * filter requires whose JSON object is in {@code indexed} (the predicates of a table's valid
   * partial indexes, {@link KeyIndexes#covered}) written as a literal.
   */
  static Compiled compile(Condition condition, String field, Set<String> indexed) {
    FilterSql f = new FilterSql(indexed);
    f.add(condition, field, 1, true);
    return new Compiled(f.sql.toString(), List.copyOf(f.params), f.keyed);
  }

  /** @param required whether every match must meet {@code condition} (it is the filter, or in an {@code and} of one) */
  private void add(Condition condition, String field, int depth, boolean required) {
    if (depth > Limits.MAX_FILTER_DEPTH) {
      throw new InvalidInputException(field + " nests deeper than " + Limits.MAX_FILTER_DEPTH + " levels");
    }
    if (++conditions > Limits.MAX_FILTER_CONDITIONS) {
      throw new InvalidInputException(field + " has more than " + Limits.MAX_FILTER_CONDITIONS + " conditions");
    }
    if (condition instanceof Condition.Equals e) {
        String[] path = path(e.path(), field + ".equals.key");
        String json = json(e.json(), field + ".equals.value");
        // the containment test can use the GIN index; the equality makes it exact (arrays)
        Value value = value(path);
        String contains = nested(path, json);
        if (required && indexed.contains(contains)) {
          sql.append("(metadata @> " + SqlNames.literal(contains) + "::jsonb AND " + value.sql() + " = ?)");
          keyed = true;
        } else {
          sql.append("(metadata @> ? AND " + value.sql() + " = ?)");
          params.add(new Jsonb(contains));
        }
        params.add(value.param());
        params.add(new Jsonb(json));
    } else if (condition instanceof Condition.In in) {
        String[] path = path(in.path(), field + ".in.key");
        if (in.jsons().isEmpty()) {
          throw new InvalidInputException(field + ".in.values is empty");
        }
        if (in.jsons().size() > Limits.MAX_IN_VALUES) {
          throw new LimitExceededException(field + ".in.values has " + in.jsons().size() + " values, over the limit of "
              + Limits.MAX_IN_VALUES);
        }
        String[] values = new String[in.jsons().size()];
        for (int i = 0; i < values.length; i++) {
          values[i] = json(in.jsons().get(i), field + ".in.values[" + i + "]");
        }
        Value value = value(path);
        sql.append("(" + value.sql() + " = ANY (?))");
        params.add(value.param());
        params.add(new JsonbArray(values));
    } else if (condition instanceof Condition.Range r) {
      range(r, field + ".range");
    } else if (condition instanceof Condition.Exists e) {
        Value value = value(path(e.path(), field + ".exists"));
        sql.append("(" + value.sql() + " IS NOT NULL)");
        params.add(value.param());
    } else if (condition instanceof Condition.And a) {
      group(a.conditions(), " AND ", field + ".and", depth, required);
    } else if (condition instanceof Condition.Or o) {
      group(o.conditions(), " OR ", field + ".or", depth, false);
    } else if (condition instanceof Condition.Not n) {
        // a missing field makes the inner condition NULL; "not" of it should hold
        sql.append("(NOT COALESCE(");
        add(n.condition(), field + ".not", depth + 1, false);
        sql.append(", false))");
    } else {
      throw new IllegalArgumentException("unknown condition " + condition);
    }
  }

  private void group(List<Condition> parts, String op, String field, int depth, boolean required) {
    if (parts.isEmpty()) {
      throw new InvalidInputException(field + ".filters is empty; give at least one condition");
    }
    sql.append('(');
    for (int i = 0; i < parts.size(); i++) {
      if (i > 0) {
        sql.append(op);
      }
      add(parts.get(i), field + ".filters[" + i + "]", depth + 1, required);
    }
    sql.append(')');
  }

  private void range(Condition.Range r, String field) {
    String[] path = path(r.path(), field + ".key");
    if (r.lower() == null && r.upper() == null) {
      throw new InvalidInputException(field + " has no bound; set gt, gte, lt or lte");
    }
    boolean numeric = isNumeric(r.lower(), r.upper(), field);
    Value at = value(path);
    if (numeric) {
      // numbers compare as jsonb, which compares two numbers as numerics: one read of the value
      // per bound, where converting it to numeric first (through text) cost twice the time per row
      sql.append("(jsonb_typeof(").append(at.sql()).append(") = 'number'");
      params.add(at.param());
      bound(at, r.lower(), r.lowerInclusive() ? " >= " : " > ");
      bound(at, r.upper(), r.upperInclusive() ? " <= " : " < ");
      sql.append(')');
      return;
    }
    // strings compare by code point (COLLATE "C"), which jsonb's own order of strings does not
    String value = "(CASE WHEN jsonb_typeof(" + at.sql() + ") = 'string' THEN (" + at.sql() + " #>> '{}') END) COLLATE \"C\"";
    String param = "(?::text COLLATE \"C\")";
    sql.append('(');
    boolean first = true;
    if (r.lower() != null) {
      sql.append(value).append(r.lowerInclusive() ? " >= " : " > ").append(param);
      params.add(at.param());
      params.add(at.param());
      params.add(r.lower());
      first = false;
    }
    if (r.upper() != null) {
      if (!first) {
        sql.append(" AND ");
      }
      sql.append(value).append(r.upperInclusive() ? " <= " : " < ").append(param);
      params.add(at.param());
      params.add(at.param());
      params.add(r.upper());
    }
    sql.append(')');
  }

  /** {@code AND <value> <op> <bound as a jsonb number>}, when there is that bound. */
  private void bound(Value at, Object bound, String op) {
    if (bound == null) {
      return;
    }
    sql.append(" AND ").append(at.sql()).append(op).append('?');
    params.add(at.param());
    params.add(new Jsonb(((BigDecimal) bound).toString()));
  }

  private static boolean isNumeric(Object lower, Object upper, String field) {
    Boolean numeric = null;
    for (Object bound : new Object[] {lower, upper}) {
      if (bound == null) {
        continue;
      }
      boolean n;
      if (bound instanceof BigDecimal) {
        n = true;
      } else if (bound instanceof String s) {
        checkText(s, field);
        n = false;
      } else {
        throw new InvalidInputException(field + " bounds must be numbers or strings");
      }
      if (numeric != null && numeric != n) {
        throw new InvalidInputException(field + " mixes a number and a string bound; give bounds of one kind");
      }
      numeric = n;
    }
    return numeric;
  }

  /** A key path, validated: non-empty parts, bounded length, no NUL. */
  private static String[] path(List<String> path, String field) {
    if (path.isEmpty() || path.stream().anyMatch(String::isEmpty)) {
      throw new InvalidInputException(field + " is empty or has an empty part (keys are separated by '.')");
    }
    int chars = path.stream().mapToInt(String::length).sum() + path.size() - 1;
    if (chars > Limits.MAX_KEY_CHARS) {
      throw new LimitExceededException(field + " is " + chars + " characters, over the limit of " + Limits.MAX_KEY_CHARS);
    }
    for (String part : path) {
      checkText(part, field);
    }
    return path.toArray(String[]::new);
  }

  private static String json(String json, String field) {
    if (JsonText.hasNul(json)) {
      throw new InvalidInputException(field + " contains a NUL character, which PostgreSQL cannot store");
    }
    return json;
  }

  private static void checkText(String s, String field) {
    if (s.indexOf('\0') >= 0) {
      throw new InvalidInputException(field + " contains a NUL character");
    }
  }

  /**
   * {@code strict $."a"."b"} for path [a, b]: each key a quoted member name, with quotes,
   * backslashes and control characters escaped.
   */
  static String jsonPath(String[] path) {
    StringBuilder p = new StringBuilder("strict $");
    for (String key : path) {
      p.append(".\"");
      for (int i = 0; i < key.length(); i++) {
        char c = key.charAt(i);
        if (c == '"' || c == '\\') {
          p.append('\\').append(c);
        } else if (c < 0x20 || c == 0x7f) {
          p.append(String.format("\\u%04x", (int) c));
        } else {
          p.append(c);
        }
      }
      p.append('"');
    }
    return p.toString();
  }

  /**
   * The JSON object of an equality's containment test, {@code {"a":{"b":value}}} for path
   * [a, b] and the value's JSON text: equal values (as JSON text) give equal strings.
   */
  static String containment(List<String> path, String json) {
    return nested(path.toArray(String[]::new), json);
  }

  /** {"a":{"b":value}} for path [a, b]. */
  private static String nested(String[] path, String json) {
    JsonElement value = JsonParser.parseString(json);
    for (int i = path.length - 1; i >= 0; i--) {
      JsonObject o = new JsonObject();
      o.add(path[i], value);
      value = o;
    }
    return value.toString();
  }
}
