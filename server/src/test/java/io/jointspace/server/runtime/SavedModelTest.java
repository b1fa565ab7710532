package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jointspace.server.TestModels;
import io.jointspace.server.errors.InvalidInputException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SavedModelTest {
  @TempDir static Path dir;
  static SavedModel model;

  @BeforeAll
  static void load() throws Exception {
    TestModels.writeEncoder(dir.resolve("1"), 1f);
    model = SavedModel.load(dir.resolve("1"), LoadOptions.DEFAULT);
  }

  @AfterAll
  static void close() {
    model.close();
  }

  static TensorData floats(long[] shape, float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return TensorData.ofBytes(DType.FP32, shape, b.array());
  }

  @Test
  void signatures_areReadFromTheSavedModel() {
    assertThat(model.signatures().keySet())
        .containsExactlyInAnyOrder("serving_default", "f64", "i32", "i64", "bool", "bytes", "u8", "add", "square");
    assertThat(model.defaultSignature()).contains("serving_default");
    TensorSpec x = model.signature("").inputs().get("x");
    assertThat(x.dtype()).contains(DType.FP32);
    assertThat(x.shape()).containsExactly(-1, 4);
    assertThat(x.batched()).isTrue();
    assertThat(model.defaultOutputWidth()).isEqualTo(3);
    assertThat(model.signature("square").inputs().get("s").batched()).isFalse();
  }

  @Test
  void run_computesTheGraph() {
    SignatureInfo sig = model.signature("");
    TensorData out = model.run(sig, Map.of("x", floats(new long[] {1, 4}, 1, 2, 3, 4)), List.of()).get("embedding");
    assertThat(out.shape()).containsExactly(1, 3);
    assertThat(out.toFloats()).containsExactly(TestModels.expectedEmbedding(new float[] {1, 2, 3, 4}, 1f),
        org.assertj.core.data.Offset.offset(1e-6f));
  }

  @Test
  void run_bytesSignature_roundTripsArbitraryBytes() {
    byte[] binary = {0, (byte) 0xff, 10, 13};
    TensorData in = TensorData.ofStrings(new long[] {2}, List.of("héllo".getBytes(StandardCharsets.UTF_8), binary));
    TensorData out = model.run(model.signature("bytes"), Map.of("s", in), List.of()).get("out");
    assertThat(out.strings()).containsExactly("héllo".getBytes(StandardCharsets.UTF_8), binary);
  }

  @Test
  void run_rejectsWrongDtypeShapeAndNames() {
    SignatureInfo sig = model.signature("");
    assertThatThrownBy(() -> model.run(sig, Map.of("x", floats(new long[] {1, 3}, 1, 2, 3)), List.of()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("input 'x' has shape [1, 3]").hasMessageContaining("[-1, 4]");
    TensorData ints = TensorData.ofBytes(DType.INT32, new long[] {1, 4}, new byte[16]);
    assertThatThrownBy(() -> model.run(sig, Map.of("x", ints), List.of()))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("dtype INT32").hasMessageContaining("FP32");
    assertThatThrownBy(() -> model.run(sig, Map.of(), List.of()))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("input 'x'").hasMessageContaining("missing");
    assertThatThrownBy(() -> model.run(sig, Map.of("x", floats(new long[] {1, 4}, 1, 2, 3, 4), "z", ints), List.of()))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("'z' is not an input");
    assertThatThrownBy(() -> model.run(sig, Map.of("x", floats(new long[] {1, 4}, 1, 2, 3, 4)), List.of("nope")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("'nope' is not an output");
    assertThatThrownBy(() -> model.signature("nope"))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("'nope' is not a signature");
  }

  @Test
  void load_failsWithTheReason_forAFolderWithoutSavedModel(@TempDir Path empty) {
    assertThatThrownBy(() -> SavedModel.load(empty, LoadOptions.DEFAULT))
        .hasMessageContaining("no saved_model.pb or saved_model.pbtxt");
  }

  @Test
  void load_failsWithTheReason_forWrongTags() {
    assertThatThrownBy(() -> SavedModel.load(dir.resolve("1"), new LoadOptions(List.of("gpu"), "", 0, 0, true, false)))
        .hasMessageContaining("tags [gpu]").hasMessageContaining("[serve]");
  }

  @Test
  void load_failsForAConfiguredDefaultSignatureThatIsMissing() {
    assertThatThrownBy(() -> SavedModel.load(dir.resolve("1"), new LoadOptions(List.of("serve"), "nope", 0, 0, true, false)))
        .hasMessageContaining("default_signature 'nope'");
  }
}
