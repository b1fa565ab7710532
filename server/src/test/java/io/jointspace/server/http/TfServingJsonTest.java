package io.jointspace.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.protobuf.ByteString;
import io.jointspace.server.http.TfServingJson.Format;
import io.jointspace.server.http.TfServingJson.Predict;
import io.jointspace.tensorflow.framework.DataType;
import io.jointspace.tensorflow.framework.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TfServingJsonTest {
  private static final Map<String, DataType> ONE_FLOAT = Map.of("x", DataType.DT_FLOAT);

  private static Predict predict(String body, Map<String, DataType> types) {
    return TfServingJson.predict(TfServingJson.parseObject(body), types);
  }

  private static List<Long> shape(TensorProto t) {
    return t.getTensorShape().getDimList().stream().map(d -> d.getSize()).toList();
  }

  @Test
  void rowForm_ofOneInput_stacksTheInstances() {
    Predict p = predict("{\"instances\": [[1.0], [2], [3.5]]}", ONE_FLOAT);
    assertThat(p.format()).isEqualTo(Format.ROW);
    TensorProto x = p.inputs().get("x");
    assertThat(shape(x)).containsExactly(3L, 1L);
    assertThat(x.getFloatValList()).containsExactly(1f, 2f, 3.5f);
  }

  @Test
  void rowForm_ofNamedInputs_makesOneTensorPerInput() {
    Map<String, DataType> types = Map.of("tag", DataType.DT_STRING, "signal", DataType.DT_INT64,
        "pixels", DataType.DT_UINT8);
    Predict p = predict("""
        {"instances": [
          {"tag": "foo", "signal": [1, 2, 3], "pixels": [1, 2]},
          {"tag": "bar", "signal": [4, 5, 6], "pixels": [3, 255]}]}""", types);
    assertThat(shape(p.inputs().get("tag"))).containsExactly(2L);
    assertThat(p.inputs().get("tag").getStringValList()).containsExactly(ByteString.copyFromUtf8("foo"),
        ByteString.copyFromUtf8("bar"));
    assertThat(shape(p.inputs().get("signal"))).containsExactly(2L, 3L);
    assertThat(p.inputs().get("signal").getInt64ValList()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(p.inputs().get("pixels").getIntValList()).containsExactly(1, 2, 3, 255);
  }

  @Test
  void columnarForm_keepsEachInputsOwnShape_andAScalarIsRankZero() {
    Map<String, DataType> types = Map.of("a", DataType.DT_DOUBLE, "b", DataType.DT_BOOL);
    Predict p = predict("{\"inputs\": {\"a\": 10, \"b\": [[true], [false]]}}", types);
    assertThat(p.format()).isEqualTo(Format.COLUMNAR);
    assertThat(shape(p.inputs().get("a"))).isEmpty();
    assertThat(p.inputs().get("a").getDoubleValList()).containsExactly(10d);
    assertThat(shape(p.inputs().get("b"))).containsExactly(2L, 1L);
    assertThat(p.inputs().get("b").getBoolValList()).containsExactly(true, false);
  }

  @Test
  void binaryStrings_comeAsBase64Objects_andNonFiniteFloatsAsBareTokens() {
    Predict p = predict("{\"instances\": [{\"b64\": \"aGVsbG8=\"}, \"plain\"]}", Map.of("s", DataType.DT_STRING));
    assertThat(p.inputs().get("s").getStringValList()).containsExactly(ByteString.copyFromUtf8("hello"),
        ByteString.copyFromUtf8("plain"));
    Predict f = predict("{\"inputs\": [NaN, Infinity, -Infinity, 1e3]}", ONE_FLOAT);
    assertThat(f.inputs().get("x").getFloatValList()).containsExactly(Float.NaN, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, 1000f);
  }

  @Test
  void badBodies_nameWhatIsWrong() {
    assertThatThrownBy(() -> predict("{\"instances\": [1", ONE_FLOAT)).isInstanceOf(HttpError.class)
        .hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> predict("[1, 2]", ONE_FLOAT)).hasMessageContaining("must be a JSON object");
    assertThatThrownBy(() -> predict("{}", ONE_FLOAT)).hasMessageContaining("'inputs' or 'instances'");
    assertThatThrownBy(() -> predict("{\"instances\": [1], \"inputs\": [1]}", ONE_FLOAT))
        .hasMessageContaining("not both");
    assertThatThrownBy(() -> predict("{\"instances\": []}", ONE_FLOAT)).hasMessageContaining("empty");
    assertThatThrownBy(() -> predict("{\"instances\": [[1, 2], [3]]}", ONE_FLOAT)).hasMessageContaining("ragged");
    assertThatThrownBy(() -> predict("{\"instances\": [[1, 2], 3]}", ONE_FLOAT)).hasMessageContaining("ragged");
    assertThatThrownBy(() -> predict("{\"instances\": [\"a\"]}", ONE_FLOAT))
        .hasMessageContaining("instances element 0 is \"a\"").hasMessageContaining("DT_FLOAT");
    assertThatThrownBy(() -> predict("{\"inputs\": {\"y\": [1]}}", ONE_FLOAT))
        .hasMessageContaining("input 'y'").hasMessageContaining("its inputs: x");
    assertThatThrownBy(() -> predict("{\"inputs\": [1]}", Map.of("a", DataType.DT_FLOAT, "b", DataType.DT_FLOAT)))
        .hasMessageContaining("2 inputs (a, b)");
    assertThatThrownBy(() -> predict("{\"inputs\": [1.5]}", Map.of("i", DataType.DT_INT32)))
        .hasMessageContaining("whole number");
    assertThatThrownBy(() -> predict("{\"inputs\": [256]}", Map.of("i", DataType.DT_UINT8)))
        .hasMessageContaining("out of DT_UINT8's range");
    assertThatThrownBy(() -> predict("{\"inputs\": [{\"b64\": \"***\"}]}", Map.of("s", DataType.DT_STRING)))
        .hasMessageContaining("not base64");
    assertThatThrownBy(() -> predict("{\"instances\": [{\"x\": [1]}, {\"z\": [1]}]}", ONE_FLOAT))
        .hasMessageContaining("instances[1] names the inputs [z]");
    assertThatThrownBy(() -> predict("{\"inputs\": [null]}", ONE_FLOAT)).hasMessageContaining("null");
  }

  private static TensorProto floats(long[] shape, float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorContent(ByteString.copyFrom(b.array()));
    for (long d : shape) {
      t.getTensorShapeBuilder().addDimBuilder().setSize(d);
    }
    return t.build();
  }

  private static String text(JsonObject o) {
    return TfServingJson.text(o);
  }

  @Test
  void replies_followTheRequestsForm() {
    Map<String, TensorProto> one = Map.of("y", floats(new long[] {3, 1}, 3f, 3.5f, 4f));
    assertThat(text(TfServingOutputs.reply(one, Format.ROW))).isEqualTo("{\"predictions\":[[3.0],[3.5],[4.0]]}");
    assertThat(text(TfServingOutputs.reply(one, Format.COLUMNAR))).isEqualTo("{\"outputs\":[[3.0],[3.5],[4.0]]}");

    Map<String, TensorProto> two = new LinkedHashMap<>();
    two.put("a", floats(new long[] {2}, 1f, Float.NaN));
    two.put("name_bytes", TensorProto.newBuilder().setDtype(DataType.DT_STRING)
        .setTensorShape(floats(new long[] {2}).getTensorShape())
        .addStringVal(ByteString.copyFromUtf8("hi")).addStringVal(ByteString.copyFrom(new byte[] {(byte) 0xff}))
        .build());
    assertThat(text(TfServingOutputs.reply(two, Format.ROW))).isEqualTo(
        "{\"predictions\":[{\"a\":1.0,\"name_bytes\":{\"b64\":\"aGk=\"}},{\"a\":NaN,\"name_bytes\":{\"b64\":\"/w==\"}}]}");
    assertThat(text(TfServingOutputs.reply(two, Format.COLUMNAR))).isEqualTo(
        "{\"outputs\":{\"a\":[1.0,NaN],\"name_bytes\":[{\"b64\":\"aGk=\"},{\"b64\":\"/w==\"}]}}");
  }

  @Test
  void rowReplies_needOneFirstDimension() {
    Map<String, TensorProto> mixed = new LinkedHashMap<>();
    mixed.put("a", floats(new long[] {2}, 1f, 2f));
    mixed.put("b", floats(new long[] {3}, 1f, 2f, 3f));
    assertThatThrownBy(() -> TfServingOutputs.reply(mixed, Format.ROW)).hasMessageContaining("'b' has 3 rows");
    assertThatThrownBy(() -> TfServingOutputs.reply(Map.of("s", floats(new long[0], 1f)), Format.ROW))
        .hasMessageContaining("scalar");
    assertThat(text(TfServingOutputs.reply(Map.of("s", floats(new long[0], 1f)), Format.COLUMNAR)))
        .isEqualTo("{\"outputs\":1.0}");
  }

  @Test
  void examples_typeFeaturesByTheirJson_withAContextWhenGiven() {
    io.jointspace.tensorflow.serving.Input in = TfServingExamples.examples(TfServingJson.parseObject("""
        {"context": {"lang": "en"},
         "examples": [{"x": 2.0, "ids": [1, 2], "img": {"b64": "AQ=="}, "flag": true}, {"x": [1e0, 3.5]}]}"""));
    assertThat(in.hasExampleListWithContext()).isTrue();
    var list = in.getExampleListWithContext();
    assertThat(list.getContext().getFeatures().getFeatureOrThrow("lang").getBytesList().getValue(0).toStringUtf8())
        .isEqualTo("en");
    var first = list.getExamples(0).getFeatures();
    assertThat(first.getFeatureOrThrow("x").getFloatList().getValueList()).containsExactly(2f);
    assertThat(first.getFeatureOrThrow("ids").getInt64List().getValueList()).containsExactly(1L, 2L);
    assertThat(first.getFeatureOrThrow("img").getBytesList().getValue(0).toByteArray()).containsExactly(1);
    assertThat(first.getFeatureOrThrow("flag").getInt64List().getValueList()).containsExactly(1L);
    assertThat(list.getExamples(1).getFeatures().getFeatureOrThrow("x").getFloatList().getValueList())
        .containsExactly(1f, 3.5f);

    assertThat(TfServingExamples.examples(TfServingJson.parseObject("{\"examples\": [{\"x\": 1}]}")).hasExampleList())
        .isTrue();
    assertThatThrownBy(() -> TfServingExamples.examples(TfServingJson.parseObject("{\"examples\": [{\"x\": [1, 2.5]}]}")))
        .hasMessageContaining("examples[0].x mixes kinds");
    assertThatThrownBy(() -> TfServingExamples.examples(TfServingJson.parseObject("{\"examples\": [{\"x\": [[1]]}]}")))
        .hasMessageContaining("examples[0].x holds a list");
    assertThatThrownBy(() -> TfServingExamples.examples(TfServingJson.parseObject("{\"examples\": []}")))
        .hasMessageContaining("empty");
    assertThatThrownBy(() -> TfServingExamples.examples(TfServingJson.parseObject("{\"instances\": [1]}")))
        .hasMessageContaining("missing 'examples'");
  }
}
