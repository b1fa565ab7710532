package io.jointspace.server.api;

import com.google.protobuf.Value;
import io.jointspace.api.v1.Filter;
import io.jointspace.api.v1.Range;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.store.Condition;
import io.jointspace.server.store.LimitExceededException;
import io.jointspace.server.store.Limits;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** {@code jointspace.v1.Filter} to the store's {@link Condition}. */
final class FilterMapper {
  private FilterMapper() {}

  /**
   * @throws InvalidInputException naming {@code field} for a filter over {@link Limits#MAX_FILTER_DEPTH}
   *     or {@link Limits#MAX_FILTER_CONDITIONS}, before any of it is mapped
   * @throws LimitExceededException for an {@code in} over {@link Limits#MAX_IN_VALUES} values or a
   *     key over {@link Limits#MAX_KEY_CHARS}, before its values are mapped or the key is split
   */
  static Condition condition(Filter f, String field) {
    checkShape(f, field);
    return condition(f, field, 1);
  }

  /**
   * Counts the conditions and measures the nesting with an explicit stack, stopping at the
   * first limit passed: a hostile filter costs at most the limits' worth of work, and no
   * recursion that its depth could overflow.
   */
  static void checkShape(Filter root, String field) {
    java.util.ArrayDeque<Filter> filters = new java.util.ArrayDeque<>();
    java.util.ArrayDeque<Integer> depths = new java.util.ArrayDeque<>();
    filters.push(root);
    depths.push(1);
    int conditions = 0;
    while (!filters.isEmpty()) {
      Filter f = filters.pop();
      int depth = depths.pop();
      if (depth > Limits.MAX_FILTER_DEPTH) {
        throw new InvalidInputException(field + " nests deeper than " + Limits.MAX_FILTER_DEPTH
            + " levels (and, or and not count one level each)");
      }
      if (++conditions > Limits.MAX_FILTER_CONDITIONS) {
        throw new InvalidInputException(field + " has more than " + Limits.MAX_FILTER_CONDITIONS
            + " conditions (and, or and not count one each)");
      }
      List<Filter> children = switch (f.getConditionCase()) {
        case AND -> f.getAnd().getFiltersList();
        case OR -> f.getOr().getFiltersList();
        case NOT -> List.of(f.getNot());
        default -> List.of();
      };
      if (conditions + filters.size() + children.size() > Limits.MAX_FILTER_CONDITIONS) {
        throw new InvalidInputException(field + " has more than " + Limits.MAX_FILTER_CONDITIONS
            + " conditions (and, or and not count one each)");
      }
      for (Filter child : children) {
        filters.push(child);
        depths.push(depth + 1);
      }
    }
  }

  private static Condition condition(Filter f, String field, int depth) {
    return switch (f.getConditionCase()) {
      case EQUALS -> new Condition.Equals(path(f.getEquals().getKey(), field + ".equals.key"),
          value(f.getEquals().getValue(), f.getEquals().hasValue(), field + ".equals.value"));
      case IN -> {
        if (f.getIn().getValuesCount() > Limits.MAX_IN_VALUES) {
          throw new LimitExceededException(field + ".in.values has " + f.getIn().getValuesCount()
              + " values, over the limit of " + Limits.MAX_IN_VALUES);
        }
        List<String> values = new ArrayList<>(f.getIn().getValuesCount());
        for (int i = 0; i < f.getIn().getValuesCount(); i++) {
          values.add(value(f.getIn().getValues(i), true, field + ".in.values[" + i + "]"));
        }
        yield new Condition.In(path(f.getIn().getKey(), field + ".in.key"), values);
      }
      case RANGE -> range(f.getRange(), field + ".range");
      case EXISTS -> new Condition.Exists(path(f.getExists(), field + ".exists"));
      case AND -> new Condition.And(children(f.getAnd().getFiltersList(), field + ".and", depth));
      case OR -> new Condition.Or(children(f.getOr().getFiltersList(), field + ".or", depth));
      case NOT -> new Condition.Not(condition(f.getNot(), field + ".not", depth + 1));
      case CONDITION_NOT_SET -> throw new InvalidInputException(field
          + " has no condition; set equals, in, range, exists, and, or or not");
    };
  }

  private static List<Condition> children(List<Filter> filters, String field, int depth) {
    List<Condition> out = new ArrayList<>(filters.size());
    for (int i = 0; i < filters.size(); i++) {
      out.add(condition(filters.get(i), field + ".filters[" + i + "]", depth + 1));
    }
    return out;
  }

  private static Condition range(Range r, String field) {
    if (r.hasGt() && r.hasGte() || r.hasLt() && r.hasLte()) {
      throw new InvalidInputException(field + " sets both gt and gte, or both lt and lte; set one of each");
    }
    Object lower = r.hasGt() ? bound(r.getGt(), field + ".gt") : r.hasGte() ? bound(r.getGte(), field + ".gte") : null;
    Object upper = r.hasLt() ? bound(r.getLt(), field + ".lt") : r.hasLte() ? bound(r.getLte(), field + ".lte") : null;
    return new Condition.Range(path(r.getKey(), field + ".key"), lower, r.hasGte(), upper, r.hasLte());
  }

  private static Object bound(Value v, String field) {
    return switch (v.getKindCase()) {
      case NUMBER_VALUE -> {
        if (!Double.isFinite(v.getNumberValue())) {
          throw new InvalidInputException(field + " must be a finite number");
        }
        yield BigDecimal.valueOf(v.getNumberValue());
      }
      case STRING_VALUE -> v.getStringValue();
      default -> throw new InvalidInputException(field + " must be a number or a string");
    };
  }

  private static String value(Value v, boolean present, String field) {
    if (!present || v.getKindCase() == Value.KindCase.KIND_NOT_SET) {
      throw new InvalidInputException(field + " is not set");
    }
    return Json.of(v, field);
  }

  private static List<String> path(String key, String field) {
    if (key.isEmpty()) {
      throw new InvalidInputException(field + " is empty");
    }
    if (key.length() > Limits.MAX_KEY_CHARS) {
      throw new LimitExceededException(field + " is " + key.length() + " characters, over the limit of "
          + Limits.MAX_KEY_CHARS);
    }
    return Arrays.asList(key.split("\\.", -1));
  }
}
