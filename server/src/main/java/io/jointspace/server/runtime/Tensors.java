package io.jointspace.server.runtime;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.RawTensor;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.ByteDataBuffer;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TString;

/** Copies between {@link TensorData} and TensorFlow tensors. The caller closes what it gets. */
final class Tensors {
  private Tensors() {}

  static Tensor toTensor(TensorData data) {
    Shape shape = data.rank() == 0 ? Shape.scalar() : Shape.of(data.shape());
    if (data.dtype() == DType.BYTES) {
      byte[][] elements = data.strings().toArray(new byte[0][]);
      return TString.tensorOfBytes(shape, DataBuffers.ofObjects(elements));
    }
    return Tensor.of(data.dtype().tensorClass(), shape, DataBuffers.of(data.bytes()));
  }

  static TensorData fromTensor(Tensor tensor) {
    DType dtype =
        DType.fromTf(tensor.dataType())
            .orElseThrow(
                () ->
                    new UnsupportedOperationException(
                        "output dtype " + DType.tfName(tensor.dataType()) + " is not supported"));
    long[] shape = tensor.shape().asArray();
    if (dtype == DType.BYTES) {
      List<byte[]> out = new ArrayList<>();
      ((TString) tensor).asBytes().scalars().forEach(s -> out.add(s.getObject()));
      return TensorData.ofStrings(shape, out);
    }
    RawTensor raw = tensor.asRawTensor();
    ByteDataBuffer buffer = raw.data();
    byte[] bytes = new byte[Math.toIntExact(buffer.size())];
    buffer.read(bytes);
    return TensorData.ofBytes(dtype, shape, bytes);
  }
}
