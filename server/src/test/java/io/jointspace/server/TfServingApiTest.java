package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import com.google.protobuf.Int64Value;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jointspace.config.v1.ModelConfig;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.config.v1.VersionPolicy;
import io.jointspace.tensorflow.example.Example;
import io.jointspace.tensorflow.example.Feature;
import io.jointspace.tensorflow.example.Features;
import io.jointspace.tensorflow.example.FloatList;
import io.jointspace.tensorflow.framework.DataType;
import io.jointspace.tensorflow.framework.TensorProto;
import io.jointspace.tensorflow.framework.TensorShapeProto;
import io.jointspace.tensorflow.protobuf.SignatureDef;
import io.jointspace.tensorflow.serving.ClassificationRequest;
import io.jointspace.tensorflow.serving.ClassificationResponse;
import io.jointspace.tensorflow.serving.ExampleList;
import io.jointspace.tensorflow.serving.ExampleListWithContext;
import io.jointspace.tensorflow.serving.GetModelMetadataRequest;
import io.jointspace.tensorflow.serving.GetModelMetadataResponse;
import io.jointspace.tensorflow.serving.GetModelStatusRequest;
import io.jointspace.tensorflow.serving.GetModelStatusResponse;
import io.jointspace.tensorflow.serving.InferenceResult;
import io.jointspace.tensorflow.serving.InferenceTask;
import io.jointspace.tensorflow.serving.Input;
import io.jointspace.tensorflow.serving.ModelServiceGrpc;
import io.jointspace.tensorflow.serving.ModelSpec;
import io.jointspace.tensorflow.serving.ModelVersionStatus;
import io.jointspace.tensorflow.serving.MultiInferenceRequest;
import io.jointspace.tensorflow.serving.MultiInferenceResponse;
import io.jointspace.tensorflow.serving.PredictRequest;
import io.jointspace.tensorflow.serving.PredictResponse;
import io.jointspace.tensorflow.serving.PredictionServiceGrpc;
import io.jointspace.tensorflow.serving.Regression;
import io.jointspace.tensorflow.serving.RegressionRequest;
import io.jointspace.tensorflow.serving.ReloadConfigRequest;
import io.jointspace.tensorflow.serving.SignatureDefMap;
import io.jointspace.tensorflow.error.Code;
import java.nio.file.Files;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * TF Serving's gRPC API (tensorflow.serving.PredictionService and ModelService) over real
 * gRPC, against TF Serving's own test SavedModels and expected values (see
 * ../shared/testdata/savedmodels/README.md). Skipped, with the reason, where that folder is
 * absent.
 */
class TfServingApiTest {
  static final String CPU = "saved_model_half_plus_two_cpu";
  static final String TWO_VERSIONS = "saved_model_half_plus_two_2_versions";
  static final String TF2 = "saved_model_half_plus_two_tf2_cpu";
  static final String THREE = "saved_model_half_plus_three";
  private static final String COUNTER = "saved_model_counter";
  private static final String MNIST = "vespa_mnist_softmax";
  private static final String BAD = "bad_half_plus_two";
  /** saved_model_half_plus_two_cpu under the name TF Serving's metadata fixture expects. */
  static final String DEFAULT = "default";

  private static final float[] MNIST_SOFTMAX_ZERO_LOGITS = {
    -0.3546536862850189f, 0.3759574592113495f, 0.06054411828517914f, -0.251544713973999f,
    0.017951013520359993f, 1.2899067401885986f, -0.10389615595340729f, 0.6367976665496826f,
    -1.4136744737625122f, -0.2573896050453186f,
  };

  @TempDir static Path temp;
  static Path fixtures;
  static ServerFixture fixture;
  static PredictionServiceGrpc.PredictionServiceBlockingStub predict;
  static ModelServiceGrpc.ModelServiceBlockingStub models;
  static String skipReason;

  @BeforeAll
  static void startServer() throws Exception {
    fixtures = ExternalCompatibilityTest.locateFixtures();
    if (fixtures == null) {
      skipReason = "the third-party SavedModel fixtures folder ../shared/testdata/savedmodels was not found from "
          + Path.of("").toAbsolutePath();
      System.err.println("TfServingApiTest skipped: " + skipReason);
      return;
    }
    Path repo = temp.resolve("repo");
    ServerConfig.Builder config = repository(fixtures, repo, List.of(CPU, TWO_VERSIONS, TF2, THREE, COUNTER, MNIST, BAD))
        .setLoadThreads(4);
    fixture = ServerFixture.start(config, repo);
    predict = PredictionServiceGrpc.newBlockingStub(fixture.channel);
    models = ModelServiceGrpc.newBlockingStub(fixture.channel);
  }

