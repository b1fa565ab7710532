package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.TextFormat;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.DataType;
import io.jointspace.api.v1.GetModelMetadataRequest;
import io.jointspace.api.v1.GetModelMetadataResponse;
import io.jointspace.api.v1.GetModelStatusRequest;
import io.jointspace.api.v1.GetModelStatusResponse;
import io.jointspace.api.v1.ListModelsRequest;
import io.jointspace.api.v1.ListModelsResponse;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.ModelServiceGrpc.ModelServiceBlockingStub;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.ModelState;
import io.jointspace.api.v1.ModelSummary;
import io.jointspace.api.v1.ModelVersionStatus;
import io.jointspace.api.v1.SignatureMetadata;
import io.jointspace.api.v1.TensorSpec;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.Recorder;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jointspace.v1.ModelService}, {@code grpc.health.v1.Health} and server reflection
 * against a real server over a real repository: model "encoder" (versions 1 and 2, label
 * "stable" on 1) and model "broken" (one version that fails to load).
 */
class ModelServiceTest {
  static final List<String> SIGNATURES =
      List.of("serving_default", "f64", "i32", "i64", "bool", "bytes", "u8", "add", "square");

  @TempDir static Path root;
  static ServerFixture fixture;
  static ModelServiceBlockingStub stub;
  static Instant startedAt;

  @BeforeAll
  static void startServer() throws Exception {
    Path repo = root.resolve("repo");
    TestModels.writeEncoder(repo.resolve("encoder/1"), 1f);
    TestModels.writeEncoder(repo.resolve("encoder/2"), 2f);
    TestModels.writeBroken(repo.resolve("broken/1"));
    ServerConfig.Builder config = ServerConfig.newBuilder();
    TextFormat.merge(
        "models { name: \"encoder\" version_policy { all {} } version_labels { key: \"stable\" value: 1 } }",
        config);
    startedAt = Instant.now();
    fixture = ServerFixture.start(config, repo);
    stub = ModelServiceGrpc.newBlockingStub(fixture.channel);
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
  }

