package io.jointspace.server.runtime;

import io.jointspace.server.errors.InvalidInputException;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import javax.annotation.Nullable;

/**
 * A tensor in Java memory, independent of TensorFlow and of any wire format: the element
 * type, the shape, and either the little-endian element bytes (fixed-width types) or one
 * byte string per element (BYTES). Immutable by convention: do not change the arrays.
 */
public final class TensorData {
  private final DType dtype;
  private final long[] shape;
  @Nullable private final byte[] fixed;
  @Nullable private final List<byte[]> strings;

  private TensorData(DType dtype, long[] shape, @Nullable byte[] fixed, @Nullable List<byte[]> strings) {
    this.dtype = Objects.requireNonNull(dtype);
    this.shape = shape.clone();
    this.fixed = fixed;
    this.strings = strings;
  }

  /** A fixed-width tensor from its row-major little-endian bytes; the length must match the shape. */
  public static TensorData ofBytes(DType dtype, long[] shape, byte[] littleEndian) {
    if (dtype == DType.BYTES) {
      throw new IllegalArgumentException("BYTES tensors take one byte string per element");
    }
    long expected = elementCount(shape) * dtype.byteSize();
    if (littleEndian.length != expected) {
      throw new InvalidInputException(
          "holds " + littleEndian.length + " bytes but shape " + Arrays.toString(shape) + " of "
              + dtype + " needs " + expected);
    }
    return new TensorData(dtype, shape, littleEndian, null);
  }

  /** A BYTES tensor with one byte string per element, row-major. */
  public static TensorData ofStrings(long[] shape, List<byte[]> elements) {
    long expected = elementCount(shape);
    if (elements.size() != expected) {
      throw new InvalidInputException(
          "holds " + elements.size() + " elements but shape " + Arrays.toString(shape) + " needs " + expected);
    }
    return new TensorData(DType.BYTES, shape, null, List.copyOf(elements));
  }

  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new InvalidInputException("has a negative dimension in shape " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  public DType dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int i) {
    return shape[i];
  }

  public long elementCount() {
    return elementCount(shape);
  }

  /** Little-endian element bytes; only for fixed-width types. */
  public byte[] bytes() {
    if (fixed == null) {
      throw new IllegalStateException("BYTES tensor has no fixed-width data");
    }
    return fixed;
  }

  /** One byte string per element; only for BYTES. */
  public List<byte[]> strings() {
    if (strings == null) {
      throw new IllegalStateException(dtype + " tensor has no byte strings");
    }
    return strings;
  }

  /** Row {@code i} along the first dimension: shape without that dimension. */
  public TensorData row(int i) {
    if (shape.length == 0 || i < 0 || i >= shape[0]) {
      throw new IndexOutOfBoundsException("row " + i + " of a tensor of shape " + Arrays.toString(shape));
    }
    long[] rowShape = Arrays.copyOfRange(shape, 1, shape.length);
    int n = Math.toIntExact(elementCount(rowShape));
    if (strings != null) {
      return new TensorData(dtype, rowShape, null, strings.subList(i * n, (i + 1) * n));
    }
    int width = n * dtype.byteSize();
    return new TensorData(dtype, rowShape, Arrays.copyOfRange(fixed, i * width, (i + 1) * width), null);
  }

  /**
   * The rows stacked along a new first dimension. All rows must have the same dtype and
   * shape (not checked beyond the total size).
   */
  public static TensorData stack(List<TensorData> rows) {
    TensorData first = rows.get(0);
    long[] shape = new long[first.rank() + 1];
    shape[0] = rows.size();
    System.arraycopy(first.shape, 0, shape, 1, first.rank());
    if (first.dtype == DType.BYTES) {
      List<byte[]> all = new java.util.ArrayList<>();
      rows.forEach(r -> all.addAll(r.strings()));
      return ofStrings(shape, all);
    }
    if (rows.size() == 1) {
      return new TensorData(first.dtype, shape, first.fixed, null);
    }
    int width = first.fixed.length;
    byte[] all = new byte[Math.multiplyExact(width, rows.size())];
    for (int r = 0; r < rows.size(); r++) {
      byte[] bytes = rows.get(r).bytes();
      if (bytes.length != width) {
        throw new IllegalArgumentException("row " + r + " holds " + bytes.length + " bytes, row 0 " + width);
      }
      System.arraycopy(bytes, 0, all, r * width, width);
    }
    return new TensorData(first.dtype, shape, all, null);
  }

  /** Same dtype and shape as {@code other}. */
  public boolean sameTypeAndShape(TensorData other) {
    return dtype == other.dtype && Arrays.equals(shape, other.shape);
  }

  /** The elements as floats, for embeddings. Numeric types only. */
  public float[] toFloats() {
    int n = Math.toIntExact(elementCount());
    float[] out = new float[n];
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.wrap(bytes()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      out[i] =
          switch (dtype) {
            case FP32 -> b.getFloat();
            case FP64 -> (float) b.getDouble();
            case INT32 -> b.getInt();
            case INT64 -> b.getLong();
            case UINT8 -> b.get() & 0xff;
            case UINT16 -> b.getShort() & 0xffff;
            case FP16 -> halfToFloat(b.getShort());
            case BF16 -> Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
            case BOOL -> b.get() != 0 ? 1f : 0f;
            case BYTES -> throw new IllegalStateException("BYTES is not numeric");
          };
    }
    return out;
  }

  /** IEEE 754 binary16 to float. */
  static float halfToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  @Override
  public String toString() {
    return dtype + Arrays.toString(shape);
  }
}
