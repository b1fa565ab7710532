package io.jointspace.server.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.ByteString;
import io.jointspace.tensorflow.example.Example;
import io.jointspace.tensorflow.example.Feature;
import io.jointspace.tensorflow.example.Features;
import io.jointspace.tensorflow.framework.DataType;
import io.jointspace.tensorflow.framework.TensorProto;
import io.jointspace.tensorflow.framework.TensorShapeProto;
import io.jointspace.tensorflow.serving.ClassificationResult;
import io.jointspace.tensorflow.serving.Classifications;
import io.jointspace.tensorflow.serving.ExampleList;
import io.jointspace.tensorflow.serving.ExampleListWithContext;
import io.jointspace.tensorflow.serving.Input;
import io.jointspace.tensorflow.serving.RegressionResult;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * TF Serving's REST JSON for tensors: the {@code instances} (row) and {@code inputs}
 * (columnar) forms of a {@code :predict} body to TensorProtos typed by the signature, and
 * TensorProtos back to {@code predictions} / {@code outputs}. The rules are TF Serving's:
 * numbers are typed by the signature's input dtype; {@code {"b64": ...}} is a binary string;
 * {@code NaN}, {@code Infinity} and {@code -Infinity} are accepted and written for floats; an
 * output whose alias ends in {@code _bytes} is written as {@code {"b64": ...}}; in the row
 * form, every input and every output shares its first dimension.
 */
final class TfServingJson {
  private TfServingJson() {}

  /** The key of a binary value's object. */
  static final String B64 = "b64";
  /** Aliases ending with this hold binary strings, written base64 (TF Serving's convention). */
  static final String BYTES_SUFFIX = "_bytes";

  /** How the tensors of a predict body were given, and so how its reply is shaped. */
  enum Format {
    /** {@code instances}: a list of rows; the reply is {@code predictions}. */
    ROW,
    /** {@code inputs}: whole tensors; the reply is {@code outputs}. */
    COLUMNAR
  }

  /** The tensors of a predict body, by input alias. */
  record Predict(Format format, Map<String, TensorProto> inputs) {}

  /**
   * {@code text} as a JSON object, accepting {@code NaN} and {@code Infinity} as TF Serving
   * does.
   *
   * @throws HttpError when it is not JSON or not an object
   */
  static JsonObject parseObject(String text) {
    JsonElement parsed;
    try {
      parsed = JsonParser.parseString(text); // lenient: NaN, Infinity
    } catch (JsonParseException e) {
      throw HttpError.badRequest("the body is not valid JSON: " + firstLine(e.getMessage()));
    }
    if (!parsed.isJsonObject()) {
      throw HttpError.badRequest("the body must be a JSON object, not " + kind(parsed));
    }
    return parsed.getAsJsonObject();
  }

  /** The body's {@code signature_name}, or "" for the default signature. */
  static String signatureName(JsonObject body) {
    JsonElement name = body.get("signature_name");
    if (name == null || name.isJsonNull()) {
      return "";
    }
    if (!name.isJsonPrimitive() || !name.getAsJsonPrimitive().isString()) {
      throw HttpError.badRequest("signature_name must be a string, not " + kind(name));
    }
    return name.getAsString();
  }

  /**
   * The input tensors of a {@code :predict} body for a signature whose inputs have
   * {@code inputTypes} (alias to dtype).
   *
   * @throws HttpError naming the key, input or element that is wrong
   */
  static Predict predict(JsonObject body, Map<String, DataType> inputTypes) {
    JsonElement instances = body.get("instances");
    JsonElement inputs = body.get("inputs");
    if (instances != null && inputs != null) {
      throw HttpError.badRequest("give either 'instances' (row form) or 'inputs' (columnar form), not both");
    }
    if (instances == null && inputs == null) {
      throw HttpError.badRequest("missing 'inputs' or 'instances' key");
    }
    Map<String, TensorProto> tensors = new LinkedHashMap<>();
    if (instances != null) {
      if (!instances.isJsonArray()) {
        throw HttpError.badRequest("'instances' must be a list of rows, not " + kind(instances));
      }
      JsonArray rows = instances.getAsJsonArray();
      if (rows.isEmpty()) {
        throw HttpError.badRequest("'instances' is an empty list");
      }
      if (isNamed(rows.get(0))) {
        Map<String, JsonArray> columns = columns(rows, inputTypes);
        columns.forEach((alias, column) -> tensors.put(alias,
            tensor(column, inputTypes.get(alias), "instances[]." + alias)));
      } else {
        String alias = onlyInput(inputTypes, "instances");
        tensors.put(alias, tensor(rows, inputTypes.get(alias), "instances"));
      }
      return new Predict(Format.ROW, tensors);
    }
    if (isNamed(inputs)) {
      for (Map.Entry<String, JsonElement> e : inputs.getAsJsonObject().entrySet()) {
        knownInput(e.getKey(), inputTypes, "inputs");
        tensors.put(e.getKey(), tensor(e.getValue(), inputTypes.get(e.getKey()), "inputs." + e.getKey()));
      }
    } else {
      String alias = onlyInput(inputTypes, "inputs");
      tensors.put(alias, tensor(inputs, inputTypes.get(alias), "inputs"));
    }
    return new Predict(Format.COLUMNAR, tensors);
  }

