package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.jointspace.api.v1.FieldValue;
import io.jointspace.api.v1.FieldValues;
import io.jointspace.api.v1.Filter;
import io.jointspace.api.v1.Filters;
import io.jointspace.api.v1.Range;
import io.jointspace.server.FuzzBudget;
import io.jointspace.server.FuzzTry;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.store.Condition;
import io.jointspace.server.store.FilterQueries;
import io.jointspace.server.store.LimitExceededException;
import io.jointspace.server.store.Limits;
import io.jointspace.server.store.TestDatabase;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Fuzzes the metadata filter from the wire to PostgreSQL: {@link FilterMapper} (proto to
 * {@link Condition}) and {@code FilterSql} (condition to SQL), on a real PostgreSQL. Nested
 * filters of every operator over keys and values with quotes, backslashes, NUL, unicode,
 * dotted paths and numbers at the edges of a double are either refused with
 * {@link InvalidInputException} or {@link LimitExceededException}, or run, and then select
 * exactly the rows of a fixed data set that the filter's documented meaning selects, evaluated
 * here in Java. Filters over the depth, condition, {@code in} value and key length limits are
 * refused before they are built, at a cost that does not grow with their size.
 */
@AddLifecycleHook(FuzzBudget.class)
class FilterFuzzTest {
  static final Duration TIME_LIMIT = Duration.ofSeconds(10);
  static Connection db;

  /** Rows of the data set: metadata as PostgreSQL stores it (jsonb) and as Java reads it. */
  static final Map<String, String> ROWS = new LinkedHashMap<>();
  static final Map<String, JsonObject> PARSED = new LinkedHashMap<>();

  static {
    String[] metadata = {
        "{}", "{\"a\": 1}", "{\"a\": 1.0}", "{\"a\": \"1\"}", "{\"a\": null}", "{\"a\": true}", "{\"a\": false}",
        "{\"a\": [1, 2]}", "{\"a\": [2, 1]}", "{\"a\": {\"b\": 1}}", "{\"a\": {\"b\": {\"c\": \"x\"}}}",
        "{\"a\": [{\"b\": 1}]}", "{\"a\": -3.5, \"b\": \"x\"}", "{\"a\": 1e300, \"b\": \"X\"}",
        "{\"a\": 123456789012345678901234567890, \"b\": \"\"}", "{\"a\": 0.1, \"b\": \"\u00e9\"}",
        "{\"a\": -0.0, \"b\": \"e\u0301\"}", "{\"a\": 9007199254740993, \"b\": \"\ud83d\ude00\"}", "{\"b\": \"\uffff\"}",
        "{\"b\": \"\\\\\\\"'\"}", "{\"b\": \"null\"}", "{\"b\": \"NULL\"}", "{\"NULL\": 1, \"null\": 2}",
        "{\"\u00e9\": \"a\", \"e\u0301\": \"b\"}", "{\"a b\": 1, \"'\": 2, \"\\\"\": 3, \"\\\\\": 4, \"{\": 5, \",\": 6}",
        "{\"0\": \"zero\", \"a\": [\"x\", \"y\", \"z\"]}", "{\"a\": {\"0\": \"p\"}}", "{\"a\": []}", "{\"a\": {}}",
        "{\"a\": [null]}", "{\"a\": \"\", \"b\": 0}", "{\"a\": \"abc\", \"b\": -1}", "{\"a\": \"abd\", \"b\": 1.5}",
        "{\"a\": \"ab\", \"b\": 2}", "{\"a\": \"\u00e9t\u00e9\", \"b\": 1e-7}",
        "{\"a\": [[1]], \"c\": {\"d\": {\"e\": {\"f\": {\"g\": 1}}}}}", "{\"a\": {\"b\": null}}",
        "{\"a\": {\"b\": [1, {\"c\": 2}]}}", "{\"c\": true, \"a\": 2}", "{\"a\": 1.5e3, \"b\": \"1.5e3\"}",
        "{\"a\": \"-1\"}", "{\"a\": -1}", "{\"a\": {\"b\": 1, \"c\": 2}}", "{\"a\": \"\ud83d\ude00x\"}",
        "{\"a\": \"\uffffx\"}", "{\"a\": \"a\\u0000b\"}".replace("\\u0000", "\\u0001"), "{\"a\": {\"b\": {\"c\": [\"x\"]}}}"};
    for (int i = 0; i < metadata.length; i++) {
      String id = String.format("r%02d", i);
      ROWS.put(id, metadata[i]);
      PARSED.put(id, JsonParser.parseString(metadata[i]).getAsJsonObject());
    }
  }

