package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.InferParameter;
import io.jointspace.api.inference.InferTensorContents;
import io.jointspace.api.inference.ModelInferRequest;
import io.jointspace.api.inference.ModelInferRequest.InferInputTensor;
import io.jointspace.api.inference.ModelInferResponse;
import io.jointspace.api.inference.ModelInferResponse.InferOutputTensor;
import io.jointspace.api.inference.ModelMetadataRequest;
import io.jointspace.api.inference.ModelMetadataResponse;
import io.jointspace.api.inference.ModelReadyRequest;
import io.jointspace.api.inference.ServerReadyRequest;
import io.jointspace.api.v1.DataType;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.GetModelMetadataRequest;
import io.jointspace.api.v1.GetModelMetadataResponse;
import io.jointspace.api.v1.GetModelStatusRequest;
import io.jointspace.api.v1.GetModelStatusResponse;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.ListModelsRequest;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.ModelState;
import io.jointspace.api.v1.ModelSummary;
import io.jointspace.api.v1.ModelVersionStatus;
import io.jointspace.api.v1.SignatureMetadata;
import io.jointspace.api.v1.Tensor;
import io.jointspace.config.v1.ModelConfig;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.config.v1.VersionPolicy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;

/**
 * External compatibility: serves the third-party SavedModels in
 * {@code ../shared/testdata/savedmodels} (TF Serving, TensorFlow, TF Java, tensorflow/rust and
 * Vespa test fixtures; see that folder's README.md) with one real server and checks, over real
 * gRPC, that every fixture which should load does, and computes what its authors expect.
 * Skipped, with a printed reason, when the folder is absent.
 */
class ExternalCompatibilityTest {
  private static final String FIXTURES_RELATIVE = "shared/testdata/savedmodels";

  /** half_plus_two variants with a TF1 graph: serving_default x FP32 [-1,1] (or unknown) -> y. */
  private static final List<String> TF1_HALF_PLUS_TWO = List.of(
      "saved_model_half_plus_two_cpu",
      "saved_model_half_plus_two_2_versions",
      "saved_model_half_plus_two_mlmd",
      "saved_model_half_plus_two_gpu",
      "tf_cc_half_plus_two_pbtxt",
      "tf_cc_half_plus_two_main_op",
      "tf_cc_half_plus_two_v2");

  /** Every fixture the README says loads (with the tags and soft placement the server uses). */
  private static final List<String> LOADABLE = List.of(
      "saved_model_half_plus_two_cpu",
      "saved_model_half_plus_two_2_versions",
      "saved_model_half_plus_three",
      "saved_model_half_plus_two_tf2_cpu",
      "saved_model_counter",
      "saved_model_half_plus_two_mlmd",
      "saved_model_half_plus_two_gpu",
      "tf_cc_half_plus_two_pbtxt",
      "tf_cc_half_plus_two_main_op",
      "tf_cc_half_plus_two_v2",
      "tf_cc_x_plus_y_v2_debuginfo",
      "tfjava_saved_model_using_python",
      "rust_regression_savedmodel",
      "rust_regression_model_train_serve",
      "vespa_mnist_softmax",
      "vespa_mnist_dnn",
      "vespa_keras_embedding_ctr");

  /** A second name over the 2_versions folder, served with version_policy all. */
  private static final String ALL_VERSIONS_ALIAS = "half_plus_two_2_versions_all";

  private static final float[] MNIST_SOFTMAX_ZERO_LOGITS = {
    -0.3546536862850189f, 0.3759574592113495f, 0.06054411828517914f, -0.251544713973999f,
    0.017951013520359993f, 1.2899067401885986f, -0.10389615595340729f, 0.6367976665496826f,
    -1.4136744737625122f, -0.2573896050453186f,
  };
  private static final float[] MNIST_DNN_ZERO_LOGITS = {
    -0.6319251673007533f, -7.577770600619843E-4f, -0.010707969042025622f, -0.6344759233540788f,
    -0.17529455385847528f, 0.7490809723192187f, -0.022790284182901716f, 0.26799240657608936f,
    -0.3152438845465862f, 0.05949304847735276f,
  };

