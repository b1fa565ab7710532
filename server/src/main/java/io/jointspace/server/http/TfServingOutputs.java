package io.jointspace.server.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.ByteString;
import io.jointspace.server.http.TfServingJson.Format;
import io.jointspace.tensorflow.framework.DataType;
import io.jointspace.tensorflow.framework.TensorProto;
import io.jointspace.tensorflow.framework.TensorShapeProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reply to TF Serving's REST {@code :predict}: output TensorProtos (in
 * {@code tensor_content} or the typed fields) as nested lists under {@code predictions} (row
 * form, every output sharing its first dimension) or {@code outputs} (columnar form); a
 * {@code DT_STRING} output whose alias ends in {@code _bytes} as {@code {"b64": ...}}.
 */
final class TfServingOutputs {
  private TfServingOutputs() {}

  /** Aliases ending with this hold binary strings, written base64 (TF Serving's convention). */
  static final String BYTES_SUFFIX = "_bytes";

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
    o.addProperty(TfServingJson.B64, Base64.getEncoder().encodeToString(bytes));
    return o;
  }

  private static JsonObject object(Map<String, JsonElement> values) {
    JsonObject o = new JsonObject();
    values.forEach(o::add);
    return o;
  }
}