  @BeforeContainer
  static void load() throws SQLException {
    db = TestDatabase.connect(TestDatabase.fresh());
    try (Statement s = db.createStatement()) {
      s.execute("SET statement_timeout = '10s'");
      s.execute("CREATE TABLE items (id text PRIMARY KEY, metadata jsonb NOT NULL)");
    }
    try (PreparedStatement p = db.prepareStatement("INSERT INTO items VALUES (?, ?::jsonb)")) {
      for (Map.Entry<String, String> row : ROWS.entrySet()) {
        p.setString(1, row.getKey());
        p.setString(2, row.getValue());
        p.executeUpdate();
      }
    }
  }

  @AfterContainer
  static void close() throws SQLException {
    db.close();
  }

  // ------------------------------------------------------------ generators

  static final String[] KEYS = {"a", "b", "c", "a.b", "a.b.c", "a.0", "a.1", "a.-1", "a.b.1.c", "c.d.e.f.g", "0", "\u00e9",
      "e\u0301", "NULL", "null", "a b", "'", "\"", "\\", "{", ",", "a.b.c.0", "\ud83d\ude00", "\ud800", "a\nb", "$",
      "@", "*", "a[0]", "strict", "lax", "$.a"};
  /** Keys at the length limit and over it, and keys the filter must refuse: empty parts, NUL. */
  static final String[] EDGE_KEYS = {"x".repeat(Limits.MAX_KEY_CHARS), "x".repeat(Limits.MAX_KEY_CHARS + 1), "", ".", "a.",
      ".a", "a..b", "k\u0000"};

  static Value num(double d) {
    return Value.newBuilder().setNumberValue(d).build();
  }

  static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  static Value list(Value... values) {
    return Value.newBuilder().setListValue(ListValue.newBuilder().addAllValues(List.of(values))).build();
  }

  static Value struct(String key, Value value) {
    return Value.newBuilder().setStructValue(Struct.newBuilder().putFields(key, value)).build();
  }

  static final Value NULL = Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();

  static final List<Value> VALUES = List.of(NULL, Value.newBuilder().setBoolValue(true).build(),
      Value.newBuilder().setBoolValue(false).build(), num(0), num(-0.0), num(1), num(1.5), num(-3.5), num(1e300), num(0.1),
      num(9007199254740993d), num(2), num(1e-7), num(1500), num(-1), num(Double.MAX_VALUE), num(Double.MIN_VALUE),
      num(Double.NaN), num(Double.POSITIVE_INFINITY), num(123456789012345678901234567890d),
      str(""), str("1"), str("x"), str("X"), str("\u00e9"), str("e\u0301"), str("\ud83d\ude00"), str("\\\"'"), str("null"),
      str("NULL"), str("abc"), str("ab"), str("abd"), str("a"), str("b"), str("p"), str("zero"), str("\uffff"),
      str("1.5e3"), str("-1"), str("\u0000"), str("a\u0000b"), str("\\u0000"), str("\u00e9t\u00e9"), str("\ud83d\ude00x"),
      list(num(1), num(2)), list(num(2), num(1)), list(), list(NULL), list(list(num(1))),
      list(num(1), struct("c", num(2))), struct("b", num(1)), struct("b", struct("c", str("x"))),
      Value.newBuilder().setStructValue(Struct.getDefaultInstance()).build(), struct("0", str("p")), struct("b", NULL));