  /** The reply to a {@code :predict} call whose body had {@code format}. */
  static JsonObject reply(Map<String, TensorProto> outputs, Format format) {
    if (outputs.isEmpty()) {
      throw HttpError.badRequest("the signature returned no outputs");
    }
    Map<String, JsonElement> values = new LinkedHashMap<>();
    outputs.forEach((alias, proto) -> values.put(alias, json(proto, alias.endsWith(BYTES_SUFFIX))));
    JsonObject reply = new JsonObject();
    if (format == Format.COLUMNAR) {
      reply.add("outputs", values.size() == 1 ? values.values().iterator().next() : object(values));
      return reply;
    }
    int rows = -1;
    for (Map.Entry<String, TensorProto> e : outputs.entrySet()) {
      TensorShapeProto shape = e.getValue().getTensorShape();
      if (shape.getDimCount() == 0) {
        throw HttpError.badRequest("output '" + e.getKey() + "' is a scalar, which the row form ('instances')"
            + " cannot return: send 'inputs' (columnar form) instead");
      }
      long n = shape.getDim(0).getSize();
      if (rows >= 0 && n != rows) {
        throw HttpError.badRequest("output '" + e.getKey() + "' has " + n + " rows where another has " + rows
            + ": the row form ('instances') needs one first dimension; send 'inputs' (columnar form) instead");
      }
      rows = (int) n;
    }
    JsonArray predictions = new JsonArray(rows);
    for (int i = 0; i < rows; i++) {
      if (values.size() == 1) {
        predictions.add(values.values().iterator().next().getAsJsonArray().get(i));
      } else {
        JsonObject row = new JsonObject();
        for (Map.Entry<String, JsonElement> e : values.entrySet()) {
          row.add(e.getKey(), e.getValue().getAsJsonArray().get(i));
        }
        predictions.add(row);
      }
    }
    reply.add("predictions", predictions);
    return reply;
  }

  /**
   * The examples of a {@code :classify} or {@code :regress} body: {@code examples}, a list of
   * objects of features, with an optional {@code context} of features they share. A feature is
   * a value or a list of values: whole numbers make an int64 list, numbers with a fraction or
   * exponent a float list, strings and {@code {"b64": ...}} a bytes list, booleans int64 0/1.
   *
   * @throws HttpError naming the feature that is wrong
   */
  static Input examples(JsonObject body) {
    JsonElement examples = body.get("examples");
    if (examples == null) {
      throw HttpError.badRequest("missing 'examples' key: a list of objects of features");
    }
    if (!examples.isJsonArray()) {
      throw HttpError.badRequest("'examples' must be a list of objects of features, not " + kind(examples));
    }
    if (examples.getAsJsonArray().isEmpty()) {
      throw HttpError.badRequest("'examples' is an empty list");
    }
    List<Example> list = new ArrayList<>();
    for (int i = 0; i < examples.getAsJsonArray().size(); i++) {
      list.add(example(examples.getAsJsonArray().get(i), "examples[" + i + "]"));
    }
    JsonElement context = body.get("context");
    if (context == null || context.isJsonNull()) {
      return Input.newBuilder().setExampleList(ExampleList.newBuilder().addAllExamples(list)).build();
    }
    return Input.newBuilder().setExampleListWithContext(ExampleListWithContext.newBuilder()
        .setContext(example(context, "context")).addAllExamples(list)).build();
  }

