package io.jointspace.server.store;

import java.math.BigDecimal;
import java.util.List;
import javax.annotation.Nullable;

/**
 * A condition on item metadata. {@code path} is the list of nested keys ("a.b" is
 * {@code [a, b]}); values are JSON text. {@link FilterSql} turns a condition into SQL with
 * every key and value bound as a parameter.
 */
public sealed interface Condition {

  /** metadata at path equals the JSON value. */
  record Equals(List<String> path, String json) implements Condition {}

  /** metadata at path equals one of the JSON values. */
  record In(List<String> path, List<String> jsons) implements Condition {}

  /**
   * A numeric or string range; bounds are {@link BigDecimal} or {@link String}, all of one
   * kind; null means unbounded.
   */
  record Range(List<String> path, @Nullable Object lower, boolean lowerInclusive, @Nullable Object upper,
      boolean upperInclusive) implements Condition {}

  /** metadata has the path (any value, JSON null included). */
  record Exists(List<String> path) implements Condition {}

  record And(List<Condition> conditions) implements Condition {}

  record Or(List<Condition> conditions) implements Condition {}

  record Not(Condition condition) implements Condition {}
}