  @Provide
  Arbitrary<String> keys() {
    return Arbitraries.frequencyOf(Tuple.of(12, Arbitraries.of(KEYS)), Tuple.of(1, Arbitraries.of(EDGE_KEYS)),
        Tuple.of(1, Arbitraries.strings().all().ofMinLength(1).ofMaxLength(6)),
        Tuple.of(2, Arbitraries.of(KEYS).list().ofMinSize(2).ofMaxSize(3).map(l -> String.join(".", l))));
  }

  Arbitrary<Value> values() {
    Arbitrary<Value> randomNumber = Arbitraries.doubles().map(FilterFuzzTest::num);
    Arbitrary<Value> randomString = Arbitraries.strings().all().ofMaxLength(8).map(FilterFuzzTest::str);
    Arbitrary<Value> leaf = Arbitraries.frequencyOf(Tuple.of(24, Arbitraries.of(VALUES)), Tuple.of(2, randomNumber),
        Tuple.of(2, randomString), Tuple.of(1, Arbitraries.just(Value.getDefaultInstance()).withoutEdgeCases()));
    Arbitrary<Value> nested = Arbitraries.frequencyOf(Tuple.of(4, leaf),
        Tuple.of(1, leaf.list().ofMaxSize(3).map(l -> list(l.toArray(Value[]::new)))),
        Tuple.of(1, Combinators.combine(keys(), leaf).as(FilterFuzzTest::struct)));
    return nested;
  }

