package io.jointspace.server.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.ByteString;
import io.jointspace.api.inference.InferParameter;
import io.jointspace.api.inference.InferTensorContents;
import io.jointspace.api.inference.ModelInferRequest;
import io.jointspace.api.inference.ModelInferRequest.InferInputTensor;
import io.jointspace.api.inference.ModelInferResponse;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * KServe v2 REST inference JSON (the Open Inference Protocol's HTTP form, with the binary
 * tensor data extension) to and from the gRPC {@code ModelInferRequest} and
 * {@code ModelInferResponse}.
 *
 * <p>Inputs: {@code data} flat or nested (row-major), JSON numbers, booleans or strings by
 * datatype; or, with the request's {@code Inference-Header-Content-Length}, an input's
 * parameter {@code binary_data_size} takes that many bytes of the body after the JSON, in
 * input order, in KServe's raw layout (little-endian; BYTES elements each after a 4-byte
 * length). With any binary input every input goes as {@code raw_input_contents}, as the gRPC
 * message requires; otherwise JSON inputs go as typed contents. FP16 and BF16 values come
 * only as binary data.
 *
 * <p>Outputs are always asked for as raw bytes ({@code binary_output}) and written as JSON
 * {@code data} (flat, row-major), or as binary data when the request's parameter
 * {@code binary_data_output} or the output's parameter {@code binary_data} is true.
 */
final class KServeTensors {
  static final String HEADER_LENGTH = "Inference-Header-Content-Length";
  static final String BINARY_SIZE = "binary_data_size";
  static final String BINARY_OUTPUT = "binary_data_output";
  static final String BINARY_DATA = "binary_data";
  /** InferenceServiceImpl's parameter: raw output bytes. */
  static final String GRPC_BINARY_OUTPUT = "binary_output";

  private KServeTensors() {}

  /** A parsed inference request: the gRPC message, and which outputs are wanted as binary data. */
  record Request(ModelInferRequest grpc, boolean allBinary, List<String> binaryOutputs) {}

  /** An answer: the body, and the length of its JSON part when binary data follows it (else -1). */
  record Answer(byte[] body, int jsonLength) {}