  /**
   * {@code models} from TF Serving's fixtures copied into {@code repo}, and the configuration
   * TF Serving's tests assume: both versions of the 2-versions model, labelled stable (123) and
   * canary (124), and saved_model_half_plus_two_cpu also served as {@link #DEFAULT}.
   */
  static ServerConfig.Builder repository(Path fixtures, Path repo, List<String> models) throws IOException {
    for (String model : models) {
      ExternalCompatibilityTest.copyWritable(fixtures.resolve(model), repo.resolve(model));
    }
    return ServerConfig.newBuilder()
        .addModels(ModelConfig.newBuilder()
            .setName(TWO_VERSIONS)
            .setVersionPolicy(VersionPolicy.newBuilder().setAll(VersionPolicy.All.getDefaultInstance()))
            .putVersionLabels("stable", 123)
            .putVersionLabels("canary", 124))
        .addModels(ModelConfig.newBuilder()
            .setName(DEFAULT)
            .setBasePath(repo.resolve(CPU).toString()));
  }

  @BeforeEach
  void requireFixtures() {
    Assumptions.assumeTrue(skipReason == null, () -> skipReason);
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
  }

  // ------------------------------------------------------------------ helpers

  static ModelSpec spec(String name, String signature) {
    return ModelSpec.newBuilder().setName(name).setSignatureName(signature).build();
  }

