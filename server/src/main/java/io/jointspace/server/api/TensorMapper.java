package io.jointspace.server.api;

import com.google.protobuf.ByteString;
import io.jointspace.api.inference.InferTensorContents;
import io.jointspace.api.inference.ModelInferRequest.InferInputTensor;
import io.jointspace.api.v1.DataType;
import io.jointspace.api.v1.Tensor;
import io.jointspace.server.runtime.DType;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.annotation.Nullable;

/**
 * Converts tensors between the wire (Jointspace's {@link Tensor}, KServe v2 typed contents
 * and raw bytes) and {@link TensorData}. Every error names the request field.
 */
final class TensorMapper {
  private TensorMapper() {}

  // ------------------------------------------------------------- dtypes

  static DType dtype(DataType wire, String field) {
    return switch (wire) {
      case BOOL -> DType.BOOL;
      case UINT8 -> DType.UINT8;
      case UINT16 -> DType.UINT16;
      case INT32 -> DType.INT32;
      case INT64 -> DType.INT64;
      case FP16 -> DType.FP16;
      case BF16 -> DType.BF16;
      case FP32 -> DType.FP32;
      case FP64 -> DType.FP64;
      case BYTES -> DType.BYTES;
      case DATA_TYPE_UNSPECIFIED -> throw new InvalidInputException(field + " is not set");
      default -> throw new InvalidInputException(field + " " + wire + " is not supported; supported: "
          + Arrays.toString(DType.values()));
    };
  }

  static DataType wire(DType d) {
    return DataType.valueOf(d.name());
  }