  static Request request(String model, String version, byte[] body, String headerLength) {
    int jsonLength = body.length;
    if (headerLength != null) {
      try {
        jsonLength = Integer.parseInt(headerLength.strip());
      } catch (NumberFormatException e) {
        throw HttpError.badRequest(HEADER_LENGTH + " '" + headerLength + "' is not a number");
      }
      if (jsonLength < 0 || jsonLength > body.length) {
        throw HttpError.badRequest(HEADER_LENGTH + " is " + jsonLength + " but the body has " + body.length + " bytes");
      }
    }
    JsonObject json = Json.object(new String(body, 0, jsonLength, StandardCharsets.UTF_8), "the request");
    ModelInferRequest.Builder out = ModelInferRequest.newBuilder().setModelName(model).setModelVersion(version);
    if (json.has("id")) {
      out.setId(Json.string(json.get("id"), "id"));
    }
    boolean allBinary = false;
    for (Map.Entry<String, JsonElement> p : Json.objectOrEmpty(json, "parameters").entrySet()) {
      if (p.getKey().equals(BINARY_OUTPUT)) {
        allBinary = Json.bool(p.getValue(), "parameters." + BINARY_OUTPUT);
      } else {
        out.putParameters(p.getKey(), parameter(p.getValue(), "parameters." + p.getKey()));
      }
    }
    out.putParameters(GRPC_BINARY_OUTPUT, InferParameter.newBuilder().setBoolParam(true).build());
    JsonArray inputs = Json.arrayOrEmpty(json, "inputs");
    List<JsonObject> in = new ArrayList<>();
    boolean anyBinary = false;
    for (int i = 0; i < inputs.size(); i++) {
      JsonObject input = Json.object(inputs.get(i), "inputs[" + i + "]");
      in.add(input);
      anyBinary |= Json.objectOrEmpty(input, "parameters").has(BINARY_SIZE);
      String datatype = input.has("datatype") ? Json.string(input.get("datatype"), "inputs[" + i + "].datatype") : "";
      anyBinary |= isHalf(datatype);
    }
    ByteBuffer binary = ByteBuffer.wrap(body, jsonLength, body.length - jsonLength);
    for (int i = 0; i < in.size(); i++) {
      JsonObject input = in.get(i);
      String field = "inputs[" + i + "]";
      InferInputTensor.Builder t = InferInputTensor.newBuilder()
          .setName(input.has("name") ? Json.string(input.get("name"), field + ".name") : "")
          .setDatatype(input.has("datatype") ? Json.string(input.get("datatype"), field + ".datatype") : "");
      for (JsonElement d : Json.arrayOrEmpty(input, "shape")) {
        t.addShape(Json.int64(d, field + ".shape"));
      }
      Long size = null;
      for (Map.Entry<String, JsonElement> p : Json.objectOrEmpty(input, "parameters").entrySet()) {
        if (p.getKey().equals(BINARY_SIZE)) {
          size = Json.int64(p.getValue(), field + ".parameters." + BINARY_SIZE);
        } else {
          t.putParameters(p.getKey(), parameter(p.getValue(), field + ".parameters." + p.getKey()));
        }
      }
      List<JsonElement> values = new ArrayList<>();
      if (input.has("data")) {
        if (size != null) {
          throw HttpError.badRequest(field + " has data and parameters." + BINARY_SIZE + "; use one");
        }
        flatten(input.get("data"), values);
      }
      if (size != null) {
        if (size < 0 || size > binary.remaining()) {
          throw HttpError.badRequest(field + ".parameters." + BINARY_SIZE + " is " + size + " but "
              + binary.remaining() + " bytes of binary data remain" + (headerLength == null
              ? " (binary data needs the " + HEADER_LENGTH + " header)" : ""));
        }
        byte[] raw = new byte[size.intValue()];
        binary.get(raw);
        out.addRawInputContents(ByteString.copyFrom(raw));
      } else if (anyBinary) {
        out.addRawInputContents(ByteString.copyFrom(raw(t.getDatatype(), values, field + ".data")));
      } else {
        t.setContents(contents(t.getDatatype(), values, field + ".data"));
      }
      out.addInputs(t);
    }
    if (binary.hasRemaining()) {
      throw HttpError.badRequest(binary.remaining() + " bytes of binary data are left after the inputs' "
          + BINARY_SIZE + "s");
    }
    List<String> binaryOutputs = new ArrayList<>();
    JsonArray outputs = Json.arrayOrEmpty(json, "outputs");
    for (int i = 0; i < outputs.size(); i++) {
      String field = "outputs[" + i + "]";
      JsonObject output = Json.object(outputs.get(i), field);
      ModelInferRequest.InferRequestedOutputTensor.Builder o = ModelInferRequest.InferRequestedOutputTensor.newBuilder()
          .setName(output.has("name") ? Json.string(output.get("name"), field + ".name") : "");
      for (Map.Entry<String, JsonElement> p : Json.objectOrEmpty(output, "parameters").entrySet()) {
        if (p.getKey().equals(BINARY_DATA)) {
          if (Json.bool(p.getValue(), field + ".parameters." + BINARY_DATA)) {
            binaryOutputs.add(o.getName());
          }
        } else {
          o.putParameters(p.getKey(), parameter(p.getValue(), field + ".parameters." + p.getKey()));
        }
      }
      out.addOutputs(o);
    }
    return new Request(out.build(), allBinary, binaryOutputs);
  }

