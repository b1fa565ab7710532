package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import com.google.protobuf.TextFormat;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import io.jointspace.api.inference.InferParameter;
import io.jointspace.api.inference.InferTensorContents;
import io.jointspace.api.inference.ModelInferRequest;
import io.jointspace.api.inference.ModelInferRequest.InferInputTensor;
import io.jointspace.api.inference.ModelInferRequest.InferRequestedOutputTensor;
import io.jointspace.api.inference.ModelInferResponse;
import io.jointspace.api.inference.ModelInferResponse.InferOutputTensor;
import io.jointspace.api.inference.ModelMetadataRequest;
import io.jointspace.api.inference.ModelMetadataResponse;
import io.jointspace.api.inference.ModelReadyRequest;
import io.jointspace.api.inference.ServerLiveRequest;
import io.jointspace.api.inference.ServerMetadataRequest;
import io.jointspace.api.inference.ServerMetadataResponse;
import io.jointspace.api.inference.ServerReadyRequest;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The KServe v2 {@code inference.GRPCInferenceService} against a real server over a real
 * SavedModel repository: model "encoder" (versions 1 and 2, scales 1 and 2, label "stable"
 * on 1) and model "broken" (one version that fails to load).
 */
class InferenceServiceTest {
  static final float SCALE_V1 = 1f;
  static final float SCALE_V2 = 2f;
  static final float[] ROW_A = {1f, 2f, 3f, 4f};
  static final float[] ROW_B = {-0.5f, 0.25f, 0f, 1.5f};

  @TempDir static Path root;
  static ServerFixture fixture;
  static GRPCInferenceServiceBlockingStub stub;

  @BeforeAll
  static void startServer() throws Exception {
    Path repo = root.resolve("repo");
    TestModels.writeEncoder(repo.resolve("encoder/1"), SCALE_V1);
    TestModels.writeEncoder(repo.resolve("encoder/2"), SCALE_V2);
    TestModels.writeBroken(repo.resolve("broken/1"));
    ServerConfig.Builder config = ServerConfig.newBuilder();
    TextFormat.merge(
        "models { name: \"encoder\" version_policy { all {} } version_labels { key: \"stable\" value: 1 } }",
        config);
    fixture = ServerFixture.start(config, repo);
    stub = GRPCInferenceServiceGrpc.newBlockingStub(fixture.channel);
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
  }

  /** A stub with a deadline, so that a hung server fails the test instead of the build. */
  static GRPCInferenceServiceBlockingStub client() {
    return stub.withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  // ------------------------------------------------------------------ helpers

  static InferInputTensor.Builder input(String name, String datatype, long... shape) {
    InferInputTensor.Builder b = InferInputTensor.newBuilder().setName(name).setDatatype(datatype);
    for (long d : shape) {
      b.addShape(d);
    }
    return b;
  }

  static InferTensorContents fp32(float... values) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (float v : values) {
      c.addFp32Contents(v);
    }
    return c.build();
  }

  static float[] concat(float[]... rows) {
    int n = 0;
    for (float[] r : rows) {
      n += r.length;
    }
    float[] out = new float[n];
    int i = 0;
    for (float[] r : rows) {
      System.arraycopy(r, 0, out, i, r.length);
      i += r.length;
    }
    return out;
  }

  static ByteString rawFloats(float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return ByteString.copyFrom(b.array());
  }

  static float[] floatsOf(ByteString raw) {
    ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[raw.size() / 4];
    for (int i = 0; i < out.length; i++) {
      out[i] = b.getFloat();
    }
    return out;
  }

  static float[] floatsOf(List<Float> values) {
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }

