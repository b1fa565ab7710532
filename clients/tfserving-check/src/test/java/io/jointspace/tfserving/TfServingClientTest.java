package io.jointspace.tfserving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Int64Value;
import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.example.Example;
import org.tensorflow.example.Feature;
import org.tensorflow.example.Features;
import org.tensorflow.example.FloatList;
import org.tensorflow.framework.DataType;
import org.tensorflow.framework.TensorProto;
import org.tensorflow.framework.TensorShapeProto;
import tensorflow.serving.Classification.ClassificationRequest;
import tensorflow.serving.Classification.ClassificationResponse;
import tensorflow.serving.GetModelMetadata.GetModelMetadataRequest;
import tensorflow.serving.GetModelMetadata.GetModelMetadataResponse;
import tensorflow.serving.GetModelMetadata.SignatureDefMap;
import tensorflow.serving.GetModelStatus.GetModelStatusRequest;
import tensorflow.serving.GetModelStatus.GetModelStatusResponse;
import tensorflow.serving.GetModelStatus.ModelVersionStatus;
import tensorflow.serving.Inference.InferenceTask;
import tensorflow.serving.Inference.MultiInferenceRequest;
import tensorflow.serving.Inference.MultiInferenceResponse;
import tensorflow.serving.InputOuterClass.ExampleList;
import tensorflow.serving.InputOuterClass.Input;
import tensorflow.serving.Model.ModelSpec;
import tensorflow.serving.ModelServiceGrpc;
import tensorflow.serving.Predict.PredictRequest;
import tensorflow.serving.Predict.PredictResponse;
import tensorflow.serving.PredictionServiceGrpc;
import tensorflow.serving.RegressionOuterClass.RegressionRequest;
import tensorflow.serving.RegressionOuterClass.RegressionResponse;

/**
 * A TF Serving client that nobody here wrote: the classes generated from TF Serving's own
 * .proto files that Apache Camel's TensorFlow Serving component ships, on the protobuf runtime
 * they were generated for. It calls a Jointspace server (a child process from the server's
 * packaged jar) serving TF Serving's test models, and compares with the values TF Serving's
 * own tests expect (../shared/testdata/savedmodels/README.md). Skipped where that folder is
 * absent.
 */
class TfServingClientTest {
  private static final String CPU = "saved_model_half_plus_two_cpu";
  private static final String TWO_VERSIONS = "saved_model_half_plus_two_2_versions";
  private static final String TF2 = "saved_model_half_plus_two_tf2_cpu";
  private static final String THREE = "saved_model_half_plus_three";
  /** saved_model_half_plus_two_cpu under the name TF Serving's metadata fixture uses. */
  private static final String DEFAULT = "default";

  @TempDir static Path temp;
  static Path fixtures;
  static Process server;
  static Path log;
  static ManagedChannel channel;
  static PredictionServiceGrpc.PredictionServiceBlockingStub predict;
  static ModelServiceGrpc.ModelServiceBlockingStub models;

