package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.tensorflow.framework.ResourceHandleProto;
import io.jointspace.tensorflow.framework.TensorProto;
import io.jointspace.tensorflow.framework.TensorShapeProto;
import io.jointspace.tensorflow.framework.VariantTensorDataProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tensorflow.* messages defined in proto/ against TF Java's own generated ones (same
 * names, numbers and types: one wire format), and the TensorProto to TensorData rules.
 */
class TensorProtosTest {

  @Test
  void frameworkMessages_matchTensorFlowsOwn_fieldForField() {
    same(TensorProto.getDescriptor(), org.tensorflow.proto.TensorProto.getDescriptor());
    same(TensorShapeProto.getDescriptor(), org.tensorflow.proto.TensorShapeProto.getDescriptor());
    same(ResourceHandleProto.getDescriptor(), org.tensorflow.proto.ResourceHandleProto.getDescriptor());
    same(VariantTensorDataProto.getDescriptor(), org.tensorflow.proto.VariantTensorDataProto.getDescriptor());
    EnumDescriptor ours = io.jointspace.tensorflow.framework.DataType.getDescriptor();
    EnumDescriptor theirs = org.tensorflow.proto.DataType.getDescriptor();
    assertThat(ours.getFullName()).isEqualTo(theirs.getFullName());
    assertThat(ours.getValues().stream().map(v -> v.getName() + "=" + v.getNumber()).toList())
        .isEqualTo(theirs.getValues().stream().map(v -> v.getName() + "=" + v.getNumber()).toList());
    assertThat(TensorProto.getDescriptor().getFile().getName())
        .isEqualTo(org.tensorflow.proto.TensorProto.getDescriptor().getFile().getName());
  }

  private static void same(Descriptor ours, Descriptor theirs) {
    assertThat(ours.getFullName()).isEqualTo(theirs.getFullName());
    assertThat(ours.getFields()).hasSameSizeAs(theirs.getFields());
    for (FieldDescriptor f : theirs.getFields()) {
      FieldDescriptor o = ours.findFieldByNumber(f.getNumber());
      assertThat(o).as("%s field %d", theirs.getFullName(), f.getNumber()).isNotNull();
      sameField(o, f);
    }
    for (Descriptor nested : theirs.getNestedTypes()) {
      same(ours.findNestedTypeByName(nested.getName()), nested);
    }
  }

  /** Every field {@code ours} defines is TensorFlow's (number, name, type); it may leave some out. */
  private static void subset(Descriptor ours, Descriptor theirs) {
    assertThat(ours.getFullName()).isEqualTo(theirs.getFullName());
    for (FieldDescriptor o : ours.getFields()) {
      FieldDescriptor f = theirs.findFieldByNumber(o.getNumber());
      assertThat(f).as("%s field %d", theirs.getFullName(), o.getNumber()).isNotNull();
      sameField(o, f);
    }
    for (Descriptor nested : ours.getNestedTypes()) {
      same(nested, theirs.findNestedTypeByName(nested.getName()));
    }
  }

  private static void sameField(FieldDescriptor o, FieldDescriptor f) {
    assertThat(o.getName()).isEqualTo(f.getName());
    assertThat(o.getType()).isEqualTo(f.getType());
    assertThat(o.isRepeated()).isEqualTo(f.isRepeated());
    assertThat(o.isPacked()).as("%s packed", f.getFullName()).isEqualTo(f.isPacked());
    if (f.getType() == FieldDescriptor.Type.MESSAGE) {
      assertThat(o.getMessageType().getFullName()).isEqualTo(f.getMessageType().getFullName());
    }
    if (f.getType() == FieldDescriptor.Type.ENUM) {
      assertThat(o.getEnumType().getFullName()).isEqualTo(f.getEnumType().getFullName());
    }
  }

  /** What TF Serving's Classify, Regress and GetModelMetadata carry, against TF Java's own messages. */
  @Test
  void exampleAndSignatureMessages_matchTensorFlowsOwn() {
    same(io.jointspace.tensorflow.example.Example.getDescriptor(), org.tensorflow.proto.Example.getDescriptor());
    same(io.jointspace.tensorflow.example.Features.getDescriptor(), org.tensorflow.proto.Features.getDescriptor());
    same(io.jointspace.tensorflow.example.Feature.getDescriptor(), org.tensorflow.proto.Feature.getDescriptor());
    same(io.jointspace.tensorflow.example.BytesList.getDescriptor(), org.tensorflow.proto.BytesList.getDescriptor());
    same(io.jointspace.tensorflow.example.FloatList.getDescriptor(), org.tensorflow.proto.FloatList.getDescriptor());
    same(io.jointspace.tensorflow.example.Int64List.getDescriptor(), org.tensorflow.proto.Int64List.getDescriptor());
    same(io.jointspace.tensorflow.protobuf.SignatureDef.getDescriptor(), org.tensorflow.proto.SignatureDef.getDescriptor());
    // the sparse and composite encodings are left out
    subset(io.jointspace.tensorflow.protobuf.TensorInfo.getDescriptor(), org.tensorflow.proto.TensorInfo.getDescriptor());
    EnumDescriptor ours = io.jointspace.tensorflow.error.Code.getDescriptor();
    EnumDescriptor theirs = org.tensorflow.proto.error.Code.getDescriptor();
    assertThat(ours.getFullName()).isEqualTo(theirs.getFullName());
    assertThat(ours.getValues().stream().map(v -> v.getName() + "=" + v.getNumber()).toList())
        .isEqualTo(theirs.getValues().stream().map(v -> v.getName() + "=" + v.getNumber()).toList());
  }