  private static Example example(JsonElement json, String where) {
    if (!json.isJsonObject()) {
      throw HttpError.badRequest(where + " must be an object of features, not " + kind(json));
    }
    Features.Builder features = Features.newBuilder();
    for (Map.Entry<String, JsonElement> e : json.getAsJsonObject().entrySet()) {
      String name = where + "." + e.getKey();
      Feature.Builder feature = Feature.newBuilder();
      if (e.getValue().isJsonArray()) {
        for (JsonElement v : e.getValue().getAsJsonArray()) {
          addFeatureValue(feature, v, name);
        }
      } else {
        addFeatureValue(feature, e.getValue(), name);
      }
      features.putFeature(e.getKey(), feature.build());
    }
    return Example.newBuilder().setFeatures(features).build();
  }

  private static void addFeatureValue(Feature.Builder feature, JsonElement v, String where) {
    Feature.KindCase kind;
    if (isBase64(v) || (v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) {
      kind = Feature.KindCase.BYTES_LIST;
    } else if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isBoolean()) {
      kind = Feature.KindCase.INT64_LIST;
    } else if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) {
      String text = v.getAsString();
      kind = text.contains(".") || text.contains("e") || text.contains("E") ? Feature.KindCase.FLOAT_LIST
          : Feature.KindCase.INT64_LIST;
    } else {
      throw HttpError.badRequest(where + " holds " + kind(v) + "; a feature holds numbers, strings,"
          + " {\"b64\": ...} or a flat list of one of them");
    }
    if (feature.getKindCase() != Feature.KindCase.KIND_NOT_SET && feature.getKindCase() != kind) {
      throw HttpError.badRequest(where + " mixes kinds of values: " + v + " is not " + describe(
          feature.getKindCase()) + " like the values before it");
    }
    switch (kind) {
      case BYTES_LIST -> feature.getBytesListBuilder().addValue(bytes(v, where));
      case FLOAT_LIST -> {
        double d = v.getAsDouble();
        if (Math.abs(d) > Float.MAX_VALUE) {
          throw HttpError.badRequest(where + " is " + v + ", out of a float feature's range");
        }
        feature.getFloatListBuilder().addValue((float) d);
      }
      default -> feature.getInt64ListBuilder().addValue(v.getAsJsonPrimitive().isBoolean()
          ? (v.getAsBoolean() ? 1 : 0) : integer(v, DataType.DT_INT64, where, Long.MIN_VALUE, Long.MAX_VALUE));
    }
  }

  private static String describe(Feature.KindCase kind) {
    return switch (kind) {
      case BYTES_LIST -> "a string";
      case FLOAT_LIST -> "a number with a fraction";
      default -> "a whole number";
    };
  }

  /** The reply to {@code :classify}: per example, its [label, score] pairs. */
  static JsonObject reply(ClassificationResult result) {
    JsonArray all = new JsonArray();
    for (Classifications c : result.getClassificationsList()) {
      JsonArray pairs = new JsonArray();
      for (io.jointspace.tensorflow.serving.Class k : c.getClassesList()) {
        JsonArray pair = new JsonArray(2);
        pair.add(k.getLabel());
        pair.add(k.getScore());
        pairs.add(pair);
      }
      all.add(pairs);
    }
    JsonObject reply = new JsonObject();
    reply.add("result", all);
    return reply;
  }

  /** The reply to {@code :regress}: one value per example. */
  static JsonObject reply(RegressionResult result) {
    JsonArray all = new JsonArray();
    result.getRegressionsList().forEach(r -> all.add(r.getValue()));
    JsonObject reply = new JsonObject();
    reply.add("result", all);
    return reply;
  }

  /** Writes JSON as TF Serving does: base64's '=' as is, NaN and Infinity as bare tokens. */
  private static final com.google.gson.Gson WRITER = new com.google.gson.GsonBuilder().disableHtmlEscaping()
      .serializeSpecialFloatingPointValues().create();

  /** {@code json} as the text of a reply. */
  static String text(JsonElement json) {
    return WRITER.toJson(json);
  }

  /** TF Serving's error body. */
  static JsonObject error(String message) {
    JsonObject error = new JsonObject();
    error.addProperty("error", message);
    return error;
  }

  // ---- request side

  /** A JSON object that is not a binary value: named inputs. */
  private static boolean isNamed(JsonElement e) {
    return e.isJsonObject() && !isBase64(e);
  }

  private static boolean isBase64(JsonElement e) {
    return e.isJsonObject() && e.getAsJsonObject().size() == 1 && e.getAsJsonObject().has(B64);
  }

  /** The row form's objects turned into one list per input, every row naming the same inputs. */
  private static Map<String, JsonArray> columns(JsonArray rows, Map<String, DataType> inputTypes) {
    Set<String> names = null;
    Map<String, JsonArray> columns = new LinkedHashMap<>();
    for (int i = 0; i < rows.size(); i++) {
      JsonElement row = rows.get(i);
      if (!isNamed(row)) {
        throw HttpError.badRequest("instances[" + i + "] is " + kind(row)
            + " where instances[0] is an object of named inputs: every row must be one");
      }
      Set<String> here = new TreeSet<>(row.getAsJsonObject().keySet());
      if (names == null) {
        here.forEach(name -> knownInput(name, inputTypes, "instances[0]"));
        names = here;
      } else if (!names.equals(here)) {
        throw HttpError.badRequest("instances[" + i + "] names the inputs " + here + " where instances[0] names "
            + names + ": every row must name the same inputs");
      }
      for (Map.Entry<String, JsonElement> e : row.getAsJsonObject().entrySet()) {
        columns.computeIfAbsent(e.getKey(), k -> new JsonArray()).add(e.getValue());
      }
    }
    return columns;
  }

  private static void knownInput(String alias, Map<String, DataType> inputTypes, String where) {
    if (!inputTypes.containsKey(alias)) {
      throw HttpError.badRequest(where + " names input '" + alias + "', which the signature does not have"
          + " (its inputs: " + String.join(", ", new TreeSet<>(inputTypes.keySet())) + ")");
    }
  }

  private static String onlyInput(Map<String, DataType> inputTypes, String key) {
    if (inputTypes.size() != 1) {
      throw HttpError.badRequest("'" + key + "' holds one unnamed tensor, but the signature has "
          + inputTypes.size() + " inputs (" + String.join(", ", new TreeSet<>(inputTypes.keySet()))
          + "): name them in an object");
    }
    return inputTypes.keySet().iterator().next();
  }

  /** A nested list (or one value) as a tensor of {@code dtype}; its nesting is its shape. */
  static TensorProto tensor(JsonElement value, DataType dtype, String where) {
    List<Long> shape = new ArrayList<>();
    List<JsonElement> leaves = new ArrayList<>();
    int[] leafDepth = {-1};
    collect(value, 0, shape, leaves, leafDepth, where);
    TensorProto.Builder proto = TensorProto.newBuilder().setDtype(dtype);
    shape.forEach(d -> proto.getTensorShapeBuilder().addDimBuilder().setSize(d));
    for (int i = 0; i < leaves.size(); i++) {
      add(proto, dtype, leaves.get(i), leaves.size() == 1 && shape.isEmpty() ? where : where + " element " + i);
    }
    return proto.build();
  }

  private static void collect(JsonElement e, int depth, List<Long> shape, List<JsonElement> leaves, int[] leafDepth,
      String where) {
    if (e.isJsonArray()) {
      JsonArray list = e.getAsJsonArray();
      if (leafDepth[0] >= 0 && depth >= leafDepth[0]) {
        throw ragged(where);
      }
      if (shape.size() == depth) {
        shape.add((long) list.size());
      } else if (shape.get(depth) != list.size()) {
        throw ragged(where);
      }
      for (JsonElement item : list) {
        collect(item, depth + 1, shape, leaves, leafDepth, where);
      }
      return;
    }
    if (e.isJsonNull() || (e.isJsonObject() && !isBase64(e))) {
      throw HttpError.badRequest(where + " holds " + kind(e) + " where a value or a list was expected");
    }
    if (leafDepth[0] < 0) {
      if (shape.size() > depth) {
        throw ragged(where);
      }
      leafDepth[0] = depth;
    } else if (leafDepth[0] != depth) {
      throw ragged(where);
    }
    leaves.add(e);
  }

  private static HttpError ragged(String where) {
    return HttpError.badRequest(where + " is ragged: every list at one depth must have the same length and"
        + " every value the same depth");
  }

  private static void add(TensorProto.Builder proto, DataType dtype, JsonElement leaf, String where) {
    switch (dtype) {
      case DT_FLOAT -> {
        double v = decimal(leaf, dtype, where);
        if (Double.isFinite(v) && Math.abs(v) > Float.MAX_VALUE) {
          throw HttpError.badRequest(where + " is " + leaf + ", out of DT_FLOAT's range");
        }
        proto.addFloatVal((float) v);
      }
      case DT_DOUBLE -> proto.addDoubleVal(decimal(leaf, dtype, where));
      case DT_INT32 -> proto.addIntVal((int) integer(leaf, dtype, where, Integer.MIN_VALUE, Integer.MAX_VALUE));
      case DT_INT16 -> proto.addIntVal((int) integer(leaf, dtype, where, Short.MIN_VALUE, Short.MAX_VALUE));
      case DT_INT8 -> proto.addIntVal((int) integer(leaf, dtype, where, Byte.MIN_VALUE, Byte.MAX_VALUE));
      case DT_UINT8 -> proto.addIntVal((int) integer(leaf, dtype, where, 0, 255));
      case DT_UINT16 -> proto.addIntVal((int) integer(leaf, dtype, where, 0, 65535));
      case DT_INT64 -> proto.addInt64Val(integer(leaf, dtype, where, Long.MIN_VALUE, Long.MAX_VALUE));
      case DT_BOOL -> {
        if (!leaf.isJsonPrimitive() || !leaf.getAsJsonPrimitive().isBoolean()) {
          throw expected(leaf, "true or false", dtype, where);
        }
        proto.addBoolVal(leaf.getAsBoolean());
      }
      case DT_STRING -> proto.addStringVal(bytes(leaf, where));
      default -> throw HttpError.badRequest(where + " is for an input of type " + dtype
          + ", which the REST API does not take; use gRPC Predict with tensor_content");
    }
  }

  private static double decimal(JsonElement leaf, DataType dtype, String where) {
    if (leaf.isJsonPrimitive()) {
      JsonPrimitive p = leaf.getAsJsonPrimitive();
      if (p.isNumber()) {
        return p.getAsDouble();
      }
      if (p.isString()) { // the lenient parser reads the bare tokens as strings
        switch (p.getAsString()) {
          case "NaN": return Double.NaN;
          case "Infinity": return Double.POSITIVE_INFINITY;
          case "-Infinity": return Double.NEGATIVE_INFINITY;
          default: break;
        }
      }
    }
    throw expected(leaf, "a number", dtype, where);
  }

  private static long integer(JsonElement leaf, DataType dtype, String where, long min, long max) {
    if (!leaf.isJsonPrimitive() || !leaf.getAsJsonPrimitive().isNumber()) {
      throw expected(leaf, "a whole number", dtype, where);
    }
    BigDecimal exact;
    try {
      exact = new BigDecimal(leaf.getAsString());
    } catch (NumberFormatException e) {
      throw expected(leaf, "a whole number", dtype, where);
    }
    BigInteger whole;
    try {
      whole = exact.toBigIntegerExact();
    } catch (ArithmeticException e) {
      throw expected(leaf, "a whole number", dtype, where);
    }
    if (whole.compareTo(BigInteger.valueOf(min)) < 0 || whole.compareTo(BigInteger.valueOf(max)) > 0) {
      throw HttpError.badRequest(where + " is " + leaf + ", out of " + dtype + "'s range [" + min + ", " + max
          + "]");
    }
    return whole.longValue();
  }

  /** A string's UTF-8 bytes, or the decoded bytes of {@code {"b64": ...}}. */
  static ByteString bytes(JsonElement leaf, String where) {
    if (isBase64(leaf)) {
      JsonElement text = leaf.getAsJsonObject().get(B64);
      if (!text.isJsonPrimitive() || !text.getAsJsonPrimitive().isString()) {
        throw HttpError.badRequest(where + " has a 'b64' that is not a string");
      }
      try {
        return ByteString.copyFrom(Base64.getDecoder().decode(text.getAsString()));
      } catch (IllegalArgumentException e) {
        throw HttpError.badRequest(where + " has a 'b64' that is not base64: " + e.getMessage());
      }
    }
    if (leaf.isJsonPrimitive() && leaf.getAsJsonPrimitive().isString()) {
      return ByteString.copyFromUtf8(leaf.getAsString());
    }
    throw expected(leaf, "a string or {\"b64\": ...}", DataType.DT_STRING, where);
  }

  private static HttpError expected(JsonElement leaf, String what, DataType dtype, String where) {
    String shown = leaf.toString();
    return HttpError.badRequest(where + " is " + (shown.length() > 40 ? shown.substring(0, 40) + "..." : shown)
        + " where the input's type " + dtype + " takes " + what);
  }

  // ---- reply side

  /** A tensor as nested lists (a scalar as one value). */
  static JsonElement json(TensorProto proto, boolean base64Strings) {
    long[] shape = proto.getTensorShape().getDimList().stream().mapToLong(d -> d.getSize()).toArray();
    long count = 1;
    for (long d : shape) {
      count = Math.multiplyExact(count, d);
    }
    List<JsonElement> values = values(proto, Math.toIntExact(count), base64Strings);
    int[] next = {0};
    return nest(shape, 0, values, next);
  }

  /**
   * The {@code n} values of {@code proto} with TensorFlow's rules: {@code tensor_content}
   * when set, else the dtype's typed field, fewer typed values than {@code n} filled with the
   * last one (none: zeros).
   */
  private static List<JsonElement> values(TensorProto proto, int n, boolean base64Strings) {
    DataType dtype = proto.getDtype();
    List<JsonElement> out = new ArrayList<>(n);
    if (dtype == DataType.DT_STRING) {
      for (ByteString s : proto.getStringValList()) {
        out.add(base64Strings ? base64(s.toByteArray()) : new JsonPrimitive(s.toStringUtf8()));
      }
      return filled(out, n, base64Strings ? base64(new byte[0]) : new JsonPrimitive(""));
    }
    ByteBuffer content = proto.getTensorContent().isEmpty() ? null
        : proto.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case DT_FLOAT -> {
        if (content != null) {
          for (int i = 0; i < n; i++) {
            out.add(new JsonPrimitive(content.getFloat()));
          }
        } else {
          proto.getFloatValList().forEach(v -> out.add(new JsonPrimitive(v)));
        }
      }
      case DT_DOUBLE -> {
        if (content != null) {
          for (int i = 0; i < n; i++) {
            out.add(new JsonPrimitive(content.getDouble()));
          }
        } else {
          proto.getDoubleValList().forEach(v -> out.add(new JsonPrimitive(v)));
        }
      }
      case DT_INT32, DT_INT16, DT_INT8, DT_UINT8, DT_UINT16 -> {
        if (content != null) {
          for (int i = 0; i < n; i++) {
            out.add(new JsonPrimitive(switch (dtype) {
              case DT_INT32 -> content.getInt();
              case DT_INT16 -> (int) content.getShort();
              case DT_INT8 -> (int) content.get();
              case DT_UINT8 -> content.get() & 0xff;
              default -> content.getShort() & 0xffff;
            }));
          }
        } else {
          proto.getIntValList().forEach(v -> out.add(new JsonPrimitive(v)));
        }
      }
      case DT_INT64 -> {
        if (content != null) {
          for (int i = 0; i < n; i++) {
            out.add(new JsonPrimitive(content.getLong()));
          }
        } else {
          proto.getInt64ValList().forEach(v -> out.add(new JsonPrimitive(v)));
        }
      }
      case DT_BOOL -> {
        if (content != null) {
          for (int i = 0; i < n; i++) {
            out.add(new JsonPrimitive(content.get() != 0));
          }
        } else {
          proto.getBoolValList().forEach(v -> out.add(new JsonPrimitive(v)));
        }
      }
      default -> throw HttpError.badRequest("an output has type " + dtype + ", which the REST API does not"
          + " write; use gRPC Predict");
    }
    if (content != null && out.size() != n) {
      throw new IllegalStateException("tensor_content holds " + out.size() + " values for " + n + " elements");
    }
    return filled(out, n, dtype == DataType.DT_BOOL ? new JsonPrimitive(false) : new JsonPrimitive(0));
  }

  private static List<JsonElement> filled(List<JsonElement> values, int n, JsonElement zero) {
    if (values.size() > n) {
      throw new IllegalStateException(values.size() + " values for " + n + " elements");
    }
    JsonElement last = values.isEmpty() ? zero : values.get(values.size() - 1);
    while (values.size() < n) {
      values.add(last);
    }
    return values;
  }

  private static JsonElement nest(long[] shape, int depth, List<JsonElement> values, int[] next) {
    if (depth == shape.length) {
      return values.get(next[0]++);
    }
    JsonArray list = new JsonArray((int) shape[depth]);
    for (long i = 0; i < shape[depth]; i++) {
      list.add(nest(shape, depth + 1, values, next));
    }
    return list;
  }

  private static JsonObject base64(byte[] bytes) {
    JsonObject o = new JsonObject();
    o.addProperty(B64, Base64.getEncoder().encodeToString(bytes));
    return o;
  }

  private static JsonObject object(Map<String, JsonElement> values) {
    JsonObject o = new JsonObject();
    values.forEach(o::add);
    return o;
  }

  static String kind(JsonElement e) {
    if (e.isJsonNull()) {
      return "null";
    }
    if (e.isJsonArray()) {
      return "a list";
    }
    if (e.isJsonObject()) {
      return "an object";
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    return p.isBoolean() ? "a boolean" : p.isNumber() ? "a number" : "a string";
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