  /** KServe's datatype string ("FP32") to a server type. */
  static DType dtype(String kserve, String field) {
    if (kserve.isEmpty()) {
      throw new InvalidInputException(field + " is empty; use one of " + Arrays.toString(DType.values()));
    }
    try {
      return DType.valueOf(kserve.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(field + " '" + kserve + "' is not supported; use one of "
          + Arrays.toString(DType.values()));
    }
  }

  // ------------------------------------------------------------- Jointspace Tensor

  static TensorData fromProto(Tensor t, String field) {
    DType dtype = dtype(t.getDtype(), field + ".dtype");
    long[] shape = shape(t.getShapeList(), field + ".shape");
    int typedFields = countTyped(t);
    boolean raw = !t.getRawContent().isEmpty();
    if (raw && typedFields > 0) {
      throw new InvalidInputException(field + " sets both raw_content and typed values; use one");
    }
    try {
      if (raw) {
        return fromRaw(dtype, shape, t.getRawContent(), field + ".raw_content");
      }
      long n = TensorData.elementCount(shape);
      return switch (dtype) {
        case FP32 -> {
          checkCount(t.getFloatValCount(), n, shape, field + ".float_val");
          ByteBuffer b = le(n * 4);
          t.getFloatValList().forEach(b::putFloat);
          yield TensorData.ofBytes(dtype, shape, b.array());
        }
        case FP64 -> {
          checkCount(t.getDoubleValCount(), n, shape, field + ".double_val");
          ByteBuffer b = le(n * 8);
          t.getDoubleValList().forEach(b::putDouble);
          yield TensorData.ofBytes(dtype, shape, b.array());
        }
        case INT64 -> {
          checkCount(t.getInt64ValCount(), n, shape, field + ".int64_val");
          ByteBuffer b = le(n * 8);
          t.getInt64ValList().forEach(b::putLong);
          yield TensorData.ofBytes(dtype, shape, b.array());
        }
        case INT32, UINT8, UINT16 -> {
          checkCount(t.getIntValCount(), n, shape, field + ".int_val");
          yield TensorData.ofBytes(dtype, shape, packInts(dtype, t.getIntValList(), field + ".int_val"));
        }
        case BOOL -> {
          checkCount(t.getBoolValCount(), n, shape, field + ".bool_val");
          byte[] b = new byte[(int) n];
          for (int i = 0; i < n; i++) {
            b[i] = (byte) (t.getBoolVal(i) ? 1 : 0);
          }
          yield TensorData.ofBytes(dtype, shape, b);
        }
        case BYTES -> {
          checkCount(t.getBytesValCount(), n, shape, field + ".bytes_val");
          yield TensorData.ofStrings(shape, t.getBytesValList().stream().map(ByteString::toByteArray).toList());
        }
        case FP16, BF16 -> {
          if (n > 0) {
            throw new InvalidInputException(field + ": " + dtype + " values go in raw_content");
          }
          // no elements: an empty raw_content, which proto3 cannot tell from none
          yield TensorData.ofBytes(dtype, shape, new byte[0]);
        }
      };
    } catch (InvalidInputException e) {
      throw e.getMessage().startsWith(field) ? e : e.at(field);
    }
  }

  private static int countTyped(Tensor t) {
    int n = 0;
    n += t.getBoolValCount() > 0 ? 1 : 0;
    n += t.getIntValCount() > 0 ? 1 : 0;
    n += t.getInt64ValCount() > 0 ? 1 : 0;
    n += t.getFloatValCount() > 0 ? 1 : 0;
    n += t.getDoubleValCount() > 0 ? 1 : 0;
    n += t.getBytesValCount() > 0 ? 1 : 0;
    return n;
  }

  // ------------------------------------------------------------- KServe v2

  /**
   * Input {@code index} of a ModelInfer request, from its raw contents {@code raw} when given,
   * else from its typed contents; errors name {@code inputs[index]} or {@code raw_input_contents[index]}.
   */
  static TensorData fromInfer(InferInputTensor in, @Nullable ByteString raw, int index) {
    String field = "inputs[" + index + "]";
    DType dtype = dtype(in.getDatatype(), field + ".datatype");
    long[] shape = shape(in.getShapeList(), field + ".shape");
    if (raw != null) {
      if (hasContents(in.getContents())) {
        throw new InvalidInputException(field + " has contents and raw_input_contents; use one");
      }
      return fromRaw(dtype, shape, raw, "raw_input_contents[" + index + "]");
    }
    InferTensorContents c = in.getContents();
    long n = TensorData.elementCount(shape);
    String cf = field + ".contents";
    return switch (dtype) {
      case FP32 -> {
        checkCount(c.getFp32ContentsCount(), n, shape, cf + ".fp32_contents");
        ByteBuffer b = le(n * 4);
        c.getFp32ContentsList().forEach(b::putFloat);
        yield TensorData.ofBytes(dtype, shape, b.array());
      }
      case FP64 -> {
        checkCount(c.getFp64ContentsCount(), n, shape, cf + ".fp64_contents");
        ByteBuffer b = le(n * 8);
        c.getFp64ContentsList().forEach(b::putDouble);
        yield TensorData.ofBytes(dtype, shape, b.array());
      }
      case INT64 -> {
        checkCount(c.getInt64ContentsCount(), n, shape, cf + ".int64_contents");
        ByteBuffer b = le(n * 8);
        c.getInt64ContentsList().forEach(b::putLong);
        yield TensorData.ofBytes(dtype, shape, b.array());
      }
      case INT32 -> {
        checkCount(c.getIntContentsCount(), n, shape, cf + ".int_contents");
        yield TensorData.ofBytes(dtype, shape, packInts(dtype, c.getIntContentsList(), cf + ".int_contents"));
      }
      case UINT8, UINT16 -> {
        checkCount(c.getUintContentsCount(), n, shape, cf + ".uint_contents");
        yield TensorData.ofBytes(dtype, shape, packInts(dtype, c.getUintContentsList(), cf + ".uint_contents"));
      }
      case BOOL -> {
        checkCount(c.getBoolContentsCount(), n, shape, cf + ".bool_contents");
        byte[] b = new byte[(int) n];
        for (int i = 0; i < n; i++) {
          b[i] = (byte) (c.getBoolContents(i) ? 1 : 0);
        }
        yield TensorData.ofBytes(dtype, shape, b);
      }
      case BYTES -> {
        checkCount(c.getBytesContentsCount(), n, shape, cf + ".bytes_contents");
        yield TensorData.ofStrings(shape, c.getBytesContentsList().stream().map(ByteString::toByteArray).toList());
      }
      case FP16, BF16 -> throw new InvalidInputException(field + ": " + dtype + " values go in raw_input_contents");
    };
  }

  private static boolean hasContents(InferTensorContents c) {
    return c.getBoolContentsCount() + c.getIntContentsCount() + c.getInt64ContentsCount()
        + c.getUintContentsCount() + c.getUint64ContentsCount() + c.getFp32ContentsCount()
        + c.getFp64ContentsCount() + c.getBytesContentsCount() > 0;
  }

  /** Typed KServe contents for an output. */
  static InferTensorContents contents(TensorData d) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    if (d.dtype() == DType.BYTES) {
      d.strings().forEach(s -> c.addBytesContents(ByteString.copyFrom(s)));
      return c.build();
    }
    ByteBuffer b = ByteBuffer.wrap(d.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    long n = d.elementCount();
    for (long i = 0; i < n; i++) {
      switch (d.dtype()) {
        case FP32 -> c.addFp32Contents(b.getFloat());
        case FP64 -> c.addFp64Contents(b.getDouble());
        case INT32 -> c.addIntContents(b.getInt());
        case INT64 -> c.addInt64Contents(b.getLong());
        case UINT8 -> c.addUintContents(b.get() & 0xff);
        case UINT16 -> c.addUintContents(b.getShort() & 0xffff);
        case BOOL -> c.addBoolContents(b.get() != 0);
        case FP16, BF16 -> {
          return null; // no typed field: the caller sends raw bytes
        }
        case BYTES -> throw new IllegalStateException();
      }
    }
    return c.build();
  }

  /** KServe raw bytes for an output: little-endian elements, BYTES length-prefixed. */
  static ByteString raw(TensorData d) {
    if (d.dtype() != DType.BYTES) {
      return ByteString.copyFrom(d.bytes());
    }
    int size = 0;
    for (byte[] s : d.strings()) {
      size += 4 + s.length;
    }
    ByteBuffer b = le(size);
    for (byte[] s : d.strings()) {
      b.putInt(s.length).put(s);
    }
    return ByteString.copyFrom(b.array());
  }

  // ------------------------------------------------------------- shared

  static long[] shape(List<Long> dims, String field) {
    long[] shape = new long[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = dims.get(i);
      if (shape[i] < 0) {
        throw new InvalidInputException(field + "[" + i + "] is " + shape[i] + "; dimensions must not be negative");
      }
    }
    try {
      long n = TensorData.elementCount(shape);
      if (n > Integer.MAX_VALUE) {
        throw new InvalidInputException(field + " " + dims + " has more than " + Integer.MAX_VALUE + " elements");
      }
    } catch (ArithmeticException e) {
      throw new InvalidInputException(field + " " + dims + " overflows");
    }
    return shape;
  }

  private static TensorData fromRaw(DType dtype, long[] shape, ByteString raw, String field) {
    long n = TensorData.elementCount(shape);
    if (dtype != DType.BYTES) {
      long expected = n * dtype.byteSize();
      if (raw.size() != expected) {
        throw new InvalidInputException(field + " has " + raw.size() + " bytes but shape "
            + Arrays.toString(shape) + " of " + dtype + " needs " + expected);
      }
      byte[] bytes = raw.toByteArray();
      if (dtype == DType.BOOL) {
        // any non-zero byte is true, as in the typed fields; TensorFlow's bools must be 0 or 1
        for (int i = 0; i < bytes.length; i++) {
          bytes[i] = bytes[i] == 0 ? (byte) 0 : (byte) 1;
        }
      }
      return TensorData.ofBytes(dtype, shape, bytes);
    }
    ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    List<byte[]> elements = new ArrayList<>();
    while (b.hasRemaining()) {
      if (b.remaining() < 4) {
        throw new InvalidInputException(field + " ends inside the length of element " + elements.size());
      }
      int len = b.getInt();
      if (len < 0 || len > b.remaining()) {
        throw new InvalidInputException(field + " element " + elements.size() + " claims " + len
            + " bytes but " + b.remaining() + " remain");
      }
      byte[] e = new byte[len];
      b.get(e);
      elements.add(e);
    }
    if (elements.size() != n) {
      throw new InvalidInputException(field + " holds " + elements.size() + " BYTES elements but shape "
          + Arrays.toString(shape) + " needs " + n);
    }
    return TensorData.ofStrings(shape, elements);
  }

  private static void checkCount(int got, long want, long[] shape, String field) {
    if (got != want) {
      throw new InvalidInputException(field + " has " + got + " values but shape "
          + Arrays.toString(shape) + " needs " + want);
    }
  }

  private static byte[] packInts(DType dtype, List<Integer> values, String field) {
    ByteBuffer b = le((long) values.size() * dtype.byteSize());
    for (int i = 0; i < values.size(); i++) {
      int v = values.get(i);
      switch (dtype) {
        case INT32 -> b.putInt(v);
        case UINT8 -> {
          if (v < 0 || v > 0xff) {
            throw new InvalidInputException(field + "[" + i + "] = " + Integer.toUnsignedString(v) + " is out of range for UINT8");
          }
          b.put((byte) v);
        }
        case UINT16 -> {
          if (v < 0 || v > 0xffff) {
            throw new InvalidInputException(field + "[" + i + "] = " + Integer.toUnsignedString(v) + " is out of range for UINT16");
          }
          b.putShort((short) v);
        }
        default -> throw new IllegalStateException(dtype.toString());
      }
    }
    return b.array();
  }

  private static ByteBuffer le(long size) {
    return ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
  }
}