  @Test
  void typedFields_holdEveryValue_andReadBackTheSame() {
    ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).putFloat(3f);
    TensorData floats = TensorData.ofBytes(DType.FP32, new long[] {3, 1}, b.array());
    TensorProto p = TensorProtos.toProtoField(floats);
    assertThat(p.getFloatValList()).containsExactly(1.5f, -2f, 3f);
    assertThat(p.getTensorContent().isEmpty()).isTrue();
    assertThat(TensorProtos.toTensorData(p).bytes()).isEqualTo(floats.bytes());
    TensorData bytes = TensorData.ofBytes(DType.UINT8, new long[] {2}, new byte[] {(byte) 200, 7});
    assertThat(TensorProtos.toProtoField(bytes).getIntValList()).containsExactly(200, 7);
    assertThat(TensorProtos.toTensorData(TensorProtos.toProtoField(bytes)).bytes()).isEqualTo(bytes.bytes());
    TensorData strings = TensorData.ofStrings(new long[] {2}, List.of("a".getBytes(), "bc".getBytes()));
    assertThat(TensorProtos.toProtoField(strings).getStringValList()).extracting(ByteString::toStringUtf8)
        .containsExactly("a", "bc");
  }

  @Test
  void aTensorSerializedByTensorFlowJava_parsesAsTheSameValues() throws Exception {
    org.tensorflow.proto.TensorProto tf = org.tensorflow.proto.TensorProto.newBuilder()
        .setDtype(org.tensorflow.proto.DataType.DT_FLOAT)
        .setTensorShape(org.tensorflow.proto.TensorShapeProto.newBuilder()
            .addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(2))
            .addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(2)))
        .addFloatVal(1).addFloatVal(2).addFloatVal(3).addFloatVal(4)
        .build();
    TensorData t = TensorProtos.toTensorData(TensorProto.parseFrom(tf.toByteArray()));
    assertThat(t.dtype()).isEqualTo(DType.FP32);
    assertThat(t.shape()).containsExactly(2, 2);
    assertThat(t.toFloats()).containsExactly(1, 2, 3, 4);
  }

  @Test
  void fewerTypedValuesThanElements_areFilledWithTheLast_orZeros() {
    TensorData one = TensorProtos.toTensorData(proto(io.jointspace.tensorflow.framework.DataType.DT_INT64, 3)
        .addInt64Val(7).build());
    assertThat(one.toFloats()).containsExactly(7, 7, 7);
    TensorData none = TensorProtos.toTensorData(proto(io.jointspace.tensorflow.framework.DataType.DT_FLOAT, 2).build());
    assertThat(none.toFloats()).containsExactly(0, 0);
    TensorData strings = TensorProtos.toTensorData(proto(io.jointspace.tensorflow.framework.DataType.DT_STRING, 2)
        .addStringVal(ByteString.copyFromUtf8("a")).build());
    assertThat(strings.strings()).extracting(String::new).containsExactly("a", "a");
  }

  @Test
  void tensorContent_winsOverTypedValues_andRoundTrips() {
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(5).putInt(-6);
    TensorProto p = proto(io.jointspace.tensorflow.framework.DataType.DT_INT32, 2)
        .setTensorContent(ByteString.copyFrom(b.array())).build();
    TensorData t = TensorProtos.toTensorData(p);
    assertThat(t.toFloats()).containsExactly(5, -6);
    assertThat(TensorProtos.toTensorData(TensorProtos.toProto(t)).bytes()).isEqualTo(t.bytes());
    TensorData s = TensorData.ofStrings(new long[] {2}, List.of(new byte[] {1}, new byte[] {2, 3}));
    assertThat(TensorProtos.toTensorData(TensorProtos.toProto(s)).strings()).containsExactly(new byte[] {1},
        new byte[] {2, 3});
  }

  @Test
  void tooManyValues_orAnUnfeedableType_areBadInput() {
    assertThatThrownBy(() -> TensorProtos.toTensorData(proto(io.jointspace.tensorflow.framework.DataType.DT_FLOAT, 1)
        .addFloatVal(1).addFloatVal(2).build()))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("2 values in float_val");
    assertThatThrownBy(() -> TensorProtos.toTensorData(proto(io.jointspace.tensorflow.framework.DataType.DT_INT8, 1)
        .build()))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("DT_INT8");
  }

  private static TensorProto.Builder proto(io.jointspace.tensorflow.framework.DataType dtype, long n) {
    return TensorProto.newBuilder().setDtype(dtype)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(n)));
  }
}