  /** KServe BYTES raw layout: each element a 4-byte little-endian length, then its bytes. */
  static ByteString rawBytes(byte[]... elements) {
    int size = 0;
    for (byte[] e : elements) {
      size += 4 + e.length;
    }
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] e : elements) {
      b.putInt(e.length).put(e);
    }
    return ByteString.copyFrom(b.array());
  }

  static List<byte[]> bytesOf(ByteString raw) {
    ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    List<byte[]> out = new ArrayList<>();
    while (b.hasRemaining()) {
      byte[] e = new byte[b.getInt()];
      b.get(e);
      out.add(e);
    }
    return out;
  }

  static InferParameter stringParam(String value) {
    return InferParameter.newBuilder().setStringParam(value).build();
  }

  static ModelInferRequest.Builder encoderRequest(float[]... rows) {
    return ModelInferRequest.newBuilder()
        .setModelName("encoder")
        .addInputs(input("x", "FP32", rows.length, 4).setContents(fp32(concat(rows))));
  }

  static ModelInferRequest.Builder signatureRequest(String signature) {
    return ModelInferRequest.newBuilder()
        .setModelName("encoder")
        .putParameters(InferenceServiceImpl.SIGNATURE_PARAMETER, stringParam(signature));
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

  static void assertEmbeddings(float[] flat, float scale, float[]... rows) {
    assertThat(flat).containsExactly(concat(expected(scale, rows)), within(1e-5f));
  }

  static float[][] expected(float scale, float[]... rows) {
    float[][] out = new float[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      out[i] = TestModels.expectedEmbedding(rows[i], scale);
    }
    return out;
  }

  // ------------------------------------------------------------------ health and metadata

  @Test
  void serverLive_isTrue() {
    assertThat(client().serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
  }

  @Test
  void serverReady_isTrueOnceStartupLoadsSettled() {
    assertThat(client().serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
  }

  @Test
  void modelReady_knownModel_isTrue() {
    assertThat(client().modelReady(ModelReadyRequest.newBuilder().setName("encoder").build()).getReady()).isTrue();
  }

  @Test
  void modelReady_servedVersion_isTrue() {
    assertThat(client().modelReady(ModelReadyRequest.newBuilder().setName("encoder").setVersion("1").build())
        .getReady()).isTrue();
    assertThat(client().modelReady(ModelReadyRequest.newBuilder().setName("encoder").setVersion("2").build())
        .getReady()).isTrue();
  }

  @Test
  void modelReady_versionNotServed_isFalse() {
    assertThat(client().modelReady(ModelReadyRequest.newBuilder().setName("encoder").setVersion("3").build())
        .getReady()).isFalse();
  }

  @Test
  void modelReady_unknownModel_isFalse() {
    assertThat(client().modelReady(ModelReadyRequest.newBuilder().setName("no-such-model").build()).getReady())
        .isFalse();
  }

  @Test
  void modelReady_modelWithOnlyAFailedVersion_isFalse() {
    assertThat(client().modelReady(ModelReadyRequest.newBuilder().setName("broken").build()).getReady()).isFalse();
  }

  @Test
  void modelReady_emptyName_isInvalidArgument() {
    assertStatus(() -> client().modelReady(ModelReadyRequest.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT, "name");
  }

  @Test
  void serverMetadata_namesJointspaceWithAVersion() {
    ServerMetadataResponse meta = client().serverMetadata(ServerMetadataRequest.getDefaultInstance());
    assertThat(meta.getName()).isEqualTo("jointspace");
    assertThat(meta.getVersion()).isNotEmpty();
  }

  @Test
  void modelMetadata_describesDefaultSignatureAndVersionsNewestFirst() {
    ModelMetadataResponse meta = client().modelMetadata(ModelMetadataRequest.newBuilder().setName("encoder").build());
    assertThat(meta.getName()).isEqualTo("encoder");
    assertThat(meta.getVersionsList()).containsExactly("2", "1");
    assertThat(meta.getPlatform()).isEqualTo("tensorflow_savedmodel");
    assertThat(meta.getInputsList()).singleElement().satisfies(t -> {
      assertThat(t.getName()).isEqualTo("x");
      assertThat(t.getDatatype()).isEqualTo("FP32");
      assertThat(t.getShapeList()).containsExactly(-1L, 4L);
    });
    assertThat(meta.getOutputsList()).singleElement().satisfies(t -> {
      assertThat(t.getName()).isEqualTo("embedding");
      assertThat(t.getDatatype()).isEqualTo("FP32");
      assertThat(t.getShapeList()).containsExactly(-1L, 3L);
    });
  }

  @Test
  void modelMetadata_specificVersion_isAnswered() {
    ModelMetadataResponse meta = client().modelMetadata(
        ModelMetadataRequest.newBuilder().setName("encoder").setVersion("1").build());
    assertThat(meta.getName()).isEqualTo("encoder");
    assertThat(meta.getInputsList()).extracting(ModelMetadataResponse.TensorMetadata::getName).containsExactly("x");
  }

  @Test
  void modelMetadata_unknownModel_isNotFound() {
    assertStatus(() -> client().modelMetadata(ModelMetadataRequest.newBuilder().setName("no-such-model").build()),
        Status.Code.NOT_FOUND, "no-such-model");
  }

  @Test
  void modelMetadata_unknownVersion_isNotFound() {
    assertStatus(() -> client().modelMetadata(
            ModelMetadataRequest.newBuilder().setName("encoder").setVersion("9").build()),
        Status.Code.NOT_FOUND, "encoder", "9");
  }

  @Test
  void modelMetadata_modelWithOnlyAFailedVersion_isUnavailable() {
    assertStatus(() -> client().modelMetadata(ModelMetadataRequest.newBuilder().setName("broken").build()),
        Status.Code.UNAVAILABLE, "broken");
  }

  // ------------------------------------------------------------------ inference: happy paths

  @Test
  void modelInfer_typedFp32_returnsTypedOutputsOfNewestVersion() {
    ModelInferResponse r = client().modelInfer(encoderRequest(ROW_A, ROW_B).build());
    assertThat(r.getModelName()).isEqualTo("encoder");
    assertThat(r.getModelVersion()).isEqualTo("2");
    assertThat(r.getRawOutputContentsList()).isEmpty();
    assertThat(r.getOutputsList()).singleElement().satisfies(out -> {
      assertThat(out.getName()).isEqualTo("embedding");
      assertThat(out.getDatatype()).isEqualTo("FP32");
      assertThat(out.getShapeList()).containsExactly(2L, 3L);
      assertEmbeddings(floatsOf(out.getContents().getFp32ContentsList()), SCALE_V2, ROW_A, ROW_B);
    });
  }

  @Test
  void modelInfer_rawFp32_returnsRawOutputs() {
    ModelInferResponse r = client().modelInfer(ModelInferRequest.newBuilder()
        .setModelName("encoder")
        .addInputs(input("x", "FP32", 2, 4))
        .addRawInputContents(rawFloats(concat(ROW_A, ROW_B)))
        .build());
    assertThat(r.getOutputsList()).singleElement().satisfies(out -> {
      assertThat(out.getName()).isEqualTo("embedding");
      assertThat(out.getDatatype()).isEqualTo("FP32");
      assertThat(out.getShapeList()).containsExactly(2L, 3L);
      assertThat(out.hasContents()).isFalse();
    });
    assertThat(r.getRawOutputContentsList()).singleElement().satisfies(raw -> {
      assertThat(raw.size()).isEqualTo(2 * 3 * 4);
      assertEmbeddings(floatsOf(raw), SCALE_V2, ROW_A, ROW_B);
    });
  }

  @Test
  void modelInfer_modelVersion_selectsThatVersion() {
    ModelInferResponse v1 = client().modelInfer(encoderRequest(ROW_A).setModelVersion("1").build());
    ModelInferResponse v2 = client().modelInfer(encoderRequest(ROW_A).setModelVersion("2").build());
    assertThat(v1.getModelVersion()).isEqualTo("1");
    assertThat(v2.getModelVersion()).isEqualTo("2");
    float[] e1 = floatsOf(v1.getOutputs(0).getContents().getFp32ContentsList());
    float[] e2 = floatsOf(v2.getOutputs(0).getContents().getFp32ContentsList());
    assertEmbeddings(e1, SCALE_V1, ROW_A);
    assertEmbeddings(e2, SCALE_V2, ROW_A);
    assertThat(e1).isNotEqualTo(e2);
  }

  @Test
  void modelInfer_id_isEchoed() {
    ModelInferResponse r = client().modelInfer(encoderRequest(ROW_A).setId("request-42").build());
    assertThat(r.getId()).isEqualTo("request-42");
  }

  @Test
  void modelInfer_signatureNameParameter_selectsSignature() {
    ModelInferResponse r = client().modelInfer(signatureRequest("add")
        .addInputs(input("a", "FP32", 1, 2).setContents(fp32(1f, 2f)))
        .addInputs(input("b", "FP32", 1, 2).setContents(fp32(10f, 20f)))
        .build());
    assertThat(r.getOutputsList()).singleElement().satisfies(out -> {
      assertThat(out.getName()).isEqualTo("sum");
      assertThat(out.getShapeList()).containsExactly(1L, 2L);
      assertThat(out.getContents().getFp32ContentsList()).containsExactly(11f, 22f);
    });
  }

  @Test
  void modelInfer_requestedOutputs_returnsOnlyThose() {
    ModelInferResponse r = client().modelInfer(encoderRequest(ROW_A)
        .addOutputs(InferRequestedOutputTensor.newBuilder().setName("embedding"))
        .build());
    assertThat(r.getOutputsList()).extracting(InferOutputTensor::getName).containsExactly("embedding");
    assertEmbeddings(floatsOf(r.getOutputs(0).getContents().getFp32ContentsList()), SCALE_V2, ROW_A);
  }

  @Test
  void modelInfer_twoInputsRaw_eachFromItsOwnRawEntry() {
    ModelInferResponse r = client().modelInfer(signatureRequest("add")
        .addInputs(input("a", "FP32", 2, 2))
        .addInputs(input("b", "FP32", 2, 2))
        .addRawInputContents(rawFloats(1f, 2f, 3f, 4f))
        .addRawInputContents(rawFloats(0.5f, 0.5f, -3f, 10f))
        .build());
    assertThat(r.getOutputs(0).getShapeList()).containsExactly(2L, 2L);
    assertThat(floatsOf(r.getRawOutputContents(0))).containsExactly(1.5f, 2.5f, 0f, 14f);
  }

  @Test
  void modelInfer_typedFp64_doublesValues() {
    ModelInferResponse r = client().modelInfer(signatureRequest("f64")
        .addInputs(input("a", "FP64", 2, 2).setContents(
            InferTensorContents.newBuilder().addFp64Contents(1.5).addFp64Contents(-2).addFp64Contents(0)
                .addFp64Contents(1e300 / 4)))
        .build());
    InferOutputTensor out = r.getOutputs(0);
    assertThat(out.getName()).isEqualTo("out");
    assertThat(out.getDatatype()).isEqualTo("FP64");
    assertThat(out.getShapeList()).containsExactly(2L, 2L);
    assertThat(out.getContents().getFp64ContentsList()).containsExactly(3.0, -4.0, 0.0, 1e300 / 2);
  }

  @Test
  void modelInfer_typedInt32_addsOne() {
    ModelInferResponse r = client().modelInfer(signatureRequest("i32")
        .addInputs(input("i", "INT32", 3).setContents(
            InferTensorContents.newBuilder().addIntContents(-1).addIntContents(0).addIntContents(41)))
        .build());
    InferOutputTensor out = r.getOutputs(0);
    assertThat(out.getDatatype()).isEqualTo("INT32");
    assertThat(out.getShapeList()).containsExactly(3L);
    assertThat(out.getContents().getIntContentsList()).containsExactly(0, 1, 42);
  }

  @Test
  void modelInfer_typedInt64_triplesValues() {
    long big = 1L << 40;
    ModelInferResponse r = client().modelInfer(signatureRequest("i64")
        .addInputs(input("v", "INT64", 1, 2).setContents(
            InferTensorContents.newBuilder().addInt64Contents(big).addInt64Contents(-7)))
        .build());
    InferOutputTensor out = r.getOutputs(0);
    assertThat(out.getDatatype()).isEqualTo("INT64");
    assertThat(out.getShapeList()).containsExactly(1L, 2L);
    assertThat(out.getContents().getInt64ContentsList()).containsExactly(3 * big, -21L);
  }

  @Test
  void modelInfer_typedBool_negates() {
    ModelInferResponse r = client().modelInfer(signatureRequest("bool")
        .addInputs(input("b", "BOOL", 3).setContents(
            InferTensorContents.newBuilder().addBoolContents(true).addBoolContents(false).addBoolContents(true)))
        .build());
    InferOutputTensor out = r.getOutputs(0);
    assertThat(out.getDatatype()).isEqualTo("BOOL");
    assertThat(out.getContents().getBoolContentsList()).containsExactly(false, true, false);
  }

  @Test
  void modelInfer_typedBytes_roundTripsArbitraryBytes() {
    byte[] binary = {0, (byte) 0xff, 10, 13};
    ModelInferResponse r = client().modelInfer(signatureRequest("bytes")
        .addInputs(input("s", "BYTES", 3).setContents(InferTensorContents.newBuilder()
            .addBytesContents(ByteString.copyFromUtf8("héllo"))
            .addBytesContents(ByteString.copyFrom(binary))
            .addBytesContents(ByteString.EMPTY)))
        .build());
    InferOutputTensor out = r.getOutputs(0);
    assertThat(out.getDatatype()).isEqualTo("BYTES");
    assertThat(out.getShapeList()).containsExactly(3L);
    assertThat(out.getContents().getBytesContentsList())
        .containsExactly(ByteString.copyFromUtf8("héllo"), ByteString.copyFrom(binary), ByteString.EMPTY);
  }

  @Test
  void modelInfer_typedUint8_castsToFloat() {
    ModelInferResponse r = client().modelInfer(signatureRequest("u8")
        .addInputs(input("u", "UINT8", 1, 2).setContents(
            InferTensorContents.newBuilder().addUintContents(0).addUintContents(255)))
        .build());
    InferOutputTensor out = r.getOutputs(0);
    assertThat(out.getDatatype()).isEqualTo("FP32");
    assertThat(out.getShapeList()).containsExactly(1L, 2L);
    assertThat(out.getContents().getFp32ContentsList()).containsExactly(0f, 255f);
  }

  @Test
  void modelInfer_unbatchedScalar_squares() {
    ModelInferResponse r = client().modelInfer(signatureRequest("square")
        .addInputs(input("s", "FP32").setContents(fp32(-3f)))
        .build());
    InferOutputTensor out = r.getOutputs(0);
    assertThat(out.getName()).isEqualTo("out");
    assertThat(out.getShapeList()).isEmpty();
    assertThat(out.getContents().getFp32ContentsList()).containsExactly(9f);
  }

  @Test
  void modelInfer_unbatchedScalarRaw_squares() {
    ModelInferResponse r = client().modelInfer(signatureRequest("square")
        .addInputs(input("s", "FP32"))
        .addRawInputContents(rawFloats(1.5f))
        .build());
    assertThat(r.getOutputs(0).getShapeList()).isEmpty();
    assertThat(floatsOf(r.getRawOutputContents(0))).containsExactly(2.25f);
  }

  @Test
  void modelInfer_rawFp64_returnsLittleEndianDoubles() {
    ByteBuffer in = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(1.25).putDouble(-8);
    ModelInferResponse r = client().modelInfer(signatureRequest("f64")
        .addInputs(input("a", "FP64", 1, 2))
        .addRawInputContents(ByteString.copyFrom(in.array()))
        .build());
    assertThat(r.getOutputs(0).getDatatype()).isEqualTo("FP64");
    ByteBuffer out = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertThat(out.remaining()).isEqualTo(16);
    assertThat(out.getDouble()).isEqualTo(2.5);
    assertThat(out.getDouble()).isEqualTo(-16.0);
  }

  @Test
  void modelInfer_rawInt32_returnsLittleEndianInts() {
    ByteBuffer in = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0x01020304).putInt(-2);
    ModelInferResponse r = client().modelInfer(signatureRequest("i32")
        .addInputs(input("i", "INT32", 2))
        .addRawInputContents(ByteString.copyFrom(in.array()))
        .build());
    ByteBuffer out = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertThat(out.remaining()).isEqualTo(8);
    assertThat(out.getInt()).isEqualTo(0x01020305);
    assertThat(out.getInt()).isEqualTo(-1);
  }

  @Test
  void modelInfer_rawInt64_returnsLittleEndianLongs() {
    ByteBuffer in = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).putLong(-5);
    ModelInferResponse r = client().modelInfer(signatureRequest("i64")
        .addInputs(input("v", "INT64", 1, 2))
        .addRawInputContents(ByteString.copyFrom(in.array()))
        .build());
    ByteBuffer out = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertThat(out.remaining()).isEqualTo(16);
    assertThat(out.getLong()).isEqualTo(3L << 40);
    assertThat(out.getLong()).isEqualTo(-15L);
  }

  @Test
  void modelInfer_rawBool_returnsOneBytePerElement() {
    ModelInferResponse r = client().modelInfer(signatureRequest("bool")
        .addInputs(input("b", "BOOL", 3))
        .addRawInputContents(ByteString.copyFrom(new byte[] {1, 0, 0}))
        .build());
    assertThat(r.getOutputs(0).getDatatype()).isEqualTo("BOOL");
    assertThat(r.getRawOutputContents(0).toByteArray()).containsExactly(0, 1, 1);
  }

  @Test
  void modelInfer_rawUint8_castsToFloat() {
    ModelInferResponse r = client().modelInfer(signatureRequest("u8")
        .addInputs(input("u", "UINT8", 2, 2))
        .addRawInputContents(ByteString.copyFrom(new byte[] {0, 1, (byte) 128, (byte) 255}))
        .build());
    assertThat(r.getOutputs(0).getShapeList()).containsExactly(2L, 2L);
    assertThat(floatsOf(r.getRawOutputContents(0))).containsExactly(0f, 1f, 128f, 255f);
  }

  @Test
  void modelInfer_rawBytes_usesLengthPrefixedElements() {
    byte[] hello = "héllo".getBytes(StandardCharsets.UTF_8);
    byte[] binary = {0, (byte) 0xff, 0, 0, 0, 0};
    ModelInferResponse r = client().modelInfer(signatureRequest("bytes")
        .addInputs(input("s", "BYTES", 3))
        .addRawInputContents(rawBytes(hello, new byte[0], binary))
        .build());
    InferOutputTensor out = r.getOutputs(0);
    assertThat(out.getDatatype()).isEqualTo("BYTES");
    assertThat(out.getShapeList()).containsExactly(3L);
    ByteString raw = r.getRawOutputContents(0);
    assertThat(raw).isEqualTo(rawBytes(hello, new byte[0], binary));
    assertThat(bytesOf(raw)).containsExactly(hello, new byte[0], binary);
  }

  @Test
  void modelInfer_emptyBatch_returnsEmptyOutput() {
    ModelInferResponse r = client().modelInfer(ModelInferRequest.newBuilder()
        .setModelName("encoder")
        .addInputs(input("x", "FP32", 0, 4))
        .build());
    assertThat(r.getOutputs(0).getShapeList()).containsExactly(0L, 3L);
    assertThat(r.getOutputs(0).getContents().getFp32ContentsCount()).isZero();
  }

  // ------------------------------------------------------------------ inference: bad requests

  @Test
  void modelInfer_emptyModelName_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(encoderRequest(ROW_A).setModelName("").build()),
        Status.Code.INVALID_ARGUMENT, "model_name");
  }

  @Test
  void modelInfer_unknownModel_isNotFound() {
    assertStatus(() -> client().modelInfer(encoderRequest(ROW_A).setModelName("no-such-model").build()),
        Status.Code.NOT_FOUND, "no-such-model");
  }

  @Test
  void modelInfer_unknownVersion_isNotFound() {
    assertStatus(() -> client().modelInfer(encoderRequest(ROW_A).setModelVersion("7").build()),
        Status.Code.NOT_FOUND, "encoder", "7");
  }

  @Test
  void modelInfer_nonNumericVersion_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(encoderRequest(ROW_A).setModelVersion("latest").build()),
        Status.Code.INVALID_ARGUMENT, "model_version", "latest");
  }

  @Test
  void modelInfer_zeroVersion_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(encoderRequest(ROW_A).setModelVersion("0").build()),
        Status.Code.INVALID_ARGUMENT, "model_version");
  }

  @Test
  void modelInfer_modelWithOnlyAFailedVersion_isUnavailable() {
    assertStatus(() -> client().modelInfer(encoderRequest(ROW_A).setModelName("broken").build()),
        Status.Code.UNAVAILABLE, "broken");
  }

  @Test
  void modelInfer_unknownSignatureName_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(signatureRequest("nope")
            .addInputs(input("x", "FP32", 1, 4).setContents(fp32(ROW_A))).build()),
        Status.Code.INVALID_ARGUMENT, "signature_name", "'nope'", "serving_default");
  }

  @Test
  void modelInfer_signatureNameNotAString_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(encoderRequest(ROW_A)
            .putParameters(InferenceServiceImpl.SIGNATURE_PARAMETER, InferParameter.newBuilder().setInt64Param(3).build())
            .build()),
        Status.Code.INVALID_ARGUMENT, "signature_name", "string_param");
  }

  @Test
  void modelInfer_datatypeNotTheSignatures_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(ModelInferRequest.newBuilder()
            .setModelName("encoder")
            .addInputs(input("x", "FP64", 1, 4).setContents(InferTensorContents.newBuilder()
                .addFp64Contents(1).addFp64Contents(2).addFp64Contents(3).addFp64Contents(4)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "'x'", "FP64", "FP32");
  }

  @Test
  void modelInfer_unsupportedDatatype_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(ModelInferRequest.newBuilder()
            .setModelName("encoder")
            .addInputs(input("x", "FP128", 1, 4).setContents(fp32(ROW_A)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "inputs[0].datatype", "FP128");
  }

  @Test
  void modelInfer_emptyDatatype_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(ModelInferRequest.newBuilder()
            .setModelName("encoder")
            .addInputs(input("x", "", 1, 4).setContents(fp32(ROW_A)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "inputs[0].datatype");
  }

  @Test
  void modelInfer_shapeNotTheSignatures_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(ModelInferRequest.newBuilder()
            .setModelName("encoder")
            .addInputs(input("x", "FP32", 1, 3).setContents(fp32(1, 2, 3)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "'x'", "[1, 3]", "[-1, 4]");
  }

  @Test
  void modelInfer_rankNotTheSignatures_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(ModelInferRequest.newBuilder()
            .setModelName("encoder")
            .addInputs(input("x", "FP32", 4).setContents(fp32(ROW_A)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "'x'", "[4]");
  }

  @Test
  void modelInfer_typedContentCountNotMatchingShape_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(ModelInferRequest.newBuilder()
            .setModelName("encoder")
            .addInputs(input("x", "FP32", 2, 4).setContents(fp32(ROW_A)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "inputs[0].contents.fp32_contents", "4", "8");
  }

  @Test
  void modelInfer_contentsInTheWrongTypedField_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(ModelInferRequest.newBuilder()
            .setModelName("encoder")
            .addInputs(input("x", "FP32", 1, 4).setContents(InferTensorContents.newBuilder()
                .addFp64Contents(1).addFp64Contents(2).addFp64Contents(3).addFp64Contents(4)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "inputs[0].contents.fp32_contents");
  }

  @Test
  void modelInfer_rawCountNotMatchingInputs_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(signatureRequest("add")
            .addInputs(input("a", "FP32", 1, 2))
            .addInputs(input("b", "FP32", 1, 2))
            .addRawInputContents(rawFloats(1f, 2f))
            .build()),
        Status.Code.INVALID_ARGUMENT, "raw_input_contents", "1", "2");
  }

  @Test
  void modelInfer_rawByteLengthNotMatchingShape_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(ModelInferRequest.newBuilder()
            .setModelName("encoder")
            .addInputs(input("x", "FP32", 1, 4))
            .addRawInputContents(rawFloats(1f, 2f, 3f))
            .build()),
        Status.Code.INVALID_ARGUMENT, "raw_input_contents[0]", "12", "16");
  }

  @Test
  void modelInfer_rawOfSecondInputWrongLength_namesThatEntry() {
    assertStatus(() -> client().modelInfer(signatureRequest("add")
            .addInputs(input("a", "FP32", 1, 2))
            .addInputs(input("b", "FP32", 1, 2))
            .addRawInputContents(rawFloats(1f, 2f))
            .addRawInputContents(rawFloats(1f))
            .build()),
        Status.Code.INVALID_ARGUMENT, "raw_input_contents[1]");
  }

  @Test
  void modelInfer_rawAndTypedContentsTogether_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(ModelInferRequest.newBuilder()
            .setModelName("encoder")
            .addInputs(input("x", "FP32", 1, 4).setContents(fp32(ROW_A)))
            .addRawInputContents(rawFloats(ROW_A))
            .build()),
        Status.Code.INVALID_ARGUMENT, "inputs[0]", "raw_input_contents");
  }

  @Test
  void modelInfer_bytesRawLengthPastTheEnd_isInvalidArgument() {
    ByteBuffer b = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN).putInt(100).put((byte) 'h').put((byte) 'i');
    assertStatus(() -> client().modelInfer(signatureRequest("bytes")
            .addInputs(input("s", "BYTES", 1))
            .addRawInputContents(ByteString.copyFrom(b.array()))
            .build()),
        Status.Code.INVALID_ARGUMENT, "raw_input_contents[0]", "element 0", "100");
  }

  @Test
  void modelInfer_bytesRawTruncatedLength_isInvalidArgument() {
    ByteString raw = rawBytes("ok".getBytes(StandardCharsets.UTF_8)).concat(ByteString.copyFrom(new byte[] {1, 0}));
    assertStatus(() -> client().modelInfer(signatureRequest("bytes")
            .addInputs(input("s", "BYTES", 2))
            .addRawInputContents(raw)
            .build()),
        Status.Code.INVALID_ARGUMENT, "raw_input_contents[0]", "element 1");
  }

  @Test
  void modelInfer_bytesRawElementCountNotMatchingShape_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(signatureRequest("bytes")
            .addInputs(input("s", "BYTES", 3))
            .addRawInputContents(rawBytes(new byte[] {1}, new byte[] {2}))
            .build()),
        Status.Code.INVALID_ARGUMENT, "raw_input_contents[0]", "2", "3");
  }

  @Test
  void modelInfer_negativeDimension_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(ModelInferRequest.newBuilder()
            .setModelName("encoder")
            .addInputs(input("x", "FP32", -1, 4).setContents(fp32(ROW_A)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "inputs[0].shape[0]", "-1");
  }

  @Test
  void modelInfer_missingInput_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(signatureRequest("add")
            .addInputs(input("a", "FP32", 1, 2).setContents(fp32(1f, 2f)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "'b'", "missing");
  }

  @Test
  void modelInfer_noInputsAtAll_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(ModelInferRequest.newBuilder().setModelName("encoder").build()),
        Status.Code.INVALID_ARGUMENT, "'x'", "missing");
  }

  @Test
  void modelInfer_unknownInputName_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(encoderRequest(ROW_A)
            .addInputs(input("y", "FP32", 1, 4).setContents(fp32(ROW_A)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "'y'", "not an input");
  }

  @Test
  void modelInfer_emptyInputName_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(ModelInferRequest.newBuilder()
            .setModelName("encoder")
            .addInputs(input("", "FP32", 1, 4).setContents(fp32(ROW_A)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "inputs[0].name");
  }

  @Test
  void modelInfer_duplicateInputName_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(encoderRequest(ROW_A)
            .addInputs(input("x", "FP32", 1, 4).setContents(fp32(ROW_B)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "inputs[1].name", "'x'", "twice");
  }

  @Test
  void modelInfer_unknownOutputName_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(encoderRequest(ROW_A)
            .addOutputs(InferRequestedOutputTensor.newBuilder().setName("nope"))
            .build()),
        Status.Code.INVALID_ARGUMENT, "'nope'", "not an output", "embedding");
  }

  @Test
  void modelInfer_duplicateOutputName_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(encoderRequest(ROW_A)
            .addOutputs(InferRequestedOutputTensor.newBuilder().setName("embedding"))
            .addOutputs(InferRequestedOutputTensor.newBuilder().setName("embedding"))
            .build()),
        Status.Code.INVALID_ARGUMENT, "outputs[1].name", "twice");
  }

  @Test
  void modelInfer_uint8OutOfRange_isInvalidArgument() {
    assertStatus(() -> client().modelInfer(signatureRequest("u8")
            .addInputs(input("u", "UINT8", 1, 2).setContents(
                InferTensorContents.newBuilder().addUintContents(1).addUintContents(256)))
            .build()),
        Status.Code.INVALID_ARGUMENT, "inputs[0].contents.uint_contents[1]", "256");
  }

  @Test
  void modelInfer_messageOverTheServersLimit_isResourceExhausted(@TempDir Path smallRepo) throws Exception {
    TestModels.writeEncoder(smallRepo.resolve("encoder/1"), SCALE_V1);
    ServerConfig.Builder config = ServerConfig.newBuilder().setMaxInboundMessageBytes(64 << 10);
    try (ServerFixture small = ServerFixture.start(config, smallRepo)) {
      GRPCInferenceServiceBlockingStub smallStub =
          GRPCInferenceServiceGrpc.newBlockingStub(small.channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      // Under the limit: served as usual.
      assertThat(smallStub.modelInfer(encoderRequest(ROW_A).build()).getOutputsCount()).isEqualTo(1);
      // ~200 KB: 12,500 rows of 4 floats, as raw bytes.
      int rows = 12_500;
      ModelInferRequest big = ModelInferRequest.newBuilder()
          .setModelName("encoder")
          .addInputs(input("x", "FP32", rows, 4))
          .addRawInputContents(ByteString.copyFrom(new byte[rows * 4 * 4]))
          .build();
      assertThat(big.getSerializedSize()).isGreaterThan(190_000);
      assertStatus(() -> smallStub.modelInfer(big), Status.Code.RESOURCE_EXHAUSTED);
      // The server is still fine afterwards.
      assertThat(smallStub.modelInfer(encoderRequest(ROW_B).build()).getOutputsCount()).isEqualTo(1);
    }
  }
}
