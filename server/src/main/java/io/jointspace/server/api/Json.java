package io.jointspace.server.api;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.jointspace.server.errors.InvalidInputException;
import java.io.IOException;
import java.io.StringReader;
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

  /**
   * Stored metadata (PostgreSQL's text of a jsonb object) as a Struct: numbers become doubles,
   * as in JsonFormat, read in one pass with Gson's streaming reader. JsonFormat's parser, which
   * goes through Gson's tree and the Struct descriptor, took 15% of the CPU of a Search's call
   * thread for ten hits (JFR); this reads the same text into the same Struct.
   */
  static Struct struct(String json) {
    try (JsonReader r = new JsonReader(new StringReader(json))) {
      r.setStrictness(Strictness.STRICT);
      Struct s = readStruct(r);
      if (r.peek() != JsonToken.END_DOCUMENT) {
        throw new IllegalStateException("stored metadata has text after its JSON object");
      }
      return s;
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("stored metadata is not a JSON object: " + e.getMessage(), e);
    }
  }

  private static Struct readStruct(JsonReader r) throws IOException {
    Struct.Builder b = Struct.newBuilder();
    r.beginObject();
    while (r.hasNext()) {
      String name = r.nextName();
      b.putFields(name, readValue(r));
    }
    r.endObject();
    return b.build();
  }

  private static Value readValue(JsonReader r) throws IOException {
    return switch (r.peek()) {
      case BEGIN_OBJECT -> Value.newBuilder().setStructValue(readStruct(r)).build();
      case BEGIN_ARRAY -> {
        ListValue.Builder list = ListValue.newBuilder();
        r.beginArray();
        while (r.hasNext()) {
          list.addValues(readValue(r));
        }
        r.endArray();
        yield Value.newBuilder().setListValue(list).build();
      }
      case STRING -> Value.newBuilder().setStringValue(r.nextString()).build();
      case NUMBER -> Value.newBuilder().setNumberValue(r.nextDouble()).build();
      case BOOLEAN -> Value.newBuilder().setBoolValue(r.nextBoolean()).build();
      case NULL -> {
        r.nextNull();
        yield Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
      }
      default -> throw new IllegalStateException("unexpected " + r.peek() + " in stored metadata");
    };
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