  Arbitrary<Filter> leaves() {
    // without edge cases: jqwik would mix "true" into far more tries than one in 30
    Arbitrary<Boolean> unsetValue = Arbitraries.frequency(Tuple.of(1, true), Tuple.of(29, false)).withoutEdgeCases();
    Arbitrary<Filter> equals = Combinators.combine(keys(), values(), unsetValue)
        .as((k, v, unset) -> Filter.newBuilder().setEquals(unset ? FieldValue.newBuilder().setKey(k)
            : FieldValue.newBuilder().setKey(k).setValue(v)).build());
    Arbitrary<Filter> in = Combinators.combine(keys(), values().list().ofMinSize(1).ofMaxSize(4)
        .injectDuplicates(0.2))
        .as((k, vs) -> Filter.newBuilder().setIn(FieldValues.newBuilder().setKey(k).addAllValues(vs)).build());
    Arbitrary<Value> bound = Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.of(num(0), num(1), num(1.5), num(-1), num(1e300), num(-3.5), num(1e-7), num(2))),
        Tuple.of(4, Arbitraries.of(str("a"), str("ab"), str("abd"), str("\uffff"), str("\ud83d\ude00"), str(""),
            str("\u00e9"), str("x"), str("1"), str("-1"))),
        Tuple.of(1, values()));
    Arbitrary<Value> maybe = Arbitraries.frequencyOf(Tuple.of(1, bound), Tuple.of(2, Arbitraries.just(null)));
    Arbitrary<Filter> range = Combinators.combine(keys(), maybe, maybe, maybe, maybe).as((k, gt, gte, lt, lte) -> {
      Range.Builder r = Range.newBuilder().setKey(k);
      if (gt != null) {
        r.setGt(gt);
      }
      if (gte != null && (gt == null || gte.hashCode() % 13 == 0)) {
        r.setGte(gte);
      }
      if (lt != null) {
        r.setLt(lt);
      }
      if (lte != null && (lt == null || lte.hashCode() % 13 == 0)) {
        r.setLte(lte);
      }
      return Filter.newBuilder().setRange(r).build();
    });
    Arbitrary<Filter> exists = keys().map(k -> Filter.newBuilder().setExists(k).build());
    return Arbitraries.frequencyOf(Tuple.of(6, equals), Tuple.of(4, in), Tuple.of(6, range), Tuple.of(4, exists),
        Tuple.of(1, Arbitraries.just(Filter.getDefaultInstance())));
  }

  Arbitrary<Filter> filters(int depth) {
    if (depth == 0) {
      return leaves();
    }
    Arbitrary<List<Filter>> children = Arbitraries.frequencyOf(
        Tuple.of(12, Arbitraries.lazy(() -> filters(depth - 1)).list().ofMinSize(1).ofMaxSize(4)),
        Tuple.of(1, Arbitraries.just(List.of())));
    return Arbitraries.frequencyOf(Tuple.of(4, leaves()),
        Tuple.of(1, children.map(l -> Filter.newBuilder().setAnd(Filters.newBuilder().addAllFilters(l)).build())),
        Tuple.of(1, children.map(l -> Filter.newBuilder().setOr(Filters.newBuilder().addAllFilters(l)).build())),
        Tuple.of(1, Arbitraries.lazy(() -> filters(depth - 1)).map(f -> Filter.newBuilder().setNot(f).build())));
  }

  @Provide
  Arbitrary<Filter> wireFilters() {
    // as the server receives them: serialized and parsed (lone surrogates become '?', as on the wire)
    return filters(4).map(f -> {
      try {
        return Filter.parseFrom(f.toByteArray());
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  // ------------------------------------------------------------ the property

  record Run(Condition condition, List<String> ids) {}

  /** Without jqwik's edge cases: the pools above hold the edge values, and its own (NUL, empty) would crowd them out. */
  @Property(tries = 700, edgeCases = EdgeCasesMode.NONE)
  void anyFilter_isRefused_orSelectsWhatItMeans(@ForAll("wireFilters") Filter filter) {
    FuzzTry.Outcome<Run> out = FuzzTry.run(TIME_LIMIT, () -> {
      Condition c = FilterMapper.condition(filter, "filter");
      return new Run(c, FilterQueries.matching(db, "items", c));
    });
    Run run = out.valueOrOnly(InvalidInputException.class, LimitExceededException.class);
    if (run == null) {
      Statistics.label("outcome").collect("refused");
      String why = out.error().getMessage();
      Statistics.label("refused because").collect(why.replaceAll("[0-9]+", "N")
          .replaceAll("\\[N\\]", ""));
      return;
    }
    List<String> expected = new ArrayList<>();
    for (Map.Entry<String, JsonObject> row : PARSED.entrySet()) {
      if (matches(run.condition(), row.getValue())) {
        expected.add(row.getKey());
      }
    }
    Statistics.label("outcome").collect(expected.isEmpty() ? "ran, no row" : "ran, some rows");
    assertThat(run.ids()).as("rows PostgreSQL selected for %s", run.condition()).isEqualTo(expected);
  }

  // ------------------------------------------------------------ filters that must run

  /** Values a filter may hold: no NUL, finite numbers; backslashes that only look like a NUL escape among them. */
  static final List<Value> GOOD_VALUES = java.util.stream.Stream.concat(VALUES.stream().filter(v -> !(v.hasNumberValue()
          && !Double.isFinite(v.getNumberValue())) && !v.toString().contains("\\000")),
      java.util.stream.Stream.of(str("\\u0000"), str("a\\\\u0000"), str("\\\\\\u0000x"), struct("\\u0000", num(1)))).toList();

  Arbitrary<Filter> goodLeaves() {
    Arbitrary<String> key = Arbitraries.of(KEYS);
    Arbitrary<Value> value = Arbitraries.of(GOOD_VALUES);
    Arbitrary<Filter> equals = Combinators.combine(key, value)
        .as((k, v) -> Filter.newBuilder().setEquals(FieldValue.newBuilder().setKey(k).setValue(v)).build());
    Arbitrary<Filter> in = Combinators.combine(key, value.list().ofMinSize(1).ofMaxSize(4))
        .as((k, vs) -> Filter.newBuilder().setIn(FieldValues.newBuilder().setKey(k).addAllValues(vs)).build());
    Arbitrary<Value> number = Arbitraries.of(num(0), num(1), num(1.5), num(-1), num(1e300), num(-3.5), num(1e-7), num(2),
        num(-0.0), num(Double.MAX_VALUE), num(-Double.MAX_VALUE), num(Double.MIN_VALUE));
    Arbitrary<Value> string = Arbitraries.of(str("a"), str("ab"), str("abd"), str("\uffff"), str("\ud83d\ude00"), str(""),
        str("\u00e9"), str("x"), str("1"), str("\\u0000"));
    Arbitrary<Filter> range = Combinators.combine(key, Arbitraries.of(true, false), Arbitraries.integers().between(1, 3),
        number, number, string, string, Arbitraries.of(true, false)).as((k, numeric, which, n1, n2, s1, s2, inclusive) -> {
          Range.Builder r = Range.newBuilder().setKey(k);
          Value low = numeric ? n1 : s1;
          Value high = numeric ? n2 : s2;
          if ((which & 1) != 0) {
            r = inclusive ? r.setGte(low) : r.setGt(low);
          }
          if ((which & 2) != 0) {
            r = inclusive ? r.setLt(high) : r.setLte(high);
          }
          return Filter.newBuilder().setRange(r).build();
        });
    Arbitrary<Filter> exists = key.map(k -> Filter.newBuilder().setExists(k).build());
    return Arbitraries.oneOf(equals, in, range, exists);
  }

  /** Within the limits: at most 3 levels of at most 4 conditions each (85 in all). */
  Arbitrary<Filter> goodFilters(int depth) {
    if (depth == 0) {
      return goodLeaves();
    }
    Arbitrary<List<Filter>> children = Arbitraries.lazy(() -> goodFilters(depth - 1)).list().ofMinSize(1).ofMaxSize(4);
    return Arbitraries.frequencyOf(Tuple.of(3, goodLeaves()),
        Tuple.of(1, children.map(l -> Filter.newBuilder().setAnd(Filters.newBuilder().addAllFilters(l)).build())),
        Tuple.of(1, children.map(l -> Filter.newBuilder().setOr(Filters.newBuilder().addAllFilters(l)).build())),
        Tuple.of(1, Arbitraries.lazy(() -> goodFilters(depth - 1)).map(f -> Filter.newBuilder().setNot(f).build())));
  }

  @Provide
  Arbitrary<Filter> goodWireFilters() {
    return goodFilters(3).map(f -> {
      try {
        return Filter.parseFrom(f.toByteArray());
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /** A filter the documentation allows is never refused: it runs and selects what it means. */
  @Property(tries = 300)
  void filtersWithinTheRules_alwaysRun(@ForAll("goodWireFilters") Filter filter) {
    FuzzTry.Outcome<Run> out = FuzzTry.run(TIME_LIMIT, () -> {
      Condition c = FilterMapper.condition(filter, "filter");
      return new Run(c, FilterQueries.matching(db, "items", c));
    });
    Run run = out.valueOrOnly();
    List<String> expected = new ArrayList<>();
    for (Map.Entry<String, JsonObject> row : PARSED.entrySet()) {
      if (matches(run.condition(), row.getValue())) {
        expected.add(row.getKey());
      }
    }
    Statistics.label("outcome").collect(expected.isEmpty() ? "no row" : "some rows");
    assertThat(run.ids()).as("rows PostgreSQL selected for %s", run.condition()).isEqualTo(expected);
  }

  // ------------------------------------------------------------ over the limits

  /** A chain of {@code depth} not / and / or around an exists. */
  static Filter deep(int depth, int kind) {
    Filter f = Filter.newBuilder().setExists("a").build();
    for (int i = 1; i < depth; i++) {
      Filter.Builder b = Filter.newBuilder();
      f = switch ((kind + i) % 3) {
        case 0 -> b.setNot(f).build();
        case 1 -> b.setAnd(Filters.newBuilder().addFilters(f)).build();
        default -> b.setOr(Filters.newBuilder().addFilters(f)).build();
      };
    }
    return f;
  }

  /**
   * A filter over one limit, as what it is and how large: built only in the property, so that
   * the generator's samples stay small (a proto of depth 5000 is too deep to hash).
   */
  record Oversized(String limit, int size, int variant) {
    Filter build() {
      return switch (limit) {
        case "depth" -> deep(size, variant);
        case "conditions" -> {
          Filters.Builder all = Filters.newBuilder();
          for (int i = 0; i < size; i++) {
            all.addFilters(Filter.newBuilder().setExists("k" + i));
          }
          yield variant == 0 ? Filter.newBuilder().setOr(all).build() : Filter.newBuilder().setAnd(all).build();
        }
        case "in values" -> {
          FieldValues.Builder in = FieldValues.newBuilder().setKey("a");
          for (int i = 0; i < size; i++) {
            in.addValues(variant == 0 ? str("value " + i) : num(i));
          }
          yield Filter.newBuilder().setIn(in).build();
        }
        default -> {
          String unit = new String[] {"x", "a.", ".", "\u00e9"}[variant];
          String key = unit.repeat(size / unit.length() + 1);
          yield Filter.newBuilder().setEquals(FieldValue.newBuilder().setKey(key).setValue(num(1))).build();
        }
      };
    }
  }

  @Provide
  Arbitrary<Oversized> oversized() {
    return Arbitraries.oneOf(
        Combinators.combine(Arbitraries.integers().between(Limits.MAX_FILTER_DEPTH + 1, 5_000),
            Arbitraries.integers().between(0, 2)).as((n, v) -> new Oversized("depth", n, v)),
        Combinators.combine(Arbitraries.integers().between(Limits.MAX_FILTER_CONDITIONS, 100_000),
            Arbitraries.integers().between(0, 1)).as((n, v) -> new Oversized("conditions", n, v)),
        Combinators.combine(Arbitraries.integers().between(Limits.MAX_IN_VALUES + 1, 100_000),
            Arbitraries.integers().between(0, 1)).as((n, v) -> new Oversized("in values", n, v)),
        Combinators.combine(Arbitraries.integers().between(Limits.MAX_KEY_CHARS + 1, 2_000_000),
            Arbitraries.integers().between(0, 3)).as((n, v) -> new Oversized("key chars", n, v)));
  }

  /**
   * Heap one refusal may take: at most what a filter at the limits costs to compile (256
   * conditions of a few hundred bytes each), never what the refused filter would.
   */
  static final long REFUSAL_BOUND = 1 << 20;

  @Property(tries = 40)
  void filtersOverTheLimits_areRefused_beforeTheyAreBuilt(@ForAll("oversized") Oversized oversized) {
    Filter filter = oversized.build();
    FuzzTry.Outcome<String> out = FuzzTry.run(TIME_LIMIT,
        () -> FilterQueries.sql(FilterMapper.condition(filter, "filter")));
    assertThat(out.error()).as("a filter over a limit").isNotNull();
    out.valueOrOnly(InvalidInputException.class, LimitExceededException.class);
    out.allocatedAtMost(REFUSAL_BOUND, "refused before it is built");
  }

  /** Conditions made in the server (not from a proto) meet the same limits in the compiler, without recursion. */
  @Property(tries = 20)
  void conditionsOverTheLimits_areRefusedByTheCompiler(
      @ForAll @net.jqwik.api.constraints.IntRange(min = Limits.MAX_FILTER_DEPTH + 1, max = 200_000) int size,
      @ForAll boolean deep) {
    Condition c = new Condition.Exists(List.of("a"));
    if (deep) {
      for (int i = 1; i < size; i++) {
        c = i % 2 == 0 ? new Condition.Not(c) : new Condition.And(List.of(c));
      }
    } else {
      List<Condition> all = new ArrayList<>();
      for (int i = 0; i < size + Limits.MAX_FILTER_CONDITIONS; i++) {
        all.add(new Condition.Exists(List.of("k" + i)));
      }
      c = new Condition.Or(all);
    }
    Condition condition = c;
    FuzzTry.Outcome<String> out = FuzzTry.run(TIME_LIMIT, () -> FilterQueries.sql(condition));
    assertThat(out.error()).as("a condition over a limit").isNotNull();
    out.valueOrOnly(InvalidInputException.class);
    out.allocatedAtMost(REFUSAL_BOUND, "refused before it is compiled");
  }

  // ------------------------------------------------------------ the meaning, in Java

  /** The value at the path of nested object fields, or null when a field is missing or a step is not an object. */
  static JsonElement at(JsonObject metadata, List<String> path) {
    JsonElement e = metadata;
    for (String key : path) {
      if (!e.isJsonObject() || !e.getAsJsonObject().has(key)) {
        return null;
      }
      e = e.getAsJsonObject().get(key);
    }
    return e;
  }

  static boolean matches(Condition c, JsonObject m) {
    if (c instanceof Condition.Equals e) {
      JsonElement v = at(m, e.path());
      return v != null && same(v, JsonParser.parseString(e.json()));
    } else if (c instanceof Condition.In in) {
      JsonElement v = at(m, in.path());
      return v != null && in.jsons().stream().anyMatch(j -> same(v, JsonParser.parseString(j)));
    } else if (c instanceof Condition.Range r) {
      JsonElement v = at(m, r.path());
      if (v == null || !v.isJsonPrimitive()) {
        return false;
      }
      boolean numeric = r.lower() instanceof BigDecimal || r.upper() instanceof BigDecimal;
      int lower = 0;
      int upper = 0;
      if (numeric) {
        if (!v.getAsJsonPrimitive().isNumber()) {
          return false;
        }
        BigDecimal d = v.getAsBigDecimal();
        lower = r.lower() == null ? 1 : d.compareTo((BigDecimal) r.lower());
        upper = r.upper() == null ? -1 : d.compareTo((BigDecimal) r.upper());
      } else {
        if (!v.getAsJsonPrimitive().isString()) {
          return false;
        }
        String s = v.getAsString();
        lower = r.lower() == null ? 1 : codePointOrder(s, (String) r.lower());
        upper = r.upper() == null ? -1 : codePointOrder(s, (String) r.upper());
      }
      return (r.lowerInclusive() ? lower >= 0 : lower > 0) && (r.upperInclusive() ? upper <= 0 : upper < 0);
    } else if (c instanceof Condition.Exists e) {
      return at(m, e.path()) != null;
    } else if (c instanceof Condition.And a) {
      return a.conditions().stream().allMatch(x -> matches(x, m));
    } else if (c instanceof Condition.Or o) {
      return o.conditions().stream().anyMatch(x -> matches(x, m));
    } else if (c instanceof Condition.Not n) {
      return !matches(n.condition(), m);
    }
    throw new IllegalArgumentException(c.toString());
  }

  /** Byte order of UTF-8 (PostgreSQL's "C" collation): code point order, not UTF-16's. */
  static int codePointOrder(String a, String b) {
    int[] x = a.codePoints().toArray();
    int[] y = b.codePoints().toArray();
    return java.util.Arrays.compare(x, y);
  }

  /** jsonb equality: numbers by value (3 = 3.0), arrays in order, objects by their key sets. */
  static boolean same(JsonElement a, JsonElement b) {
    if (a.isJsonNull() || b.isJsonNull()) {
      return a.isJsonNull() && b.isJsonNull();
    }
    if (a.isJsonPrimitive() && b.isJsonPrimitive()) {
      var p = a.getAsJsonPrimitive();
      var q = b.getAsJsonPrimitive();
      if (p.isNumber() && q.isNumber()) {
        return p.getAsBigDecimal().compareTo(q.getAsBigDecimal()) == 0;
      }
      if (p.isString() && q.isString() || p.isBoolean() && q.isBoolean()) {
        return p.equals(q);
      }
      return false;
    }
    if (a.isJsonArray() && b.isJsonArray()) {
      var x = a.getAsJsonArray();
      var y = b.getAsJsonArray();
      if (x.size() != y.size()) {
        return false;
      }
      for (int i = 0; i < x.size(); i++) {
        if (!same(x.get(i), y.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (a.isJsonObject() && b.isJsonObject()) {
      Set<String> keys = new TreeSet<>(a.getAsJsonObject().keySet());
      if (!keys.equals(new TreeSet<>(b.getAsJsonObject().keySet()))) {
        return false;
      }
      return keys.stream().allMatch(k -> same(a.getAsJsonObject().get(k), b.getAsJsonObject().get(k)));
    }
    return false;
  }
}