  static ModelServiceBlockingStub client() {
    return stub.withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  static void assertStatus(ThrowingCallable call, Status.Code code, String... messageParts) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).as("status of %s", e.getStatus()).isEqualTo(code);
          for (String part : messageParts) {
            assertThat(e.getStatus().getDescription()).as("description").contains(part);
          }
        });
  }

  static Instant instant(com.google.protobuf.Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  static GetModelMetadataResponse metadata(ModelSpec spec) {
    return client().getModelMetadata(GetModelMetadataRequest.newBuilder().setModel(spec).build());
  }

  // ------------------------------------------------------------------ ListModels

  @Test
  void listModels_listsEveryModelWithVersionsNewestFirstAndLabels() {
    ListModelsResponse r = client().listModels(ListModelsRequest.getDefaultInstance());
    Map<String, ModelSummary> byName =
        r.getModelsList().stream().collect(Collectors.toMap(ModelSummary::getName, Function.identity()));
    assertThat(byName).containsOnlyKeys("encoder", "broken");

    ModelSummary encoder = byName.get("encoder");
    assertThat(encoder.getVersionsList()).extracting(ModelVersionStatus::getVersion).containsExactly(2L, 1L);
    assertThat(encoder.getVersionsList()).extracting(ModelVersionStatus::getState)
        .containsOnly(ModelState.AVAILABLE);
    assertThat(encoder.getLabelsMap()).containsExactly(Map.entry("stable", 1L));
    assertThat(encoder.getVersions(0).getLabelsList()).isEmpty();
    assertThat(encoder.getVersions(1).getLabelsList()).containsExactly("stable");

    ModelSummary broken = byName.get("broken");
    assertThat(broken.getVersionsList()).singleElement().satisfies(v -> {
      assertThat(v.getVersion()).isEqualTo(1L);
      assertThat(v.getState()).isEqualTo(ModelState.ERROR);
      assertThat(v.getLastError()).isNotBlank();
    });
    assertThat(broken.getLabelsMap()).isEmpty();
  }

  // ------------------------------------------------------------------ GetModelStatus

  @Test
  void getModelStatus_availableVersions_haveSinceAndLabels() {
    GetModelStatusResponse r = client().getModelStatus(GetModelStatusRequest.newBuilder().setName("encoder").build());
    assertThat(r.getName()).isEqualTo("encoder");
    assertThat(r.getVersionsList()).extracting(ModelVersionStatus::getVersion).containsExactly(2L, 1L);
    for (ModelVersionStatus v : r.getVersionsList()) {
      assertThat(v.getState()).isEqualTo(ModelState.AVAILABLE);
      assertThat(v.hasSince()).isTrue();
      assertThat(instant(v.getSince()))
          .isAfterOrEqualTo(startedAt.minus(Duration.ofSeconds(5)))
          .isBeforeOrEqualTo(Instant.now().plus(Duration.ofSeconds(5)));
      assertThat(v.getLastError()).isEmpty();
    }
    assertThat(r.getVersions(1).getLabelsList()).containsExactly("stable");
    assertThat(r.getVersions(0).getLabelsList()).isEmpty();
  }

  @Test
  void getModelStatus_oneVersion_returnsOnlyThatVersion() {
    GetModelStatusResponse r = client().getModelStatus(
        GetModelStatusRequest.newBuilder().setName("encoder").setVersion(1).build());
    assertThat(r.getVersionsList()).singleElement().satisfies(v -> {
      assertThat(v.getVersion()).isEqualTo(1L);
      assertThat(v.getState()).isEqualTo(ModelState.AVAILABLE);
      assertThat(v.getLabelsList()).containsExactly("stable");
    });
  }

  @Test
  void getModelStatus_failedVersion_isErrorWithLastError() {
    GetModelStatusResponse r = client().getModelStatus(GetModelStatusRequest.newBuilder().setName("broken").build());
    assertThat(r.getVersionsList()).singleElement().satisfies(v -> {
      assertThat(v.getVersion()).isEqualTo(1L);
      assertThat(v.getState()).isEqualTo(ModelState.ERROR);
      assertThat(v.getLastError()).isNotBlank();
      assertThat(v.hasSince()).isTrue();
    });
  }

  @Test
  void getModelStatus_unknownModel_isNotFound() {
    assertStatus(() -> client().getModelStatus(GetModelStatusRequest.newBuilder().setName("no-such-model").build()),
        Status.Code.NOT_FOUND, "no-such-model");
  }

  @Test
  void getModelStatus_unknownVersion_isNotFound() {
    assertStatus(() -> client().getModelStatus(
            GetModelStatusRequest.newBuilder().setName("encoder").setVersion(9).build()),
        Status.Code.NOT_FOUND, "encoder", "9");
  }

  @Test
  void getModelStatus_emptyName_isInvalidArgument() {
    assertStatus(() -> client().getModelStatus(GetModelStatusRequest.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT, "name");
  }

  // ------------------------------------------------------------------ GetModelMetadata

  @Test
  void getModelMetadata_withoutVersion_resolvesNewest() {
    GetModelMetadataResponse r = metadata(ModelSpec.newBuilder().setName("encoder").build());
    assertThat(r.getModel().getName()).isEqualTo("encoder");
    assertThat(r.getModel().getVersion()).isEqualTo(2L);
    assertThat(r.getModel().getSignatureName()).isEqualTo("serving_default");
  }

  @Test
  void getModelMetadata_byVersion_resolvesThatVersion() {
    GetModelMetadataResponse r = metadata(ModelSpec.newBuilder().setName("encoder").setVersion(1).build());
    assertThat(r.getModel().getVersion()).isEqualTo(1L);
  }

  @Test
  void getModelMetadata_byLabel_resolvesLabelledVersion() {
    GetModelMetadataResponse r = metadata(ModelSpec.newBuilder().setName("encoder").setLabel("stable").build());
    assertThat(r.getModel().getName()).isEqualTo("encoder");
    assertThat(r.getModel().getVersion()).isEqualTo(1L);
  }

  @Test
  void getModelMetadata_describesEverySignatureTagsAndEmbeddingDimension() {
    GetModelMetadataResponse r = metadata(ModelSpec.newBuilder().setName("encoder").build());
    assertThat(r.getTagsList()).containsExactly("serve");
    assertThat(r.getEmbeddingDimension()).isEqualTo(3);
    Map<String, SignatureMetadata> sigs =
        r.getSignaturesList().stream().collect(Collectors.toMap(SignatureMetadata::getName, Function.identity()));
    assertThat(sigs.keySet()).containsExactlyInAnyOrderElementsOf(SIGNATURES);

    SignatureMetadata def = sigs.get("serving_default");
    assertThat(def.getInputsList()).singleElement().satisfies(x -> {
      assertThat(x.getName()).isEqualTo("x");
      assertThat(x.getDtype()).isEqualTo(DataType.FP32);
      assertThat(x.getShapeList()).containsExactly(-1L, 4L);
      assertThat(x.getRankKnown()).isTrue();
      assertThat(x.getTensorName()).isEqualTo("x:0");
    });
    assertThat(def.getOutputsList()).singleElement().satisfies(y -> {
      assertThat(y.getName()).isEqualTo("embedding");
      assertThat(y.getDtype()).isEqualTo(DataType.FP32);
      assertThat(y.getShapeList()).containsExactly(-1L, 3L);
      assertThat(y.getTensorName()).isEqualTo("embedding:0");
    });

    assertInput(sigs.get("f64"), "a", DataType.FP64, "a64:0", -1, 2);
    assertInput(sigs.get("i32"), "i", DataType.INT32, "i32:0", -1);
    assertInput(sigs.get("i64"), "v", DataType.INT64, "i64:0", -1, 2);
    assertInput(sigs.get("bool"), "b", DataType.BOOL, "b:0", -1);
    assertInput(sigs.get("bytes"), "s", DataType.BYTES, "str:0", -1);
    assertInput(sigs.get("u8"), "u", DataType.UINT8, "u8:0", -1, 2);
    assertInput(sigs.get("square"), "s", DataType.FP32, "sq:0");
    assertThat(sigs.get("square").getInputs(0).getRankKnown()).isTrue();
    assertThat(sigs.get("add").getInputsList()).extracting(TensorSpec::getName).containsExactlyInAnyOrder("a", "b");
    assertThat(sigs.get("add").getInputsList()).extracting(TensorSpec::getTensorName)
        .containsExactlyInAnyOrder("add_a:0", "add_b:0");
    assertThat(sigs.get("add").getOutputsList()).extracting(TensorSpec::getName).containsExactly("sum");
    assertThat(sigs.get("u8").getOutputs(0).getDtype()).isEqualTo(DataType.FP32);

    for (SignatureMetadata s : r.getSignaturesList()) {
      assertThat(s.getOutputsList()).as("outputs of %s", s.getName()).isNotEmpty()
          .allSatisfy(t -> assertThat(t.getTensorName()).matches(".+:\\d+"));
    }
  }

  static void assertInput(SignatureMetadata sig, String name, DataType dtype, String tensorName, long... shape) {
    assertThat(sig.getInputsList()).as("inputs of %s", sig.getName()).singleElement().satisfies(t -> {
      assertThat(t.getName()).isEqualTo(name);
      assertThat(t.getDtype()).isEqualTo(dtype);
      assertThat(t.getShapeList()).containsExactly(java.util.Arrays.stream(shape).boxed().toArray(Long[]::new));
      assertThat(t.getTensorName()).isEqualTo(tensorName);
    });
  }

  @Test
  void getModelMetadata_unknownLabel_isNotFound() {
    assertStatus(() -> metadata(ModelSpec.newBuilder().setName("encoder").setLabel("canary").build()),
        Status.Code.NOT_FOUND, "canary", "stable");
  }

  @Test
  void getModelMetadata_unknownVersion_isNotFound() {
    assertStatus(() -> metadata(ModelSpec.newBuilder().setName("encoder").setVersion(9).build()),
        Status.Code.NOT_FOUND, "9");
  }

  @Test
  void getModelMetadata_unknownModel_isNotFound() {
    assertStatus(() -> metadata(ModelSpec.newBuilder().setName("no-such-model").build()),
        Status.Code.NOT_FOUND, "no-such-model");
  }

  @Test
  void getModelMetadata_failedVersion_isUnavailable() {
    assertStatus(() -> metadata(ModelSpec.newBuilder().setName("broken").setVersion(1).build()),
        Status.Code.UNAVAILABLE, "broken");
  }

  @Test
  void getModelMetadata_emptyName_isInvalidArgument() {
    assertStatus(() -> metadata(ModelSpec.getDefaultInstance()), Status.Code.INVALID_ARGUMENT, "model.name");
  }

  @Test
  void getModelMetadata_modelNotSet_isInvalidArgument() {
    assertStatus(() -> client().getModelMetadata(GetModelMetadataRequest.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT, "model");
  }

  // ------------------------------------------------------------------ grpc.health.v1

  static ServingStatus health(String service) {
    return HealthGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build())
        .getStatus();
  }

  @Test
  void health_overall_isServing() {
    assertThat(health("")).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void health_modelWithAnAvailableVersion_isServing() {
    assertThat(health("encoder")).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void health_modelWithOnlyAFailedVersion_isNotServing() {
    assertThat(health("broken")).isEqualTo(ServingStatus.NOT_SERVING);
  }

  @Test
  void health_unknownService_isNotFound() {
    assertStatus(() -> health("no-such-model"), Status.Code.NOT_FOUND);
  }

  // ------------------------------------------------------------------ reflection

  @Test
  void reflection_listsTheServices() throws Exception {
    Recorder<ServerReflectionResponse> answer = new Recorder<>();
    StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(fixture.channel)
        .withDeadlineAfter(30, TimeUnit.SECONDS).serverReflectionInfo(answer);
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();
    List<String> services = answer.awaitValue(0, 30).getListServicesResponse().getServiceList().stream()
        .map(ServiceResponse::getName)
        .toList();
    assertThat(services).contains(
        "inference.GRPCInferenceService",
        "jointspace.v1.ModelService",
        "jointspace.v1.EmbeddingService",
        "grpc.health.v1.Health");
  }
}
