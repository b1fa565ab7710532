package io.jointspace.client;

import com.google.protobuf.Value;
import io.jointspace.api.v1.FieldValue;
import io.jointspace.api.v1.FieldValues;
import io.jointspace.api.v1.Filters;
import io.jointspace.api.v1.Range;
import java.util.ArrayList;
import java.util.List;

/**
 * A metadata filter for Search, built from conditions:
 * {@code Filter.eq("color", "blue").and(Filter.gte("n", 10))}. Keys may be dotted paths into
 * nested objects ({@code "info.author"}). Immutable.
 */
public final class Filter {
  private final io.jointspace.api.v1.Filter proto;

  private Filter(io.jointspace.api.v1.Filter proto) {
    this.proto = proto;
  }

  /** metadata[key] equals value (a String, Number, Boolean or null). */
  public static Filter eq(String key, Object value) {
    return new Filter(io.jointspace.api.v1.Filter.newBuilder()
        .setEquals(FieldValue.newBuilder().setKey(key).setValue(value(value))).build());
  }

  /** metadata[key] does not equal value (or is missing). */
  public static Filter ne(String key, Object value) {
    return eq(key, value).not();
  }

  /** metadata[key] equals one of values. */
  public static Filter in(String key, Object... values) {
    FieldValues.Builder b = FieldValues.newBuilder().setKey(key);
    for (Object v : values) {
      b.addValues(value(v));
    }
    return new Filter(io.jointspace.api.v1.Filter.newBuilder().setIn(b).build());
  }

  public static Filter gt(String key, Object bound) {
    return range(Range.newBuilder().setKey(key).setGt(value(bound)));
  }

  public static Filter gte(String key, Object bound) {
    return range(Range.newBuilder().setKey(key).setGte(value(bound)));
  }

  public static Filter lt(String key, Object bound) {
    return range(Range.newBuilder().setKey(key).setLt(value(bound)));
  }

  public static Filter lte(String key, Object bound) {
    return range(Range.newBuilder().setKey(key).setLte(value(bound)));
  }

  /** lower <= metadata[key] <= upper. */
  public static Filter between(String key, Object lower, Object upper) {
    return range(Range.newBuilder().setKey(key).setGte(value(lower)).setLte(value(upper)));
  }

  /** metadata has key (with any value, null included). */
  public static Filter exists(String key) {
    return new Filter(io.jointspace.api.v1.Filter.newBuilder().setExists(key).build());
  }

  /** Every one of {@code filters}. */
  public static Filter all(List<Filter> filters) {
    return join(filters, true);
  }

  /** At least one of {@code filters}. */
  public static Filter any(List<Filter> filters) {
    return join(filters, false);
  }

  public Filter and(Filter other) {
    return join(List.of(this, other), true);
  }

  public Filter or(Filter other) {
    return join(List.of(this, other), false);
  }

  public Filter not() {
    return new Filter(io.jointspace.api.v1.Filter.newBuilder().setNot(proto).build());
  }

  /** The filter as SearchRequest.filter takes it. */
  public io.jointspace.api.v1.Filter toProto() {
    return proto;
  }

  @Override
  public String toString() {
    return proto.toString();
  }

  private static Filter range(Range.Builder r) {
    return new Filter(io.jointspace.api.v1.Filter.newBuilder().setRange(r).build());
  }

  /** Nested and-of-ands (or or-of-ors) are flattened into one list. */
  private static Filter join(List<Filter> filters, boolean and) {
    List<io.jointspace.api.v1.Filter> parts = new ArrayList<>();
    for (Filter f : filters) {
      io.jointspace.api.v1.Filter p = f.proto;
      if (and && p.hasAnd()) {
        parts.addAll(p.getAnd().getFiltersList());
      } else if (!and && p.hasOr()) {
        parts.addAll(p.getOr().getFiltersList());
      } else {
        parts.add(p);
      }
    }
    Filters list = Filters.newBuilder().addAllFilters(parts).build();
    return new Filter(and ? io.jointspace.api.v1.Filter.newBuilder().setAnd(list).build()
        : io.jointspace.api.v1.Filter.newBuilder().setOr(list).build());
  }

  static Value value(Object v) {
    if (v == null) {
      return Value.newBuilder().setNullValueValue(0).build();
    } else if (v instanceof String s) {
      return Value.newBuilder().setStringValue(s).build();
    } else if (v instanceof Number n) {
      return Value.newBuilder().setNumberValue(n.doubleValue()).build();
    } else if (v instanceof Boolean b) {
      return Value.newBuilder().setBoolValue(b).build();
    }
    throw new IllegalArgumentException("a filter value is a String, Number, Boolean or null, not " + v.getClass());
  }
}