  static Answer answer(ModelInferResponse response, Request asked) {
    JsonObject json = new JsonObject();
    json.addProperty("model_name", response.getModelName());
    json.addProperty("model_version", response.getModelVersion());
    if (!response.getId().isEmpty()) {
      json.addProperty("id", response.getId());
    }
    if (response.getParametersCount() > 0) {
      json.add("parameters", parameters(response.getParametersMap()));
    }
    JsonArray outputs = new JsonArray();
    ByteArrayOutputStream binary = new ByteArrayOutputStream();
    for (int i = 0; i < response.getOutputsCount(); i++) {
      ModelInferResponse.InferOutputTensor t = response.getOutputs(i);
      JsonObject o = tensor(t.getName(), t.getDatatype(), t.getShapeList());
      JsonObject params = parameters(t.getParametersMap());
      ByteString raw = response.getRawOutputContents(i);
      if (asked.allBinary() || asked.binaryOutputs().contains(t.getName())) {
        params.addProperty(BINARY_SIZE, raw.size());
        binary.writeBytes(raw.toByteArray());
      } else {
        o.add("data", values(t.getDatatype(), raw));
      }
      if (params.size() > 0) {
        o.add("parameters", params);
      }
      outputs.add(o);
    }
    json.add("outputs", outputs);
    byte[] head = Exchange.GSON.toJson(json).getBytes(StandardCharsets.UTF_8);
    if (binary.size() == 0) {
      return new Answer(head, -1);
    }
    byte[] body = new byte[head.length + binary.size()];
    System.arraycopy(head, 0, body, 0, head.length);
    System.arraycopy(binary.toByteArray(), 0, body, head.length, binary.size());
    return new Answer(body, head.length);
  }

  /** A tensor's {@code name}, {@code datatype} and {@code shape}, as metadata and outputs write them. */
  static JsonObject tensor(String name, String datatype, List<Long> shape) {
    JsonObject o = new JsonObject();
    o.addProperty("name", name);
    o.addProperty("datatype", datatype);
    JsonArray dims = new JsonArray();
    shape.forEach(dims::add);
    o.add("shape", dims);
    return o;
  }

  // ----------------------------------------------------------------- values

  private static boolean isHalf(String datatype) {
    String d = datatype.toUpperCase(Locale.ROOT);
    return d.equals("FP16") || d.equals("BF16");
  }

  private static void flatten(JsonElement data, List<JsonElement> into) {
    if (data.isJsonArray()) {
      for (JsonElement e : data.getAsJsonArray()) {
        flatten(e, into);
      }
    } else {
      into.add(data);
    }
  }

