package io.jointspace.server.api;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.jointspace.server.errors.InvalidInputException;
import java.util.Map;

/**
 * {@code google.protobuf.Struct}/{@code Value} to and from JSON text. Whole numbers are
 * written without a fraction ({@code 2024}, not {@code 2024.0}), so SQL such as
 * {@code (metadata->>'year')::int} works on stored metadata.
 */
final class Json {
  private Json() {}

  /** Largest integer a double holds exactly. */
  private static final double EXACT = 9007199254740992d;

  static String of(Struct struct, String field) {
    return object(struct, field).toString();
  }

  static String of(Value value, String field) {
    return element(value, field).toString();
  }

  static Struct struct(String json) {
    Struct.Builder b = Struct.newBuilder();
    try {
      JsonFormat.parser().merge(json, b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored metadata is not a JSON object: " + e.getMessage(), e);
    }
    return b.build();
  }

  private static JsonObject object(Struct struct, String field) {
    JsonObject o = new JsonObject();
    for (Map.Entry<String, Value> e : struct.getFieldsMap().entrySet()) {
      o.add(e.getKey(), element(e.getValue(), field + "." + e.getKey()));
    }
    return o;
  }

  private static JsonElement element(Value v, String field) {
    return switch (v.getKindCase()) {
      case NULL_VALUE, KIND_NOT_SET -> JsonNull.INSTANCE;
      case BOOL_VALUE -> new JsonPrimitive(v.getBoolValue());
      case STRING_VALUE -> new JsonPrimitive(v.getStringValue());
      case NUMBER_VALUE -> {
        double d = v.getNumberValue();
        if (!Double.isFinite(d)) {
          throw new InvalidInputException(field + " is " + d + "; JSON numbers must be finite");
        }
        yield d == Math.rint(d) && Math.abs(d) <= EXACT ? new JsonPrimitive((long) d) : new JsonPrimitive(d);
      }
      case STRUCT_VALUE -> object(v.getStructValue(), field);
      case LIST_VALUE -> {
        JsonArray a = new JsonArray();
        ListValue list = v.getListValue();
        for (int i = 0; i < list.getValuesCount(); i++) {
          a.add(element(list.getValues(i), field + "[" + i + "]"));
        }
        yield a;
      }
    };
  }
}
