package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.jointspace.api.inference.ModelInferRequest.InferInputTensor;
import io.jointspace.api.v1.DataType;
import io.jointspace.api.v1.Tensor;
import io.jointspace.server.runtime.TensorData;
import org.junit.jupiter.api.Test;

class TensorMapperTest {
  @Test
  void rawBools_areOneForEveryNonZeroByte() {
    // Found by TensorMapperFuzzTest: raw BOOL bytes went to TensorFlow as they came, so a 0x60
    // became a C++ bool that is neither true nor false (undefined behaviour in the kernels),
    // and the same tensor read back through typed contents was 1.
    ByteString raw = ByteString.copyFrom(new byte[] {0, 1, 0x60, (byte) 0xff});
    TensorData kserve = TensorMapper.fromInfer(InferInputTensor.newBuilder().setDatatype("BOOL").addShape(4).build(), raw,
        0);
    assertThat(kserve.bytes()).containsExactly(0, 1, 1, 1);
    TensorData tensor = TensorMapper.fromProto(Tensor.newBuilder().setDtype(DataType.BOOL).addShape(2).addShape(2)
        .setRawContent(raw).build(), "inputs[0].tensor");
    assertThat(tensor.bytes()).containsExactly(0, 1, 1, 1);
    assertThat(raw.toByteArray()).as("the request's bytes are left alone").containsExactly(0, 1, 0x60, 0xff);
  }

  @Test
  void anFp16OrBf16TensorWithoutElements_needsNoRawContent() {
    // Found by TensorMapperFuzzTest: proto3 cannot tell an empty raw_content from none, so a
    // half-precision tensor of shape [0] fell to the typed fields and was refused with
    // "FP16 values go in raw_content", while every other dtype's empty tensor was taken.
    for (DataType dtype : new DataType[] {DataType.FP16, DataType.BF16}) {
      TensorData t = TensorMapper.fromProto(Tensor.newBuilder().setDtype(dtype).addShape(2).addShape(0).build(),
          "inputs[0].tensor");
      assertThat(t.shape()).containsExactly(2, 0);
      assertThat(t.bytes()).isEmpty();
    }
  }
}
