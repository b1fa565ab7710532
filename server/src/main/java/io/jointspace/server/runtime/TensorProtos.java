package io.jointspace.server.runtime;

import com.google.protobuf.ByteString;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.tensorflow.framework.TensorProto;
import io.jointspace.tensorflow.framework.TensorShapeProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Copies between {@link TensorData} and TensorFlow's {@code tensorflow.TensorProto} (what TF
 * Serving's PredictRequest and warmup records carry), with TensorFlow's rules: the values come
 * from {@code tensor_content} when it is set, else from the typed field of the dtype; fewer
 * typed values than elements are filled with the last one (none: zeros), as
 * {@code Tensor::FromProto} does.
 */
public final class TensorProtos {
  private TensorProtos() {}

  /**
   * The tensor {@code proto} holds.
   *
   * @throws InvalidInputException for a dtype the server cannot feed, an unknown or negative
   *     dimension, or values that do not fit the shape
   */
  public static TensorData toTensorData(TensorProto proto) {
    org.tensorflow.proto.DataType tf = org.tensorflow.proto.DataType.forNumber(proto.getDtypeValue());
    DType dtype = tf == null ? null : DType.fromTf(tf).orElse(null);
    if (dtype == null) {
      throw new InvalidInputException("has dtype " + proto.getDtype() + ", which the server cannot feed");
    }
    TensorShapeProto shapeProto = proto.getTensorShape();
    if (shapeProto.getUnknownRank()) {
      throw new InvalidInputException("has an unknown rank; a tensor to feed needs its shape");
    }
    long[] shape = new long[shapeProto.getDimCount()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeProto.getDim(i).getSize();
    }
    int n = Math.toIntExact(TensorData.elementCount(shape));
    if (dtype == DType.BYTES) {
      return TensorData.ofStrings(shape, fill(proto.getStringValList().stream().map(ByteString::toByteArray).toList(),
          n, new byte[0], "string_val"));
    }
    if (!proto.getTensorContent().isEmpty()) {
      return TensorData.ofBytes(dtype, shape, proto.getTensorContent().toByteArray());
    }
    ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(n, dtype.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case FP32 -> fill(proto.getFloatValList(), n, 0f, "float_val").forEach(b::putFloat);
      case FP64 -> fill(proto.getDoubleValList(), n, 0d, "double_val").forEach(b::putDouble);
      case INT32 -> fill(proto.getIntValList(), n, 0, "int_val").forEach(b::putInt);
      case UINT8 -> fill(proto.getIntValList(), n, 0, "int_val").forEach(v -> b.put((byte) (int) v));
      case UINT16 -> fill(proto.getIntValList(), n, 0, "int_val").forEach(v -> b.putShort((short) (int) v));
      case INT64 -> fill(proto.getInt64ValList(), n, 0L, "int64_val").forEach(b::putLong);
      case BOOL -> fill(proto.getBoolValList(), n, false, "bool_val").forEach(v -> b.put((byte) (v ? 1 : 0)));
      case FP16, BF16 -> fill(proto.getHalfValList(), n, 0, "half_val").forEach(v -> b.putShort((short) (int) v));
      case BYTES -> throw new IllegalStateException("handled above");
    }
    return TensorData.ofBytes(dtype, shape, b.array());
  }

  /**
   * The tensors of a request's or record's {@code inputs} map, in its order.
   *
   * @param fieldOf the field of the input with this alias, put in front of a bad input's message
   */
  public static Map<String, TensorData> toTensorData(Map<String, TensorProto> inputs,
      Function<String, String> fieldOf) {
    Map<String, TensorData> out = new LinkedHashMap<>();
    inputs.forEach((alias, tensor) -> {
      try {
        out.put(alias, toTensorData(tensor));
      } catch (InvalidInputException e) {
        throw e.at(fieldOf.apply(alias));
      }
    });
    return out;
  }

  private static <T> List<T> fill(List<T> values, int n, T zero, String field) {
    if (values.size() > n) {
      throw new InvalidInputException("holds " + values.size() + " values in " + field + " but its shape has " + n
          + " elements");
    }
    if (values.size() == n) {
      return values;
    }
    List<T> out = new ArrayList<>(n);
    out.addAll(values);
    T last = values.isEmpty() ? zero : values.get(values.size() - 1);
    while (out.size() < n) {
      out.add(last);
    }
    return out;
  }

  /** {@code data} as a TensorProto: {@code tensor_content} for fixed-width types, {@code string_val} for BYTES. */
  public static TensorProto toProto(TensorData data) {
    TensorProto.Builder b = header(data);
    if (data.dtype() == DType.BYTES) {
      data.strings().forEach(s -> b.addStringVal(ByteString.copyFrom(s)));
    } else {
      b.setTensorContent(ByteString.copyFrom(data.bytes()));
    }
    return b.build();
  }

  /**
   * {@code data} as a TensorProto with every value in the typed field of its dtype
   * ({@code float_val}, {@code int_val}, ...; the 16 bits of FP16 and BF16 values in
   * {@code half_val}), as TF Serving's Predict answers (TensorFlow's {@code AsProtoField}):
   * clients that read {@code float_val} directly get the values there.
   */
  public static TensorProto toProtoField(TensorData data) {
    TensorProto.Builder b = header(data);
    if (data.dtype() == DType.BYTES) {
      data.strings().forEach(s -> b.addStringVal(ByteString.copyFrom(s)));
      return b.build();
    }
    ByteBuffer in = ByteBuffer.wrap(data.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    long n = data.elementCount();
    for (long i = 0; i < n; i++) {
      switch (data.dtype()) {
        case FP32 -> b.addFloatVal(in.getFloat());
        case FP64 -> b.addDoubleVal(in.getDouble());
        case INT32 -> b.addIntVal(in.getInt());
        case UINT8 -> b.addIntVal(in.get() & 0xff);
        case UINT16 -> b.addIntVal(in.getShort() & 0xffff);
        case INT64 -> b.addInt64Val(in.getLong());
        case BOOL -> b.addBoolVal(in.get() != 0);
        case FP16, BF16 -> b.addHalfVal(in.getShort() & 0xffff);
        case BYTES -> throw new IllegalStateException("handled above");
      }
    }
    return b.build();
  }

  private static TensorProto.Builder header(TensorData data) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (long d : data.shape()) {
      shape.addDimBuilder().setSize(d);
    }
    return TensorProto.newBuilder()
        .setDtypeValue(data.dtype().tf().getNumber())
        .setTensorShape(shape);
  }
}