  private static InferTensorContents contents(String datatype, List<JsonElement> values, String field) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    String type = datatype.toUpperCase(Locale.ROOT);
    for (int i = 0; i < values.size(); i++) {
      JsonElement v = values.get(i);
      String at = field + "[" + i + "]";
      switch (type) {
        case "BOOL" -> c.addBoolContents(Json.bool(v, at));
        case "INT8", "INT16", "INT32" -> c.addIntContents(Math.toIntExact(Json.integer(v, at, -(1L << 31), (1L << 31) - 1)));
        case "INT64" -> c.addInt64Contents(Json.int64(v, at));
        case "UINT8", "UINT16", "UINT32" -> c.addUintContents((int) Json.integer(v, at, 0, (1L << 32) - 1));
        case "UINT64" -> c.addUint64Contents(Json.uint64(v, at));
        case "FP32" -> c.addFp32Contents((float) Json.number(v, at));
        case "FP64" -> c.addFp64Contents(Json.number(v, at));
        case "BYTES" -> c.addBytesContents(ByteString.copyFromUtf8(Json.string(v, at)));
        default -> {
          return c.build(); // the service names the datatype it does not know
        }
      }
    }
    return c.build();
  }

  /** KServe's raw layout of JSON values: little-endian elements, BYTES each after a 4-byte length. */
  private static byte[] raw(String datatype, List<JsonElement> values, String field) {
    String type = datatype.toUpperCase(Locale.ROOT);
    if (isHalf(type) && !values.isEmpty()) {
      throw HttpError.badRequest(field + ": " + type + " values are taken as binary data only (parameters."
          + BINARY_SIZE + ")");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.size(); i++) {
      JsonElement v = values.get(i);
      String at = field + "[" + i + "]";
      b.clear();
      switch (type) {
        case "BOOL" -> b.put((byte) (Json.bool(v, at) ? 1 : 0));
        case "INT8" -> b.put((byte) Json.integer(v, at, Byte.MIN_VALUE, Byte.MAX_VALUE));
        case "UINT8" -> b.put((byte) Json.integer(v, at, 0, 0xff));
        case "INT16" -> b.putShort((short) Json.integer(v, at, Short.MIN_VALUE, Short.MAX_VALUE));
        case "UINT16" -> b.putShort((short) Json.integer(v, at, 0, 0xffff));
        case "INT32" -> b.putInt((int) Json.integer(v, at, Integer.MIN_VALUE, Integer.MAX_VALUE));
        case "UINT32" -> b.putInt((int) Json.integer(v, at, 0, 0xffffffffL));
        case "INT64" -> b.putLong(Json.int64(v, at));
        case "UINT64" -> b.putLong(Json.uint64(v, at));
        case "FP32" -> b.putFloat((float) Json.number(v, at));
        case "FP64" -> b.putDouble(Json.number(v, at));
        case "BYTES" -> {
          byte[] s = Json.string(v, at).getBytes(StandardCharsets.UTF_8);
          b.putInt(s.length);
          out.write(b.array(), 0, 4);
          out.write(s, 0, s.length);
          continue;
        }
        default -> throw HttpError.badRequest(field + ": datatype '" + datatype + "' is not a KServe datatype");
      }
      out.write(b.array(), 0, b.position());
    }
    return out.toByteArray();
  }

  /** Raw little-endian output bytes as a flat JSON array. */
  static JsonArray values(String datatype, ByteString raw) {
    ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    JsonArray out = new JsonArray();
    while (b.hasRemaining()) {
      switch (datatype) {
        case "BOOL" -> out.add(b.get() != 0);
        case "INT8" -> out.add(b.get());
        case "UINT8" -> out.add(b.get() & 0xff);
        case "INT16" -> out.add(b.getShort());
        case "UINT16" -> out.add(b.getShort() & 0xffff);
        case "INT32" -> out.add(b.getInt());
        case "UINT32" -> out.add(b.getInt() & 0xffffffffL);
        case "INT64" -> out.add(b.getLong());
        case "UINT64" -> out.add(new BigInteger(Long.toUnsignedString(b.getLong())));
        case "FP16" -> out.add(new JsonPrimitive(halfToFloat(b.getShort())));
        case "BF16" -> out.add(new JsonPrimitive(Float.intBitsToFloat((b.getShort() & 0xffff) << 16)));
        case "FP32" -> out.add(new JsonPrimitive(b.getFloat()));
        case "FP64" -> out.add(new JsonPrimitive(b.getDouble()));
        case "BYTES" -> {
          byte[] s = new byte[b.getInt()];
          b.get(s);
          out.add(new String(s, StandardCharsets.UTF_8));
        }
        default -> throw new IllegalStateException("the service answered datatype " + datatype);
      }
    }
    return out;
  }

  private static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float value = mantissa * 0x1p-24f; // subnormal
      return sign == 0 ? value : -value;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  // ------------------------------------------------------------- parameters

  private static InferParameter parameter(JsonElement v, String field) {
    if (v.isJsonPrimitive()) {
      JsonPrimitive p = v.getAsJsonPrimitive();
      if (p.isBoolean()) {
        return InferParameter.newBuilder().setBoolParam(p.getAsBoolean()).build();
      }
      if (p.isString()) {
        return InferParameter.newBuilder().setStringParam(p.getAsString()).build();
      }
      BigDecimal d = p.getAsBigDecimal();
      try {
        return InferParameter.newBuilder().setInt64Param(d.longValueExact()).build();
      } catch (ArithmeticException notAnInteger) {
        return InferParameter.newBuilder().setDoubleParam(d.doubleValue()).build();
      }
    }
    throw HttpError.badRequest(field + " must be a boolean, a number or a string");
  }

  private static JsonObject parameters(Map<String, InferParameter> params) {
    JsonObject out = new JsonObject();
    params.forEach((k, p) -> {
      switch (p.getParameterChoiceCase()) {
        case BOOL_PARAM -> out.addProperty(k, p.getBoolParam());
        case INT64_PARAM -> out.addProperty(k, p.getInt64Param());
        case STRING_PARAM -> out.addProperty(k, p.getStringParam());
        case DOUBLE_PARAM -> out.addProperty(k, p.getDoubleParam());
        case UINT64_PARAM -> out.addProperty(k, new BigInteger(Long.toUnsignedString(p.getUint64Param())));
        case PARAMETERCHOICE_NOT_SET -> { }
      }
    });
    return out;
  }
}