  @BeforeAll
  static void startServer() throws Exception {
    Path root = Path.of("").toAbsolutePath().resolve("../..").normalize();
    fixtures = root.getParent().resolve("shared/testdata/savedmodels");
    Assumptions.assumeTrue(Files.isDirectory(fixtures), "TF Serving's test models are not at " + fixtures);
    Path jar = root.resolve("server/target/jointspace-server.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: package the server first (mvn package -pl server -am)");
    }
    Path repo = temp.resolve("repo");
    for (String model : List.of(CPU, TWO_VERSIONS, TF2, THREE)) {
      copy(fixtures.resolve(model), repo.resolve(model));
    }
    Path config = temp.resolve("server.textproto");
    Files.writeString(config, """
        models { name: "%s" base_path: "%s" }
        models { name: "%s" version_policy { all {} }
                 version_labels { key: "stable" value: 123 } version_labels { key: "canary" value: 124 } }
        """.formatted(DEFAULT, repo.resolve(CPU), TWO_VERSIONS));
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    log = temp.resolve("serve.log");
    server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", jar + java.io.File.pathSeparator + root.resolve("server/target/lib/*"),
        "-Djointspace.home=" + root, "io.jointspace.server.Main", "serve",
        "--config", config.toString(), "--models", repo.toString(), "--grpc-port", Integer.toString(port),
        "--http-port", "-1", "--poll-interval-ms", "-1", "--data-dir", temp.resolve("pg").toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    predict = PredictionServiceGrpc.newBlockingStub(channel);
    models = ModelServiceGrpc.newBlockingStub(channel);
    awaitAvailable(DEFAULT);
  }

  /** Asks GetModelStatus, as TF Serving's own readiness checks do, until the model is AVAILABLE. */
  private static void awaitAvailable(String model) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
    while (System.nanoTime() < deadline && server.isAlive()) {
      try {
        GetModelStatusResponse status = models.withDeadlineAfter(2, TimeUnit.SECONDS).getModelStatus(
            GetModelStatusRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(model)).build());
        if (status.getModelVersionStatusList().stream()
            .anyMatch(v -> v.getState() == ModelVersionStatus.State.AVAILABLE)) {
          return;
        }
      } catch (StatusRuntimeException e) {
        // not up yet
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("the server did not serve " + model + "; its log:\n" + Files.readString(log));
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.destroy(); // SIGTERM: the server stops its private database
      if (!server.waitFor(60, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target);
        }
      }
    }
  }

  private static ModelSpec spec(String model, String signature) {
    return ModelSpec.newBuilder().setName(model).setSignatureName(signature).build();
  }

  private static TensorProto floats(long[] shape, float... values) {
    TensorShapeProto.Builder dims = TensorShapeProto.newBuilder();
    for (long d : shape) {
      dims.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(dims);
    for (float v : values) {
      t.addFloatVal(v);
    }
    return t.build();
  }

  private static Input examples(String feature, float... values) {
    ExampleList.Builder list = ExampleList.newBuilder();
    for (float v : values) {
      list.addExamples(Example.newBuilder().setFeatures(Features.newBuilder().putFeature(feature,
          Feature.newBuilder().setFloatList(FloatList.newBuilder().addValue(v)).build())));
    }
    return Input.newBuilder().setExampleList(list).build();
  }

  @Test
  void predict_givesTfServingsValues() {
    // tensorflow_model_server_test_base.py VerifyPredictRequest: x = [2.0] of shape [1] (and [1, 1]
    // with batch_input) gives one y = 3.0 on half_plus_two, with or without output_filter
    for (long[] shape : List.of(new long[] {1}, new long[] {1, 1})) {
      for (boolean filter : new boolean[] {true, false}) {
        PredictRequest.Builder request = PredictRequest.newBuilder()
            .setModelSpec(spec(DEFAULT, "serving_default")).putInputs("x", floats(shape, 2f));
        if (filter) {
          request.addOutputFilter("y");
        }
        PredictResponse two = predict.predict(request.build());
        assertThat(two.getOutputsOrThrow("y").getDtype()).isEqualTo(DataType.DT_FLOAT);
        assertThat(two.getOutputsOrThrow("y").getFloatValList()).containsExactly(3f);
        assertThat(two.getModelSpec().getName()).isEqualTo(DEFAULT);
        assertThat(two.getModelSpec().getSignatureName()).isEqualTo("serving_default");
        assertThat(two.getModelSpec().getVersion().getValue()).isEqualTo(123);
      }
    }
    // tensorflow_model_server_test.py testGoodModelConfig: half_plus_three, x = 2.0 gives 4.0
    PredictResponse three = predict.predict(PredictRequest.newBuilder().setModelSpec(spec(THREE, ""))
        .putInputs("x", floats(new long[] {1}, 2f)).build());
    assertThat(three.getOutputsOrThrow("y").getFloatValList()).containsExactly(4f);
    // output_filter, a version and a label
    PredictResponse filtered = predict.predict(PredictRequest.newBuilder()
        .setModelSpec(spec(TWO_VERSIONS, "").toBuilder().setVersion(Int64Value.of(124)))
        .putInputs("x", floats(new long[] {3, 1}, 2f, 3f, 4f)).addOutputFilter("y").build());
    assertThat(filtered.getOutputsOrThrow("y").getFloatValList()).containsExactly(3f, 3.5f, 4f);
    PredictResponse labelled = predict.predict(PredictRequest.newBuilder()
        .setModelSpec(spec(TWO_VERSIONS, "").toBuilder().setVersionLabel("canary"))
        .putInputs("x", floats(new long[] {1, 1}, 2f)).build());
    assertThat(labelled.getModelSpec().getVersion().getValue()).isEqualTo(124);
  }

  @Test
  void classifyRegressAndMultiInference_giveTfServingsValues() {
    // tensorflow_model_server_test.py _TestClassify / _TestRegress: Example x = 2.0 gives 3.0
    ClassificationResponse classified = predict.classify(ClassificationRequest.newBuilder()
        .setModelSpec(spec(DEFAULT, "classify_x_to_y")).setInput(examples("x", 2f)).build());
    assertThat(classified.getResult().getClassifications(0).getClasses(0).getScore()).isEqualTo(3f);
    RegressionResponse regressed = predict.regress(RegressionRequest.newBuilder()
        .setModelSpec(spec(DEFAULT, "regress_x_to_y")).setInput(examples("x", 2f)).build());
    assertThat(regressed.getResult().getRegressions(0).getValue()).isEqualTo(3f);
    RegressionResponse tf2 = predict.regress(RegressionRequest.newBuilder()
        .setModelSpec(spec(TF2, "regress_x_to_y")).setInput(examples("x", 2f)).build());
    assertThat(tf2.getResult().getRegressions(0).getValue()).isEqualTo(3f);
    // saved_model_bundle_test.cc: regress_x_to_y on x = 0, 1, 2, 3 gives 2, 2.5, 3, 3.5
    RegressionResponse four = predict.regress(RegressionRequest.newBuilder()
        .setModelSpec(spec(TWO_VERSIONS, "regress_x_to_y")).setInput(examples("x", 0f, 1f, 2f, 3f)).build());
    assertThat(four.getResult().getRegressionsList()).extracting(r -> r.getValue())
        .containsExactly(2f, 2.5f, 3f, 3.5f);

    MultiInferenceResponse both = predict.multiInference(MultiInferenceRequest.newBuilder()
        .addTasks(InferenceTask.newBuilder().setModelSpec(spec(DEFAULT, "classify_x_to_y"))
            .setMethodName("tensorflow/serving/classify"))
        .addTasks(InferenceTask.newBuilder().setModelSpec(spec(DEFAULT, "regress_x_to_y2"))
            .setMethodName("tensorflow/serving/regress"))
        .setInput(examples("x", 2f)).build());
    assertThat(both.getResults(0).getClassificationResult().getClassifications(0).getClasses(0).getScore())
        .isEqualTo(3f);
    assertThat(both.getResults(1).getRegressionResult().getRegressions(0).getValue()).isEqualTo(4f);
  }

  @Test
  void getModelMetadata_isTfServingsExpectedSignatureDefMap() throws Exception {
    GetModelMetadataResponse got = predict.getModelMetadata(GetModelMetadataRequest.newBuilder()
        .setModelSpec(spec(DEFAULT, "")).addMetadataField("signature_def").build());
    SignatureDefMap signatures = got.getMetadataOrThrow("signature_def").unpack(SignatureDefMap.class);

    // TF Serving's expected REST metadata for this model (testGetModelMetadataREST)
    com.google.gson.JsonObject expected = com.google.gson.JsonParser.parseString(
        Files.readString(fixtures.resolve("half_plus_two_model_metadata.json"))).getAsJsonObject();
    SignatureDefMap.Builder want = SignatureDefMap.newBuilder();
    JsonFormat.parser().merge(expected.getAsJsonObject("metadata").get("signature_def").toString(), want);
    ModelSpec.Builder wantSpec = ModelSpec.newBuilder();
    JsonFormat.parser().merge(expected.get("model_spec").toString(), wantSpec);

    assertThat(got.getModelSpec()).isEqualTo(wantSpec.build());
    assertThat(signatures).isEqualTo(want.build());
  }

  @Test
  void getModelStatus_listsVersionsAndFollowsLabels() {
    GetModelStatusResponse all = models.getModelStatus(GetModelStatusRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName(TWO_VERSIONS)).build());
    assertThat(all.getModelVersionStatusList()).extracting(ModelVersionStatus::getVersion)
        .containsExactlyInAnyOrder(123L, 124L);
    assertThat(all.getModelVersionStatusList()).allSatisfy(v -> {
      assertThat(v.getState()).isEqualTo(ModelVersionStatus.State.AVAILABLE);
      assertThat(v.getStatus().getErrorCodeValue()).isZero();
    });
    GetModelStatusResponse stable = models.getModelStatus(GetModelStatusRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName(TWO_VERSIONS).setVersionLabel("stable")).build());
    assertThat(stable.getModelVersionStatusList()).extracting(ModelVersionStatus::getVersion).containsExactly(123L);
  }

  @Test
  void errors_areTfServingsCodes() {
    assertThatThrownBy(() -> predict.predict(PredictRequest.newBuilder().setModelSpec(spec("half", ""))
        .putInputs("x", floats(new long[] {1, 1}, 2f)).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    assertThatThrownBy(() -> predict.predict(PredictRequest.newBuilder().setModelSpec(spec(DEFAULT, ""))
        .putInputs("z", floats(new long[] {1, 1}, 2f)).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("z");
        });
    assertThatThrownBy(() -> predict.predict(PredictRequest.newBuilder()
        .setModelSpec(spec(TWO_VERSIONS, "").toBuilder().setVersion(Int64Value.of(999)))
        .putInputs("x", floats(new long[] {1, 1}, 2f)).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }
}
