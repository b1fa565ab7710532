package io.jointspace.server.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import java.io.StringReader;
import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Reading request JSON with the field path in every complaint; each one is a 400
 * ({@link HttpError}), never a 500.
 */
final class Json {
  private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  private Json() {}

  static JsonObject object(String text, String what) {
    JsonElement e;
    try {
      JsonReader reader = new JsonReader(new StringReader(text));
      reader.setStrictness(Strictness.STRICT);
      e = JsonParser.parseReader(reader);
      if (reader.peek() != com.google.gson.stream.JsonToken.END_DOCUMENT) {
        throw new JsonParseException("text after the JSON value");
      }
    } catch (JsonParseException | java.io.IOException | StackOverflowError ex) {
      throw HttpError.badRequest(what + " is not valid JSON: " + message(ex));
    }
    return object(e, what);
  }

  private static String message(Throwable e) {
    if (e instanceof StackOverflowError) {
      return "nested too deeply";
    }
    while (e.getCause() != null && e.getCause() != e) {
      e = e.getCause(); // Gson wraps the reader's complaint: "java.io.EOFException: End of input ..."
    }
    String m = e.getMessage() == null ? "it ends early" : e.getMessage();
    int see = m.indexOf("\nSee ");
    return see < 0 ? m : m.substring(0, see);
  }

  static JsonObject object(JsonElement e, String field) {
    if (e == null || !e.isJsonObject()) {
      throw HttpError.badRequest(field + " must be a JSON object");
    }
    return e.getAsJsonObject();
  }

  static JsonObject objectOrEmpty(JsonObject parent, String name) {
    JsonElement e = parent.get(name);
    return e == null || e.isJsonNull() ? new JsonObject() : object(e, name);
  }

  static JsonArray arrayOrEmpty(JsonObject parent, String name) {
    JsonElement e = parent.get(name);
    if (e == null || e.isJsonNull()) {
      return new JsonArray();
    }
    if (!e.isJsonArray()) {
      throw HttpError.badRequest(name + " must be a JSON array");
    }
    return e.getAsJsonArray();
  }

  static String string(JsonElement e, String field) {
    if (e instanceof JsonPrimitive p && p.isString()) {
      return p.getAsString();
    }
    throw HttpError.badRequest(field + " must be a string, got " + e);
  }

  static boolean bool(JsonElement e, String field) {
    if (e instanceof JsonPrimitive p && p.isBoolean()) {
      return p.getAsBoolean();
    }
    throw HttpError.badRequest(field + " must be true or false, got " + e);
  }

  static double number(JsonElement e, String field) {
    if (e instanceof JsonPrimitive p) {
      if (p.isNumber()) {
        return p.getAsDouble();
      }
      if (p.isString()) { // JSON has no NaN or infinities: the proto3 JSON spellings
        switch (p.getAsString()) {
          case "NaN":
            return Double.NaN;
          case "Infinity":
            return Double.POSITIVE_INFINITY;
          case "-Infinity":
            return Double.NEGATIVE_INFINITY;
          default:
            break;
        }
      }
    }
    throw HttpError.badRequest(field + " must be a number, got " + e);
  }

  static long int64(JsonElement e, String field) {
    return integer(e, field, Long.MIN_VALUE, Long.MAX_VALUE);
  }

  static long integer(JsonElement e, String field, long min, long max) {
    BigInteger v = bigInteger(e, field);
    if (v.compareTo(BigInteger.valueOf(min)) < 0 || v.compareTo(BigInteger.valueOf(max)) > 0) {
      throw HttpError.badRequest(field + " = " + v + " is out of range " + min + ".." + max);
    }
    return v.longValue();
  }

  static long uint64(JsonElement e, String field) {
    BigInteger v = bigInteger(e, field);
    if (v.signum() < 0 || v.compareTo(UINT64_MAX) > 0) {
      throw HttpError.badRequest(field + " = " + v + " is out of range for UINT64");
    }
    return v.longValue();
  }

  private static BigInteger bigInteger(JsonElement e, String field) {
    if (e instanceof JsonPrimitive p && p.isNumber()) {
      try {
        return new BigDecimal(p.getAsString()).toBigIntegerExact();
      } catch (ArithmeticException | NumberFormatException notInteger) {
        // below
      }
    }
    throw HttpError.badRequest(field + " must be an integer, got " + e);
  }
}
