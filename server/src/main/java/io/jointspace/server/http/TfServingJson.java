package io.jointspace.server.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.ByteString;
import io.jointspace.tensorflow.framework.DataType;
import io.jointspace.tensorflow.framework.TensorProto;
import java.math.BigDecimal;
import java.math.BigInteger;
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
 * TensorProtos ({@link TfServingOutputs} writes the reply, {@link TfServingExamples} reads
 * the bodies of {@code :classify} and {@code :regress}). The rules are TF Serving's:
 * numbers are typed by the signature's input dtype; {@code {"b64": ...}} is a binary string;
 * {@code NaN}, {@code Infinity} and {@code -Infinity} are accepted and written for floats; an
 * output whose alias ends in {@code _bytes} is written as {@code {"b64": ...}}; in the row
 * form, every input and every output shares its first dimension.
 */
final class TfServingJson {
  private TfServingJson() {}

  /** The key of a binary value's object. */
  static final String B64 = "b64";

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

  /** A JSON object that is not a binary value: named inputs. */
  private static boolean isNamed(JsonElement e) {
    return e.isJsonObject() && !isBase64(e);
  }

  static boolean isBase64(JsonElement e) {
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

  static long integer(JsonElement leaf, DataType dtype, String where, long min, long max) {
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