  @TempDir static Path temp;
  static ServerFixture fixture;
  static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub infer;
  static ModelServiceGrpc.ModelServiceBlockingStub models;
  static EmbeddingServiceGrpc.EmbeddingServiceBlockingStub embed;

  /** Why the suite is skipped; null when the fixtures are there. */
  static String skipReason;

  @BeforeAll
  static void startServer() throws Exception {
    Path source = locateFixtures();
    if (source == null) {
      skipReason = "the third-party SavedModel fixtures folder ../shared/testdata/savedmodels was not found"
          + " (looked for ../../" + FIXTURES_RELATIVE + " and ../" + FIXTURES_RELATIVE + " from "
          + Path.of("").toAbsolutePath() + ")";
      // on the console too: Surefire reports skipped tests by count, not by reason
      System.err.println("ExternalCompatibilityTest skipped: " + skipReason);
      return;
    }
    Path repo = temp.resolve("repo");
    copyWritable(source, repo);

    ServerConfig.Builder config = ServerConfig.newBuilder()
        .setLoadThreads(4)
        .addModels(ModelConfig.newBuilder()
            .setName("rust_regression_model_train_serve")
            .addTags("train")
            .addTags("serve"))
        .addModels(ModelConfig.newBuilder()
            .setName(ALL_VERSIONS_ALIAS)
            .setBasePath(repo.resolve("saved_model_half_plus_two_2_versions").toString())
            .setVersionPolicy(VersionPolicy.newBuilder().setAll(VersionPolicy.All.getDefaultInstance())));
    fixture = ServerFixture.start(config, repo);
    infer = GRPCInferenceServiceGrpc.newBlockingStub(fixture.channel);
    models = ModelServiceGrpc.newBlockingStub(fixture.channel);
    embed = EmbeddingServiceGrpc.newBlockingStub(fixture.channel);
  }

  /** Each test is reported as skipped, with the reason, when the fixtures are absent. */
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

  /** The fixtures folder, or null when this checkout has none beside it. */
  static Path locateFixtures() {
    // Maven runs the tests in the server module (/work/main/server); an IDE may use the project root.
    for (Path candidate : List.of(
        Path.of("..", "..", "shared", "testdata", "savedmodels"),
        Path.of("..", "shared", "testdata", "savedmodels"))) {
      if (Files.isDirectory(candidate)) {
        return candidate.toAbsolutePath().normalize();
      }
    }
    return null;
  }

