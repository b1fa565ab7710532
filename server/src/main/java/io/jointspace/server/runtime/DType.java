package io.jointspace.server.runtime;

import java.util.Optional;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint16;
import org.tensorflow.types.TUint8;
import org.tensorflow.types.family.TType;

/** Tensor element types the server can feed and fetch, with their TensorFlow counterparts. */
public enum DType {
  BOOL(1, DataType.DT_BOOL, TBool.class),
  UINT8(1, DataType.DT_UINT8, TUint8.class),
  UINT16(2, DataType.DT_UINT16, TUint16.class),
  INT32(4, DataType.DT_INT32, TInt32.class),
  INT64(8, DataType.DT_INT64, TInt64.class),
  FP16(2, DataType.DT_HALF, TFloat16.class),
  BF16(2, DataType.DT_BFLOAT16, TBfloat16.class),
  FP32(4, DataType.DT_FLOAT, TFloat32.class),
  FP64(8, DataType.DT_DOUBLE, TFloat64.class),
  /** Variable-length byte strings (DT_STRING). */
  BYTES(-1, DataType.DT_STRING, TString.class);

  private final int byteSize;
  private final DataType tf;
  private final Class<? extends TType> tensorClass;

  DType(int byteSize, DataType tf, Class<? extends TType> tensorClass) {
    this.byteSize = byteSize;
    this.tf = tf;
    this.tensorClass = tensorClass;
  }

  /** Bytes per element; -1 for BYTES. */
  public int byteSize() {
    return byteSize;
  }

  public DataType tf() {
    return tf;
  }

  Class<? extends TType> tensorClass() {
    return tensorClass;
  }

  /** The server type for a TensorFlow dtype; reference types map to their base type. */
  public static Optional<DType> fromTf(DataType dataType) {
    int number = dataType.getNumber();
    if (number > 100) { // DT_*_REF = base + 100
      DataType base = DataType.forNumber(number - 100);
      if (base != null) {
        dataType = base;
      }
    }
    for (DType d : values()) {
      if (d.tf == dataType) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  /** TensorFlow's name without the DT_ prefix and _REF suffix, for messages: "float", "string". */
  public static String tfName(DataType dataType) {
    String n = dataType.name();
    if (n.startsWith("DT_")) {
      n = n.substring(3);
    }
    if (n.endsWith("_REF")) {
      n = n.substring(0, n.length() - 4);
    }
    return n.toLowerCase(java.util.Locale.ROOT);
  }
}