  static TensorShapeProto shape(long... dims) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    for (long d : dims) {
      b.addDimBuilder().setSize(d);
    }
    return b.build();
  }

  static TensorProto floats(long[] dims, float... values) {
    TensorProto.Builder b = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(dims));
    for (float v : values) {
      b.addFloatVal(v);
    }
    return b.build();
  }

  static PredictResponse predict(ModelSpec spec, Map<String, TensorProto> inputs) {
    return predict.predict(PredictRequest.newBuilder().setModelSpec(spec).putAllInputs(inputs).build());
  }

  static Example example(Map<String, Float> features) {
    Features.Builder f = Features.newBuilder();
    features.forEach((k, v) -> f.putFeature(k, Feature.newBuilder().setFloatList(FloatList.newBuilder().addValue(v)).build()));
    return Example.newBuilder().setFeatures(f).build();
  }

  static Input examples(float... xs) {
    ExampleList.Builder list = ExampleList.newBuilder();
    for (float x : xs) {
      list.addExamples(example(Map.of("x", x)));
    }
    return Input.newBuilder().setExampleList(list).build();
  }

  static List<Float> regress(ModelSpec spec, Input input) {
    return predict.regress(RegressionRequest.newBuilder().setModelSpec(spec).setInput(input).build())
        .getResult().getRegressionsList().stream().map(Regression::getValue).toList();
  }

  static StatusRuntimeException failure(Executable call) {
    try {
      call.execute();
    } catch (StatusRuntimeException e) {
      return e;
    } catch (Throwable t) {
      throw new AssertionError("expected a gRPC error, got " + t, t);
    }
    throw new AssertionError("expected a gRPC error, the call succeeded");
  }

  static void assertFails(Executable call, Status.Code code, String... messageParts) {
    StatusRuntimeException e = failure(call);
    assertThat(e.getStatus().getCode()).as(String.valueOf(e.getStatus())).isEqualTo(code);
    assertThat(e.getStatus().getDescription()).contains(messageParts);
  }

  // ------------------------------------------------------------------ Predict

  @Test
  void predict_halfPlusTwo_typedValuesIn_typedValuesOut_echoesResolvedSpec() {
    PredictResponse r = predict(spec(CPU, ""), Map.of("x", floats(new long[] {3, 1}, 2f, 3f, 4f)));
    TensorProto y = r.getOutputsOrThrow("y");
    assertThat(y.getDtype()).isEqualTo(DataType.DT_FLOAT);
    assertThat(y.getTensorShape()).isEqualTo(shape(3, 1));
    assertThat(y.getFloatValList()).containsExactly(3.0f, 3.5f, 4.0f); // as TF Serving: float_val, not tensor_content
    assertThat(r.getModelSpec()).isEqualTo(ModelSpec.newBuilder().setName(CPU).setVersion(Int64Value.of(123))
        .setSignatureName("serving_default").build());
  }

  @Test
  void predict_tensorContent_andOutputFilter() {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(2f).putFloat(4f);
    TensorProto x = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(2, 1))
        .setTensorContent(ByteString.copyFrom(b.array())).build();
    PredictResponse r = predict.predict(PredictRequest.newBuilder().setModelSpec(spec(CPU, "serving_default"))
        .putInputs("x", x).addOutputFilter("y").build());
    assertThat(r.getOutputsMap()).containsOnlyKeys("y");
    assertThat(r.getOutputsOrThrow("y").getFloatValList()).containsExactly(3.0f, 4.0f);
  }

  @Test
  void predict_tf2Model_andHalfPlusThree_whoseRegressSignatureTfJavaRejects() {
    assertThat(predict(spec(TF2, ""), Map.of("x", floats(new long[] {1}, 2f))).getOutputsOrThrow("y").getFloatValList())
        .containsExactly(3.0f);
    assertThat(predict(spec(THREE, ""), Map.of("x", floats(new long[] {1}, 2f))).getOutputsOrThrow("y").getFloatValList())
        .containsExactly(4.0f);
  }

  @Test
  void predict_takesTheShapesTensorFlowTakes_asTfServingDoes() {
    // TF Serving's own VerifyPredictRequest: x of shape [1] where the signature records [-1, 1]
    TensorProto y = predict(spec(CPU, "serving_default"), Map.of("x", floats(new long[] {1}, 2f)))
        .getOutputsOrThrow("y");
    assertThat(y.getTensorShape()).isEqualTo(shape(1));
    assertThat(y.getFloatValList()).containsExactly(3.0f);
    // rows of a shape the signature records still share batches with others; this one runs alone
    assertThat(predict(spec(CPU, ""), Map.of("x", floats(new long[] {3}, 2f, 3f, 4f))).getOutputsOrThrow("y")
        .getFloatValList()).containsExactly(3.0f, 3.5f, 4.0f);
    // a shape the graph itself refuses is still INVALID_ARGUMENT
    assertFails(() -> predict(spec(MNIST, ""), Map.of("x", floats(new long[] {1, 10}, new float[10]))),
        Status.Code.INVALID_ARGUMENT, "rejected");
  }

  @Test
  void predict_scalarInput() {
    TensorProto y = predict(spec(THREE, ""), Map.of("x", floats(new long[] {}, 2f))).getOutputsOrThrow("y");
    assertThat(y.getTensorShape().getDimCount()).isZero();
    assertThat(y.getFloatValList()).containsExactly(4.0f);
  }

  @Test
  void predict_versionAndVersionLabel_selectTheVersion() {
    Map<String, TensorProto> x = Map.of("x", floats(new long[] {1, 1}, 2f));
    ModelSpec v123 = ModelSpec.newBuilder().setName(TWO_VERSIONS).setVersion(Int64Value.of(123)).build();
    assertThat(predict(v123, x).getModelSpec().getVersion().getValue()).isEqualTo(123);
    assertThat(predict(v123, x).getOutputsOrThrow("y").getFloatValList()).containsExactly(3.0f);
    assertThat(predict(spec(TWO_VERSIONS, ""), x).getModelSpec().getVersion().getValue()).isEqualTo(124);
    ModelSpec stable = ModelSpec.newBuilder().setName(TWO_VERSIONS).setVersionLabel("stable").build();
    ModelSpec canary = ModelSpec.newBuilder().setName(TWO_VERSIONS).setVersionLabel("canary").build();
    assertThat(predict(stable, x).getModelSpec().getVersion().getValue()).isEqualTo(123);
    assertThat(predict(canary, x).getModelSpec().getVersion().getValue()).isEqualTo(124);
    assertFails(() -> predict(ModelSpec.newBuilder().setName(TWO_VERSIONS).setVersion(Int64Value.of(999)).build(), x),
        Status.Code.NOT_FOUND, "999");
    assertFails(() -> predict(ModelSpec.newBuilder().setName(TWO_VERSIONS).setVersionLabel("nope").build(), x),
        Status.Code.NOT_FOUND, "nope");
  }

  @Test
  void predict_counter_isStatefulAcrossSignatures() {
    List<Float> seen = new ArrayList<>();
    for (String sig : List.of("get_counter", "incr_counter", "reset_counter", "incr_counter")) {
      seen.add(predict(spec(COUNTER, sig), Map.of()).getOutputsOrThrow("output").getFloatVal(0));
    }
    seen.add(predict(spec(COUNTER, "incr_counter_by"), Map.of("delta", floats(new long[] {}, 3f)))
        .getOutputsOrThrow("output").getFloatVal(0));
    assertThat(seen).containsExactly(0f, 1f, 0f, 1f, 4f);
  }

  @Test
  void predict_mnistSoftmax_zeroImage_givesVespasLogits() {
    TensorProto zeros = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(1, 784))
        .setTensorContent(ByteString.copyFrom(new byte[784 * 4])).build();
    TensorProto y = predict(spec(MNIST, ""), Map.of("x", zeros)).getOutputsOrThrow("y");
    assertThat(y.getTensorShape()).isEqualTo(shape(1, 10));
    for (int i = 0; i < 10; i++) {
      assertThat(y.getFloatVal(i)).as("logit " + i).isCloseTo(MNIST_SOFTMAX_ZERO_LOGITS[i], within(1e-5f));
    }
  }

  @Test
  void predict_errors_nameTheField() {
    Map<String, TensorProto> x = Map.of("x", floats(new long[] {1, 1}, 2f));
    assertFails(() -> predict(spec("no_such_model", ""), x), Status.Code.NOT_FOUND, "no_such_model");
    assertFails(() -> predict(spec("", ""), x), Status.Code.INVALID_ARGUMENT, "model_spec.name");
    assertFails(() -> predict(spec(CPU, ""), Map.of()), Status.Code.INVALID_ARGUMENT, "inputs", "\"x\"");
    assertFails(() -> predict(spec(CPU, ""), Map.of("x", x.get("x"), "z", x.get("x"))),
        Status.Code.INVALID_ARGUMENT, "inputs[\"z\"]");
    assertFails(() -> predict.predict(PredictRequest.newBuilder().setModelSpec(spec(CPU, "")).putAllInputs(x)
        .addOutputFilter("nope").build()), Status.Code.INVALID_ARGUMENT, "output_filter[0]", "nope");
    assertFails(() -> predict(spec(CPU, ""), Map.of("x", floats(new long[] {2, 1}, 1f, 2f, 3f))),
        Status.Code.INVALID_ARGUMENT, "inputs[\"x\"]");
    assertFails(() -> predict(spec(CPU, ""), Map.of("x", TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(shape(1, 1)).addIntVal(2).build())), Status.Code.INVALID_ARGUMENT, "x");
    assertFails(() -> predict(spec(CPU, "nope"), x), Status.Code.FAILED_PRECONDITION, "signature_name", "nope");
    // TF Serving answers FAILED_PRECONDITION for a model whose version did not load
    assertFails(() -> predict(spec(BAD, ""), x), Status.Code.FAILED_PRECONDITION, "123");
  }

  // ------------------------------------------------------------------ Classify, Regress, MultiInference

  @Test
  void classifyAndRegress_onExamples_tf1Model() {
    ClassificationResponse c = predict.classify(ClassificationRequest.newBuilder()
        .setModelSpec(spec(CPU, "classify_x_to_y")).setInput(examples(2f)).build());
    assertThat(c.getResult().getClassificationsCount()).isEqualTo(1);
    assertThat(c.getResult().getClassifications(0).getClassesList()).singleElement()
        .satisfies(cl -> {
          assertThat(cl.getScore()).isEqualTo(3.0f);
          assertThat(cl.getLabel()).isEmpty();
        });
    assertThat(c.getModelSpec()).isEqualTo(ModelSpec.newBuilder().setName(CPU).setVersion(Int64Value.of(123))
        .setSignatureName("classify_x_to_y").build());
    assertThat(regress(spec(CPU, "regress_x_to_y"), examples(0f, 1f, 2f, 3f))).containsExactly(2.0f, 2.5f, 3.0f, 3.5f);
    assertThat(regress(spec(CPU, "regress_x_to_y2"), examples(2f))).containsExactly(4.0f);
  }

  @Test
  void regress_exampleListWithContext_mergesTheContextIntoEachExample() {
    Input input = Input.newBuilder().setExampleListWithContext(ExampleListWithContext.newBuilder()
        .setContext(example(Map.of("x", 2f)))
        .addExamples(Example.getDefaultInstance())
        .addExamples(example(Map.of("x", 3f)))).build();
    assertThat(regress(spec(CPU, "regress_x_to_y"), input)).containsExactly(3.0f, 3.5f);
  }

  @Test
  void classifyAndRegress_tf2Model_whoseSignaturesAreAllPredict() {
    assertThat(predict.classify(ClassificationRequest.newBuilder().setModelSpec(spec(TF2, "classify_x_to_y"))
        .setInput(examples(2f)).build()).getResult().getClassifications(0).getClasses(0).getScore()).isEqualTo(3.0f);
    assertThat(regress(spec(TF2, "regress_x_to_y"), examples(2f))).containsExactly(3.0f);
    assertThat(regress(spec(TF2, "regress_x_to_y2"), examples(2f))).containsExactly(4.0f);
  }

  @Test
  void classifyAndRegress_versionLabel() {
    RegressionRequest r = RegressionRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(TWO_VERSIONS)
        .setVersionLabel("stable").setSignatureName("regress_x_to_y")).setInput(examples(2f)).build();
    assertThat(predict.regress(r).getModelSpec().getVersion().getValue()).isEqualTo(123);
    assertThat(predict.regress(r).getResult().getRegressions(0).getValue()).isEqualTo(3.0f);
  }

  @Test
  void classifyAndRegress_errors() {
    assertFails(() -> predict.classify(ClassificationRequest.newBuilder().setModelSpec(spec(CPU, "regress_x_to_y"))
        .setInput(examples(2f)).build()), Status.Code.INVALID_ARGUMENT, "method_name", "tensorflow/serving/classify",
        "tensorflow/serving/regress");
    assertFails(() -> regress(spec(CPU, "classify_x_to_y"), examples(2f)), Status.Code.INVALID_ARGUMENT,
        "method_name", "tensorflow/serving/regress");
    // TF2: all predict, judged by inputs and outputs
    assertFails(() -> regress(spec(TF2, "classify_x_to_y"), examples(2f)), Status.Code.INVALID_ARGUMENT,
        "model_spec.signature_name", "outputs");
    assertFails(() -> regress(spec(TF2, ""), examples(2f)), Status.Code.INVALID_ARGUMENT,
        "model_spec.signature_name", "inputs");
    assertFails(() -> regress(spec(CPU, "nope"), examples(2f)), Status.Code.INVALID_ARGUMENT, "nope");
    assertFails(() -> regress(spec(CPU, "regress_x_to_y"), Input.getDefaultInstance()), Status.Code.INVALID_ARGUMENT,
        "input");
    assertFails(() -> regress(spec(CPU, "regress_x_to_y"), Input.newBuilder().setExampleList(ExampleList.getDefaultInstance())
        .build()), Status.Code.INVALID_ARGUMENT, "input.example_list.examples");
    assertFails(() -> regress(spec("no_such_model", "regress_x_to_y"), examples(2f)), Status.Code.NOT_FOUND, "no_such_model");
  }

  @Test
  void multiInference_classifyAndRegress_overTheSameExamples() {
    MultiInferenceResponse r = predict.multiInference(MultiInferenceRequest.newBuilder()
        .addTasks(InferenceTask.newBuilder().setModelSpec(spec(CPU, "classify_x_to_y"))
            .setMethodName("tensorflow/serving/classify"))
        .addTasks(InferenceTask.newBuilder().setModelSpec(spec(CPU, "regress_x_to_y2"))
            .setMethodName("tensorflow/serving/regress"))
        .setInput(examples(2f, 4f)).build());
    assertThat(r.getResultsCount()).isEqualTo(2);
    InferenceResult classify = r.getResults(0);
    assertThat(classify.getModelSpec().getSignatureName()).isEqualTo("classify_x_to_y");
    assertThat(classify.getModelSpec().getVersion().getValue()).isEqualTo(123);
    assertThat(classify.getClassificationResult().getClassificationsList())
        .extracting(c -> c.getClasses(0).getScore()).containsExactly(3.0f, 4.0f);
    assertThat(r.getResults(1).getRegressionResult().getRegressionsList()).extracting(Regression::getValue)
        .containsExactly(4.0f, 5.0f);
  }

  @Test
  void multiInference_errors() {
    InferenceTask classify = InferenceTask.newBuilder().setModelSpec(spec(CPU, "classify_x_to_y"))
        .setMethodName("tensorflow/serving/classify").build();
    assertFails(() -> predict.multiInference(MultiInferenceRequest.newBuilder().setInput(examples(2f)).build()),
        Status.Code.INVALID_ARGUMENT, "tasks");
    assertFails(() -> predict.multiInference(MultiInferenceRequest.newBuilder().addTasks(classify)
        .addTasks(InferenceTask.newBuilder().setModelSpec(spec(TF2, "regress_x_to_y"))
            .setMethodName("tensorflow/serving/regress"))
        .setInput(examples(2f)).build()), Status.Code.INVALID_ARGUMENT, "tasks[1].model_spec");
    assertFails(() -> predict.multiInference(MultiInferenceRequest.newBuilder()
        .addTasks(classify.toBuilder().setMethodName("tensorflow/serving/predict"))
        .setInput(examples(2f)).build()), Status.Code.INVALID_ARGUMENT, "tasks[0].method_name");
    assertFails(() -> predict.multiInference(MultiInferenceRequest.newBuilder().addTasks(classify).addTasks(classify)
        .setInput(examples(2f)).build()), Status.Code.INVALID_ARGUMENT, "tasks[1].model_spec.signature_name");
  }

  // ------------------------------------------------------------------ GetModelMetadata

  static GetModelMetadataResponse metadata(ModelSpec spec) {
    return predict.getModelMetadata(GetModelMetadataRequest.newBuilder().setModelSpec(spec)
        .addMetadataField("signature_def").build());
  }

  /** TF Serving's expected metadata JSON: the echoed spec and the SignatureDefMap. */
  static Map.Entry<ModelSpec, SignatureDefMap> expected(String file) throws Exception {
    com.google.gson.JsonObject json = com.google.gson.JsonParser.parseString(Files.readString(fixtures.resolve(file)))
        .getAsJsonObject();
    ModelSpec.Builder spec = ModelSpec.newBuilder();
    JsonFormat.parser().merge(json.get("model_spec").toString(), spec);
    SignatureDefMap.Builder map = SignatureDefMap.newBuilder();
    JsonFormat.parser().merge(json.getAsJsonObject("metadata").get("signature_def").toString(), map);
    return Map.entry(spec.build(), map.build());
  }

  static SignatureDefMap unpack(GetModelMetadataResponse r) throws Exception {
    assertThat(r.getMetadataMap()).containsOnlyKeys("signature_def");
    assertThat(r.getMetadataOrThrow("signature_def").getTypeUrl())
        .isEqualTo("type.googleapis.com/tensorflow.serving.SignatureDefMap");
    return r.getMetadataOrThrow("signature_def").unpack(SignatureDefMap.class);
  }

  @Test
  void getModelMetadata_matchesTfServingsExpectedResponse() throws Exception {
    Map.Entry<ModelSpec, SignatureDefMap> want = expected("half_plus_two_model_metadata.json");
    GetModelMetadataResponse got = metadata(spec(DEFAULT, ""));
    assertThat(got.getModelSpec()).isEqualTo(want.getKey());
    assertThat(unpack(got)).isEqualTo(want.getValue());
  }

  @Test
  void getModelMetadata_twoVersions_matchesTfServingsExpectedResponse() throws Exception {
    Map.Entry<ModelSpec, SignatureDefMap> want = expected("saved_model_half_plus_two_2_versions_metadata.json");
    GetModelMetadataResponse got = metadata(want.getKey());
    assertThat(got.getModelSpec()).isEqualTo(want.getKey());
    assertThat(unpack(got)).isEqualTo(want.getValue());
  }

  @Test
  void getModelMetadata_tf2_leavesOutTheInitOp_restAsTfServing() throws Exception {
    SignatureDefMap want = expected("saved_model_half_plus_two_tf2_2_versions_metadata.json").getValue();
    assertThat(want.getSignatureDefMap()).containsKey("__saved_model_init_op");
    SignatureDefMap got = unpack(metadata(spec(TF2, "")));
    assertThat(got.getSignatureDefMap()).doesNotContainKey("__saved_model_init_op");
    assertThat(got).isEqualTo(want.toBuilder().removeSignatureDef("__saved_model_init_op").build());
  }

  @Test
  void getModelMetadata_referenceDtypesReportedAsBase_unknownRank() throws Exception {
    SignatureDefMap got = unpack(metadata(spec(COUNTER, "")));
    SignatureDef incrBy = got.getSignatureDefOrThrow("incr_counter_by");
    assertThat(incrBy.getOutputsOrThrow("output").getDtype()).isEqualTo(DataType.DT_FLOAT);
    assertThat(incrBy.getInputsOrThrow("delta").getTensorShape().getUnknownRank()).isTrue();
    assertThat(incrBy.getInputsOrThrow("delta").getName()).isEqualTo("delta:0");
  }

  @Test
  void getModelMetadata_errors() {
    assertFails(() -> predict.getModelMetadata(GetModelMetadataRequest.newBuilder().setModelSpec(spec(CPU, ""))
        .addMetadataField("signature_def").addMetadataField("graph").build()),
        Status.Code.INVALID_ARGUMENT, "metadata_field[1]", "graph");
    assertFails(() -> predict.getModelMetadata(GetModelMetadataRequest.newBuilder().setModelSpec(spec(CPU, "")).build()),
        Status.Code.INVALID_ARGUMENT, "metadata_field");
    assertFails(() -> metadata(spec("no_such_model", "")), Status.Code.NOT_FOUND, "no_such_model");
  }

  // ------------------------------------------------------------------ ModelService

  static GetModelStatusResponse status(ModelSpec spec) {
    return models.getModelStatus(GetModelStatusRequest.newBuilder().setModelSpec(spec).build());
  }

  @Test
  void getModelStatus_everyVersion_oneVersion_aLabelsVersion() {
    assertThat(status(spec(TWO_VERSIONS, "")).getModelVersionStatusList())
        .extracting(ModelVersionStatus::getVersion, ModelVersionStatus::getState, s -> s.getStatus().getErrorCode())
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(123L, ModelVersionStatus.State.AVAILABLE, Code.OK),
            org.assertj.core.groups.Tuple.tuple(124L, ModelVersionStatus.State.AVAILABLE, Code.OK));
    assertThat(status(ModelSpec.newBuilder().setName(TWO_VERSIONS).setVersion(Int64Value.of(123)).build())
        .getModelVersionStatusList()).extracting(ModelVersionStatus::getVersion).containsExactly(123L);
    assertThat(status(ModelSpec.newBuilder().setName(TWO_VERSIONS).setVersionLabel("canary").build())
        .getModelVersionStatusList()).extracting(ModelVersionStatus::getVersion).containsExactly(124L);
  }

  @Test
  void getModelStatus_failedVersion_isEndWithItsError() {
    ModelVersionStatus bad = status(spec(BAD, "")).getModelVersionStatus(0);
    assertThat(bad.getVersion()).isEqualTo(123);
    assertThat(bad.getState()).isEqualTo(ModelVersionStatus.State.END);
    assertThat(bad.getStatus().getErrorCode()).isEqualTo(Code.UNKNOWN);
    assertThat(bad.getStatus().getErrorMessage()).isNotEmpty();
  }

  @Test
  void getModelStatus_errors_andReloadIsRefused() {
    assertFails(() -> status(spec("no_such_model", "")), Status.Code.NOT_FOUND, "no_such_model");
    assertFails(() -> status(ModelSpec.newBuilder().setName(TWO_VERSIONS).setVersion(Int64Value.of(999)).build()),
        Status.Code.NOT_FOUND, "999");
    assertFails(() -> status(ModelSpec.newBuilder().setName(TWO_VERSIONS).setVersionLabel("nope").build()),
        Status.Code.NOT_FOUND, "nope");
    assertFails(() -> status(spec("", "")), Status.Code.INVALID_ARGUMENT, "model_spec.name");
    assertThatThrownBy(() -> models.handleReloadConfigRequest(ReloadConfigRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).contains("model repository");
        });
  }
}