  /** Copies a read-only tree; the copies are made writable (so @TempDir can delete them). */
  static void copyWritable(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
        target.toFile().setWritable(true, true);
      }
    }
  }

  // ------------------------------------------------------------------ request helpers

  static InferInputTensor fp32(String name, long[] shape, float... values) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (float v : values) {
      c.addFp32Contents(v);
    }
    return InferInputTensor.newBuilder().setName(name).setDatatype("FP32")
        .addAllShape(boxed(shape)).setContents(c).build();
  }

  static InferInputTensor int32(String name, long[] shape, int... values) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (int v : values) {
      c.addIntContents(v);
    }
    return InferInputTensor.newBuilder().setName(name).setDatatype("INT32")
        .addAllShape(boxed(shape)).setContents(c).build();
  }

  static InferInputTensor bytes(String name, long[] shape, List<ByteString> values) {
    return InferInputTensor.newBuilder().setName(name).setDatatype("BYTES")
        .addAllShape(boxed(shape)).setContents(InferTensorContents.newBuilder().addAllBytesContents(values)).build();
  }

  static List<Long> boxed(long[] shape) {
    List<Long> out = new ArrayList<>();
    for (long d : shape) {
      out.add(d);
    }
    return out;
  }

  static long[] shape(long... dims) {
    return dims;
  }

  /** Serialized tf.Examples, one per value, each with the float feature {@code feature}. */
  static List<ByteString> examples(String feature, float... values) {
    List<ByteString> out = new ArrayList<>();
    for (float v : values) {
      Example e = Example.newBuilder()
          .setFeatures(Features.newBuilder().putFeature(feature,
              Feature.newBuilder().setFloatList(FloatList.newBuilder().addValue(v)).build()))
          .build();
      out.add(e.toByteString());
    }
    return out;
  }

  static ModelInferRequest.Builder request(String model, String signature, InferInputTensor... inputs) {
    ModelInferRequest.Builder r = ModelInferRequest.newBuilder().setModelName(model);
    if (signature != null) {
      r.putParameters("signature_name", InferParameter.newBuilder().setStringParam(signature).build());
    }
    for (InferInputTensor in : inputs) {
      r.addInputs(in);
    }
    return r;
  }

  static ModelInferResponse call(String model, String signature, InferInputTensor... inputs) {
    return infer.modelInfer(request(model, signature, inputs).build());
  }

  static InferOutputTensor output(ModelInferResponse response, String name) {
    return response.getOutputsList().stream().filter(o -> o.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no output '" + name + "' in " + response.getOutputsList()));
  }

  /** FP32 values of an output, from typed contents or raw_output_contents. */
  static float[] floats(ModelInferResponse response, String name) {
    for (int i = 0; i < response.getOutputsCount(); i++) {
      InferOutputTensor o = response.getOutputs(i);
      if (!o.getName().equals(name)) {
        continue;
      }
      assertThat(o.getDatatype()).isEqualTo("FP32");
      if (response.getRawOutputContentsCount() > 0) {
        ByteBuffer b = response.getRawOutputContents(i).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        for (int k = 0; k < out.length; k++) {
          out[k] = b.getFloat();
        }
        return out;
      }
      List<Float> list = o.getContents().getFp32ContentsList();
      float[] out = new float[list.size()];
      for (int k = 0; k < out.length; k++) {
        out[k] = list.get(k);
      }
      return out;
    }
    throw new AssertionError("no output '" + name + "' in " + response.getOutputsList());
  }

  static float scalar(ModelInferResponse response, String name) {
    float[] v = floats(response, name);
    assertThat(v).hasSize(1);
    return v[0];
  }

  static Status.Code codeOf(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
    throw new AssertionError("expected the call to fail");
  }

  static ByteString rawFloats(float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    b.flip();
    return ByteString.copyFrom(b);
  }

  static ByteString rawBytesTensor(List<ByteString> elements) {
    int size = elements.stream().mapToInt(e -> 4 + e.size()).sum();
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    for (ByteString e : elements) {
      b.putInt(e.size());
      b.put(e.toByteArray());
    }
    b.flip();
    return ByteString.copyFrom(b);
  }

  static InferInputTensor rawSpec(String name, String datatype, long... shape) {
    return InferInputTensor.newBuilder().setName(name).setDatatype(datatype).addAllShape(boxed(shape)).build();
  }

  // ------------------------------------------------------------------ server and model state

  @Test
  void serverIsReady() {
    assertThat(infer.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
  }

  @Test
  void everyLoadableFixtureIsReadyAndAvailable() {
    for (String name : LOADABLE) {
      assertThat(infer.modelReady(ModelReadyRequest.newBuilder().setName(name).build()).getReady())
          .as("ModelReady %s", name).isTrue();
      GetModelStatusResponse status = models.getModelStatus(GetModelStatusRequest.newBuilder().setName(name).build());
      assertThat(status.getVersions(0).getState()).as("newest version of %s: %s", name, status).isEqualTo(ModelState.AVAILABLE);
    }
    assertThat(infer.modelReady(ModelReadyRequest.newBuilder().setName("bad_half_plus_two").build()).getReady()).isFalse();
  }

  @Test
  void listModels_showsEveryFixtureFolder() {
    List<String> names = models.listModels(ListModelsRequest.getDefaultInstance()).getModelsList().stream()
        .map(ModelSummary::getName).toList();
    assertThat(names).containsAll(LOADABLE).contains("bad_half_plus_two", ALL_VERSIONS_ALIAS);
  }

  @Test
  void badModel_isInErrorAndUnavailable() {
    GetModelStatusResponse status = models.getModelStatus(
        GetModelStatusRequest.newBuilder().setName("bad_half_plus_two").build());
    assertThat(status.getVersionsList()).hasSize(1);
    ModelVersionStatus v = status.getVersions(0);
    assertThat(v.getVersion()).isEqualTo(123);
    assertThat(v.getState()).isEqualTo(ModelState.ERROR);
    assertThat(v.getLastError()).isNotBlank();
    assertThat(codeOf(() -> call("bad_half_plus_two", null, fp32("x", shape(1, 1), 2f))))
        .isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(infer.modelReady(ModelReadyRequest.newBuilder().setName("bad_half_plus_two").setVersion("123").build())
        .getReady()).isFalse();
  }

  @Test
  void unknownModel_isNotFound() {
    assertThat(codeOf(() -> call("no_such_model", null, fp32("x", shape(1, 1), 2f)))).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(codeOf(() -> infer.modelMetadata(ModelMetadataRequest.newBuilder().setName("no_such_model").build())))
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(codeOf(() -> models.getModelStatus(GetModelStatusRequest.newBuilder().setName("no_such_model").build())))
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(infer.modelReady(ModelReadyRequest.newBuilder().setName("no_such_model").build()).getReady()).isFalse();
  }

  @Test
  void modelMetadata_halfPlusTwoCpu() {
    ModelMetadataResponse m = infer.modelMetadata(
        ModelMetadataRequest.newBuilder().setName("saved_model_half_plus_two_cpu").build());
    assertThat(m.getName()).isEqualTo("saved_model_half_plus_two_cpu");
    assertThat(m.getPlatform()).isEqualTo("tensorflow_savedmodel");
    assertThat(m.getVersionsList()).containsExactly("123");
    assertThat(m.getInputsList()).hasSize(1);
    assertThat(m.getInputs(0).getName()).isEqualTo("x");
    assertThat(m.getInputs(0).getDatatype()).isEqualTo("FP32");
    assertThat(m.getInputs(0).getShapeList()).containsExactly(-1L, 1L);
    assertThat(m.getOutputsList()).hasSize(1);
    assertThat(m.getOutputs(0).getName()).isEqualTo("y");
    assertThat(m.getOutputs(0).getDatatype()).isEqualTo("FP32");
    assertThat(m.getOutputs(0).getShapeList()).containsExactly(-1L, 1L);

    GetModelMetadataResponse full = models.getModelMetadata(GetModelMetadataRequest.newBuilder()
        .setModel(ModelSpec.newBuilder().setName("saved_model_half_plus_two_cpu")).build());
    assertThat(full.getModel().getVersion()).isEqualTo(123);
    assertThat(full.getModel().getSignatureName()).isEqualTo("serving_default");
    assertThat(full.getTagsList()).containsExactly("serve");
    assertThat(full.getSignaturesList()).extracting(SignatureMetadata::getName).containsExactlyInAnyOrder(
        "serving_default", "regress_x_to_y", "regress_x_to_y2", "regress_x2_to_y3", "classify_x_to_y");
    SignatureMetadata regress = full.getSignaturesList().stream()
        .filter(s -> s.getName().equals("regress_x_to_y")).findFirst().orElseThrow();
    assertThat(regress.getMethodName()).isEqualTo("tensorflow/serving/regress");
    assertThat(regress.getInputs(0).getDtype()).isEqualTo(DataType.BYTES);
    assertThat(regress.getInputs(0).getTensorName()).isEqualTo("tf_example:0");
    assertThat(regress.getInputs(0).getRankKnown()).isFalse();
  }

  @Test
  void modelMetadata_hidesInitOpSignatureAndReportsTrainServeTags() {
    GetModelMetadataResponse v2 = models.getModelMetadata(GetModelMetadataRequest.newBuilder()
        .setModel(ModelSpec.newBuilder().setName("tf_cc_half_plus_two_v2")).build());
    assertThat(v2.getSignaturesList()).extracting(SignatureMetadata::getName)
        .doesNotContain("__saved_model_init_op").contains("serving_default");
    GetModelMetadataResponse trainServe = models.getModelMetadata(GetModelMetadataRequest.newBuilder()
        .setModel(ModelSpec.newBuilder().setName("rust_regression_model_train_serve")).build());
    assertThat(trainServe.getTagsList()).containsExactlyInAnyOrder("train", "serve");
    assertThat(trainServe.getSignaturesList()).extracting(SignatureMetadata::getName)
        .containsExactly("tensorflow/serving/regress");
    GetModelMetadataResponse counter = models.getModelMetadata(GetModelMetadataRequest.newBuilder()
        .setModel(ModelSpec.newBuilder().setName("saved_model_counter")).build());
    // DT_FLOAT_REF outputs are reported as their base type.
    assertThat(counter.getSignaturesList()).allSatisfy(s ->
        assertThat(s.getOutputs(0).getDtype()).as(s.getName()).isEqualTo(DataType.FP32));
  }

  // ------------------------------------------------------------------ version policy

  @Test
  void versionPolicy_defaultLatestServesOnly124() {
    String name = "saved_model_half_plus_two_2_versions";
    GetModelStatusResponse status = models.getModelStatus(GetModelStatusRequest.newBuilder().setName(name).build());
    assertThat(status.getVersionsList()).filteredOn(v -> v.getState() == ModelState.AVAILABLE)
        .extracting(ModelVersionStatus::getVersion).containsExactly(124L);
    ModelMetadataResponse m = infer.modelMetadata(ModelMetadataRequest.newBuilder().setName(name).build());
    assertThat(m.getVersionsList()).containsExactly("124");

    ModelInferResponse latest = call(name, null, fp32("x", shape(1, 1), 2f));
    assertThat(latest.getModelVersion()).isEqualTo("124");
    assertThat(scalar(latest, "y")).isEqualTo(3.0f);
    ModelInferResponse explicit = infer.modelInfer(request(name, null, fp32("x", shape(1, 1), 2f))
        .setModelVersion("124").build());
    assertThat(scalar(explicit, "y")).isEqualTo(3.0f);

    // 123 is on disk but not aspired by the policy: the server does not serve it.
    assertThat(codeOf(() -> infer.modelInfer(request(name, null, fp32("x", shape(1, 1), 2f))
        .setModelVersion("123").build()))).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(infer.modelReady(ModelReadyRequest.newBuilder().setName(name).setVersion("123").build()).getReady())
        .isFalse();
    assertThat(infer.modelReady(ModelReadyRequest.newBuilder().setName(name).setVersion("124").build()).getReady())
        .isTrue();
  }

  @Test
  void versionPolicy_allServesBoth() {
    GetModelStatusResponse status = models.getModelStatus(
        GetModelStatusRequest.newBuilder().setName(ALL_VERSIONS_ALIAS).build());
    assertThat(status.getVersionsList()).extracting(ModelVersionStatus::getVersion).containsExactly(124L, 123L);
    assertThat(status.getVersionsList()).extracting(ModelVersionStatus::getState)
        .containsOnly(ModelState.AVAILABLE);
    ModelMetadataResponse m = infer.modelMetadata(ModelMetadataRequest.newBuilder().setName(ALL_VERSIONS_ALIAS).build());
    assertThat(m.getVersionsList()).containsExactlyInAnyOrder("123", "124");
    for (String version : List.of("123", "124")) {
      ModelInferResponse r = infer.modelInfer(request(ALL_VERSIONS_ALIAS, null, fp32("x", shape(2, 1), 2f, 4f))
          .setModelVersion(version).build());
      assertThat(r.getModelVersion()).isEqualTo(version);
      assertThat(floats(r, "y")).containsExactly(3.0f, 4.0f);
      assertThat(infer.modelReady(ModelReadyRequest.newBuilder().setName(ALL_VERSIONS_ALIAS).setVersion(version).build())
          .getReady()).isTrue();
    }
  }

  // ------------------------------------------------------------------ half_plus_two family

  @ParameterizedTest
  @ValueSource(strings = {
      "saved_model_half_plus_two_cpu", "saved_model_half_plus_two_2_versions", "saved_model_half_plus_two_mlmd",
      "saved_model_half_plus_two_gpu", "tf_cc_half_plus_two_pbtxt", "tf_cc_half_plus_two_main_op",
      "tf_cc_half_plus_two_v2"})
  void halfPlusTwo_tf1Variants_allSignatures(String model) {
    assertThat(TF1_HALF_PLUS_TWO).contains(model);
    // serving_default (no signature_name): y = 0.5x + 2
    ModelInferResponse predict = call(model, null, fp32("x", shape(3, 1), 2f, 3f, 4f));
    assertThat(output(predict, "y").getShapeList()).containsExactly(3L, 1L);
    assertThat(floats(predict, "y")).containsExactly(3.0f, 3.5f, 4.0f);
    // the same, named explicitly
    assertThat(floats(call(model, "serving_default", fp32("x", shape(3, 1), 2f, 3f, 4f)), "y"))
        .containsExactly(3.0f, 3.5f, 4.0f);

    // regress_x_to_y on serialized tf.Examples x = 0,1,2,3 -> [[2],[2.5],[3],[3.5]]
    ModelInferResponse regress = call(model, "regress_x_to_y", bytes("inputs", shape(4), examples("x", 0f, 1f, 2f, 3f)));
    assertThat(output(regress, "outputs").getShapeList()).containsExactly(4L, 1L);
    assertThat(floats(regress, "outputs")).containsExactly(2.0f, 2.5f, 3.0f, 3.5f);

    // regress_x_to_y2: 0.5x + 3
    assertThat(scalar(call(model, "regress_x_to_y2", bytes("inputs", shape(1), examples("x", 2f))), "outputs"))
        .isEqualTo(4.0f);
    // regress_x2_to_y3: 0.5*x2 + 3, fed directly
    assertThat(scalar(call(model, "regress_x2_to_y3", fp32("inputs", shape(1, 1), 2f)), "outputs")).isEqualTo(4.0f);
    // classify_x_to_y: scores = 0.5x + 2
    assertThat(scalar(call(model, "classify_x_to_y", bytes("inputs", shape(1), examples("x", 2f))), "scores"))
        .isEqualTo(3.0f);

    boolean hasClassifyX2 = List.of("saved_model_half_plus_two_2_versions", "saved_model_half_plus_two_gpu",
        "tf_cc_half_plus_two_pbtxt", "tf_cc_half_plus_two_main_op").contains(model);
    if (hasClassifyX2) {
      assertThat(scalar(call(model, "classify_x2_to_y3", fp32("inputs", shape(1, 1), 2f)), "scores")).isEqualTo(4.0f);
    } else {
      assertThat(codeOf(() -> call(model, "classify_x2_to_y3", fp32("inputs", shape(1, 1), 2f))))
          .isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
  }

  @Test
  void halfPlusTwo_rawInputContents_fp32AndBytes() {
    String model = "saved_model_half_plus_two_cpu";
    // FP32 raw in -> raw out
    ModelInferResponse predict = infer.modelInfer(request(model, null, rawSpec("x", "FP32", 3, 1))
        .addRawInputContents(rawFloats(2f, 3f, 4f)).build());
    assertThat(predict.getRawOutputContentsCount()).isEqualTo(1);
    assertThat(output(predict, "y").getShapeList()).containsExactly(3L, 1L);
    assertThat(floats(predict, "y")).containsExactly(3.0f, 3.5f, 4.0f);

    // BYTES raw in (4-byte LE length + serialized Example) -> raw FP32 out
    ModelInferResponse regress = infer.modelInfer(request(model, "regress_x_to_y", rawSpec("inputs", "BYTES", 4))
        .addRawInputContents(rawBytesTensor(examples("x", 0f, 1f, 2f, 3f))).build());
    assertThat(regress.getRawOutputContentsCount()).isEqualTo(1);
    assertThat(regress.getRawOutputContents(0).size()).isEqualTo(16);
    assertThat(floats(regress, "outputs")).containsExactly(2.0f, 2.5f, 3.0f, 3.5f);
  }

  @Test
  void halfPlusTwo_tf2Cpu_allSignatures() {
    String model = "saved_model_half_plus_two_tf2_cpu";
    ModelInferResponse predict = call(model, null, fp32("x", shape(1), 2f));
    assertThat(output(predict, "y").getShapeList()).containsExactly(1L);
    assertThat(scalar(predict, "y")).isEqualTo(3.0f);
    // serving_default declares x [1]: the server enforces the signature's shape
    assertThat(codeOf(() -> call(model, null, fp32("x", shape(3), 2f, 3f, 4f)))).isEqualTo(Status.Code.INVALID_ARGUMENT);

    ModelInferResponse regress = call(model, "regress_x_to_y", bytes("inputs", shape(1), examples("x", 2f)));
    assertThat(output(regress, "outputs").getShapeList()).containsExactly(1L, 1L);
    assertThat(scalar(regress, "outputs")).isEqualTo(3.0f);
    assertThat(scalar(call(model, "classify_x_to_y", bytes("inputs", shape(1), examples("x", 2f))), "scores"))
        .isEqualTo(3.0f);
    assertThat(scalar(call(model, "regress_x_to_y2", bytes("inputs", shape(1), examples("x", 2f))), "outputs"))
        .isEqualTo(4.0f);
    assertThat(scalar(call(model, "regress_x2_to_y3", fp32("inputs", shape(1), 2f)), "outputs")).isEqualTo(4.0f);
    assertThat(scalar(call(model, "classify_x2_to_y3", fp32("inputs", shape(1), 2f)), "scores")).isEqualTo(4.0f);
  }

  @Test
  void halfPlusThree_servedThroughManualImport() {
    String model = "saved_model_half_plus_three";
    GetModelStatusResponse status = models.getModelStatus(GetModelStatusRequest.newBuilder().setName(model).build());
    assertThat(status.getVersions(0).getState()).isEqualTo(ModelState.AVAILABLE);
    assertThat(scalar(call(model, null, fp32("x", shape(1, 1), 2f)), "y")).isEqualTo(4.0f);
    // the signature key literally contains slashes; its input is declared DT_FLOAT but the
    // graph tensor tf_example:0 takes serialized Examples
    ModelInferResponse regress = call(model, "tensorflow/serving/regress",
        bytes("inputs", shape(2), examples("x", 2f, 3f)));
    assertThat(floats(regress, "outputs")).containsExactly(4.0f, 4.5f);
    // metadata reports what the graph takes (BYTES), not the declared DT_FLOAT
    GetModelMetadataResponse meta = models.getModelMetadata(GetModelMetadataRequest.newBuilder()
        .setModel(ModelSpec.newBuilder().setName(model)).build());
    SignatureMetadata sig = meta.getSignaturesList().stream()
        .filter(s -> s.getName().equals("tensorflow/serving/regress")).findFirst().orElseThrow();
    assertThat(sig.getInputs(0).getDtype()).isEqualTo(DataType.BYTES);
  }

  // ------------------------------------------------------------------ other fixtures

  @Test
  void xPlusY_scalars() {
    ModelInferResponse r = call("tf_cc_x_plus_y_v2_debuginfo", null,
        fp32("x", shape(), 1.5f), fp32("y", shape(), 2.25f));
    assertThat(output(r, "output_0").getShapeList()).isEmpty();
    assertThat(scalar(r, "output_0")).isEqualTo(3.75f);
  }

  @Test
  void tfJavaPythonModel_noDefaultSignature() {
    String model = "tfjava_saved_model_using_python";
    StatusRuntimeException noDefault = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
        () -> call(model, null, fp32("a", shape(), 10f), fp32("b", shape(), 15.5f)));
    assertThat(noDefault.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(noDefault.getStatus().getDescription()).contains("signature_name").contains("add");

    assertThat(scalar(call(model, "add", fp32("a", shape(), 10f), fp32("b", shape(), 15.5f)), "output_0"))
        .isEqualTo(25.5f);
    assertThat(scalar(call(model, "get_variable", fp32("dummy", shape(), 1f)), "output_0")).isEqualTo(2.0f);
    ModelInferResponse vector = call(model, "get_const_vector", fp32("input", shape(), 1f));
    assertThat(output(vector, "output_0").getShapeList()).containsExactly(3L);
    assertThat(floats(vector, "output_0")).containsExactly(1f, 1f, 1f);
  }

  @Test
  void counter_isStatefulAcrossCalls() {
    String model = "saved_model_counter";
    assertThat(scalar(call(model, "get_counter"), "output")).isEqualTo(0f);
    assertThat(scalar(call(model, "incr_counter"), "output")).isEqualTo(1f);
    assertThat(scalar(call(model, "reset_counter"), "output")).isEqualTo(0f);
    assertThat(scalar(call(model, "incr_counter"), "output")).isEqualTo(1f);
    assertThat(scalar(call(model, "incr_counter_by", fp32("delta", shape(), 3f)), "output")).isEqualTo(4f);
  }

  @Test
  void rustRegression_storedVariables() {
    String model = "rust_regression_savedmodel";
    ModelInferResponse w = call(model, "w");
    assertThat(output(w, "output").getShapeList()).containsExactly(1L);
    assertThat(scalar(w, "output")).isCloseTo(0.20429754f, within(1e-7f));
    assertThat(scalar(call(model, "b"), "output")).isEqualTo(0f);
    // no serving_default and several signatures: a request must name one
    assertThat(codeOf(() -> call(model, null))).isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void rustTrainServe_loadsWithTrainAndServeTags() {
    ModelInferResponse r = call("rust_regression_model_train_serve", "tensorflow/serving/regress",
        fp32("x", shape(1), 2f), fp32("y", shape(1), 4f));
    float[] yHat = floats(r, "out");
    assertThat(yHat).hasSize(1);
    assertThat(Float.isFinite(yHat[0])).isTrue();
    assertThat(yHat[0]).isCloseTo(-1.7157245f, within(1e-4f)); // observed in TF Java (README)
  }

  @Test
  void vespaMnistSoftmax_zeroImage_rawInput() {
    ModelInferResponse r = infer.modelInfer(request("vespa_mnist_softmax", null, rawSpec("x", "FP32", 1, 784))
        .addRawInputContents(rawFloats(new float[784])).build());
    assertThat(output(r, "y").getShapeList()).containsExactly(1L, 10L);
    assertThat(floats(r, "y")).containsExactly(MNIST_SOFTMAX_ZERO_LOGITS, within(1e-5f));
  }

  @Test
  void vespaMnistDnn_zeroImage() {
    ModelInferResponse r = call("vespa_mnist_dnn", null, fp32("x", shape(1, 784), new float[784]));
    assertThat(output(r, "y").getShapeList()).containsExactly(1L, 10L);
    assertThat(floats(r, "y")).containsExactly(MNIST_DNN_ZERO_LOGITS, within(1e-5f));
  }

  @Test
  void vespaMnistSoftmax_throughEmbeddingService() {
    Tensor zero = Tensor.newBuilder().setDtype(DataType.FP32).addShape(784)
        .addAllFloatVal(Collections.nCopies(784, 0f)).build();
    EmbedResponse r = embed.embed(EmbedRequest.newBuilder()
        .setModel(ModelSpec.newBuilder().setName("vespa_mnist_softmax"))
        .addInputs(Input.newBuilder().setTensor(zero))
        .addInputs(Input.newBuilder().setTensor(zero))
        .build());
    assertThat(r.getDimension()).isEqualTo(10);
    assertThat(r.getEmbeddingsList()).hasSize(2);
    for (int i = 0; i < 2; i++) {
      List<Float> values = r.getEmbeddings(i).getValuesList();
      float[] got = new float[values.size()];
      for (int k = 0; k < got.length; k++) {
        got[k] = values.get(k);
      }
      assertThat(got).containsExactly(MNIST_SOFTMAX_ZERO_LOGITS, within(1e-5f));
    }
  }

  @Test
  void vespaKerasEmbeddingCtr_int32Category() {
    String model = "vespa_keras_embedding_ctr";
    ModelInferResponse r = call(model, null,
        fp32("input1", shape(3, 3), .1f, .2f, .3f, .1f, .2f, .3f, .1f, .2f, .3f),
        fp32("input2", shape(3, 3), .4f, .5f, .6f, .4f, .5f, .6f, .4f, .5f, .6f),
        int32("input3", shape(3, 1), 0, 1, 2));
    assertThat(output(r, "pctrx").getShapeList()).containsExactly(3L, 1L);
    assertThat(floats(r, "pctrx")).containsExactly(new float[] {0.3913262f, 0.39366546f, 0.39367813f}, within(1e-5f));
    // input3 is INT32: a float category and a missing input are client errors
    assertThat(codeOf(() -> call(model, null,
        fp32("input1", shape(1, 3), .1f, .2f, .3f), fp32("input2", shape(1, 3), .4f, .5f, .6f),
        fp32("input3", shape(1, 1), 0f)))).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(codeOf(() -> call(model, null, fp32("input1", shape(1, 3), .1f, .2f, .3f))))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void wrongInputName_isInvalidArgument() {
    assertThatThrownBy(() -> call("saved_model_half_plus_two_cpu", null, fp32("not_x", shape(1, 1), 2f)))
        .isInstanceOf(StatusRuntimeException.class)
        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
            .isEqualTo(Status.Code.INVALID_ARGUMENT));
  }
}
