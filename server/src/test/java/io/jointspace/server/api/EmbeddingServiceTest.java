package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.DataType;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.EmbedStreamRequest;
import io.jointspace.api.v1.EmbedStreamResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.Tensor;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.Recorder;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddingServiceTest {
  @TempDir static Path repo;
  static ServerFixture fixture;
  static EmbeddingServiceGrpc.EmbeddingServiceBlockingStub stub;

  @BeforeAll
  static void start() throws Exception {
    TestModels.writeEncoder(repo.resolve("encoder/1"), 1f);
    TestModels.writeEncoder(repo.resolve("encoder/2"), 2f);
    TestModels.writeBroken(repo.resolve("broken/1"));
    ServerConfig.Builder config = ServerConfig.newBuilder().setMaxInboundMessageBytes(64 << 10);
    config.addModelsBuilder().setName("encoder")
        .setVersionPolicy(io.jointspace.config.v1.VersionPolicy.newBuilder()
            .setAll(io.jointspace.config.v1.VersionPolicy.All.getDefaultInstance()))
        .putVersionLabels("stable", 1)
        .putVersionLabels("ghost", 9);
    fixture = ServerFixture.start(config, repo);
    stub = EmbeddingServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    fixture.close();
  }

  static Input row(float... v) {
    Tensor.Builder t = Tensor.newBuilder().setDtype(DataType.FP32).addShape(v.length);
    for (float f : v) {
      t.addFloatVal(f);
    }
    return Input.newBuilder().setTensor(t).build();
  }

  static EmbedRequest request(ModelSpec model, Input... inputs) {
    return EmbedRequest.newBuilder().setModel(model).addAllInputs(List.of(inputs)).build();
  }

  static ModelSpec encoder() {
    return ModelSpec.newBuilder().setName("encoder").build();
  }

  static void assertEmbedding(float[] actual, float[] expected) {
    assertThat(actual).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual[i]).isCloseTo(expected[i], within(1e-5f));
    }
  }

  static float[] values(EmbedResponse r, int i) {
    List<Float> v = r.getEmbeddings(i).getValuesList();
    float[] out = new float[v.size()];
    for (int j = 0; j < out.length; j++) {
      out[j] = v.get(j);
    }
    return out;
  }

  @Test
  void embed_batchOfTensors_returnsOneEmbeddingPerInputInOrder() {
    EmbedResponse r = stub.embed(request(encoder(), row(1, 2, 3, 4), row(-1, 0, 0.5f, 2), row(0, 0, 0, 0)));
    assertThat(r.getModel().getName()).isEqualTo("encoder");
    assertThat(r.getModel().getVersion()).isEqualTo(2);
    assertThat(r.getModel().getSignatureName()).isEqualTo("serving_default");
    assertThat(r.getDimension()).isEqualTo(3);
    assertThat(r.getEmbeddingsCount()).isEqualTo(3);
    assertEmbedding(values(r, 0), TestModels.expectedEmbedding(new float[] {1, 2, 3, 4}, 2f));
    assertEmbedding(values(r, 1), TestModels.expectedEmbedding(new float[] {-1, 0, 0.5f, 2}, 2f));
    assertEmbedding(values(r, 2), new float[] {0, 0, 0});
  }

  @Test
  void embed_versionAndLabel_pickTheVersion() {
    EmbedResponse v1 = stub.embed(request(encoder().toBuilder().setVersion(1).build(), row(1, 2, 3, 4)));
    assertThat(v1.getModel().getVersion()).isEqualTo(1);
    assertEmbedding(values(v1, 0), TestModels.expectedEmbedding(new float[] {1, 2, 3, 4}, 1f));
    EmbedResponse stable = stub.embed(request(encoder().toBuilder().setLabel("stable").build(), row(1, 2, 3, 4)));
    assertThat(stable.getModel().getVersion()).isEqualTo(1);
  }

  @Test
  void embed_rawContent_equalsTypedValues() {
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    b.putFloat(1).putFloat(2).putFloat(3).putFloat(4);
    Input raw = Input.newBuilder().setTensor(Tensor.newBuilder().setDtype(DataType.FP32).addShape(4)
        .setRawContent(ByteString.copyFrom(b.array()))).build();
    EmbedResponse r = stub.embed(request(encoder(), raw, row(1, 2, 3, 4)));
    assertThat(r.getEmbeddings(0)).isEqualTo(r.getEmbeddings(1));
  }

  @Test
  void embed_otherSignatures_castIntegerOutputsAndRunUnbatchedOnesPerInput() {
    Input ints = Input.newBuilder().setTensor(Tensor.newBuilder().setDtype(DataType.INT64).addShape(2)
        .addInt64Val(2).addInt64Val(-5)).build();
    EmbedResponse r = stub.embed(request(encoder().toBuilder().setSignatureName("i64").build(), ints));
    assertThat(r.getEmbeddings(0).getValuesList()).containsExactly(6f, -15f);

    Input scalar = Input.newBuilder().setTensor(Tensor.newBuilder().setDtype(DataType.FP32).addFloatVal(3)).build();
    Input scalar2 = Input.newBuilder().setTensor(Tensor.newBuilder().setDtype(DataType.FP32).addFloatVal(-2)).build();
    EmbedResponse sq = stub.embed(request(encoder().toBuilder().setSignatureName("square").build(), scalar, scalar2));
    assertThat(sq.getEmbeddingsList()).extracting(e -> e.getValues(0)).containsExactly(9f, 4f);
  }

  @Test
  void embedStream_answersEachRequestInOrder_andReportsErrorsWithoutEndingTheStream() throws Exception {
    Recorder<EmbedStreamResponse> done = new Recorder<>();
    StreamObserver<EmbedStreamRequest> requests = EmbeddingServiceGrpc.newStub(fixture.channel).embedStream(done);
    requests.onNext(EmbedStreamRequest.newBuilder().setRequestId("a").setRequest(request(encoder(), row(1, 2, 3, 4))).build());
    requests.onNext(EmbedStreamRequest.newBuilder().setRequestId("b")
        .setRequest(request(ModelSpec.newBuilder().setName("nope").build(), row(1, 2, 3, 4))).build());
    requests.onNext(EmbedStreamRequest.newBuilder().setRequestId("c").setRequest(request(encoder(), row(0, 0, 0, 1))).build());
    requests.onCompleted();
    List<EmbedStreamResponse> answers = done.awaitCompleted(30);
    assertThat(answers).extracting(EmbedStreamResponse::getRequestId).containsExactly("a", "b", "c");
    assertThat(answers.get(0).hasResponse()).isTrue();
    assertThat(answers.get(1).hasResponse()).isFalse();
    assertThat(answers.get(1).getError().getCode()).isEqualTo(Status.Code.NOT_FOUND.value());
    assertThat(answers.get(1).getError().getMessage()).contains("nope");
    assertEmbedding(values(answers.get(2).getResponse(), 0), TestModels.expectedEmbedding(new float[] {0, 0, 0, 1}, 2f));
  }

  static void assertStatus(ThrowingCallable call, Status.Code code, String... messageParts) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
          for (String part : messageParts) {
            assertThat(e.getStatus().getDescription()).contains(part);
          }
        });
  }

  @Test
  void badRequests_areRejectedWithTheFieldNamed() {
    assertStatus(() -> stub.embed(EmbedRequest.getDefaultInstance()), Status.Code.INVALID_ARGUMENT, "model");
    assertStatus(() -> stub.embed(request(ModelSpec.newBuilder().build(), row(1, 2, 3, 4))),
        Status.Code.INVALID_ARGUMENT, "model.name");
    assertStatus(() -> stub.embed(request(encoder())), Status.Code.INVALID_ARGUMENT, "inputs is empty");
    assertStatus(() -> stub.embed(request(encoder(), Input.getDefaultInstance())),
        Status.Code.INVALID_ARGUMENT, "inputs[0]");
    assertStatus(() -> stub.embed(request(ModelSpec.newBuilder().setName("nope").build(), row(1, 2, 3, 4))),
        Status.Code.NOT_FOUND, "nope");
    assertStatus(() -> stub.embed(request(encoder().toBuilder().setVersion(7).build(), row(1, 2, 3, 4))),
        Status.Code.NOT_FOUND, "version 7");
    assertStatus(() -> stub.embed(request(encoder().toBuilder().setVersion(-1).build(), row(1, 2, 3, 4))),
        Status.Code.INVALID_ARGUMENT, "model.version");
    assertStatus(() -> stub.embed(request(encoder().toBuilder().setLabel("canary").build(), row(1, 2, 3, 4))),
        Status.Code.NOT_FOUND, "canary");
    assertStatus(() -> stub.embed(request(encoder().toBuilder().setLabel("ghost").build(), row(1, 2, 3, 4))),
        Status.Code.NOT_FOUND, "version 9");
    assertStatus(() -> stub.embed(request(ModelSpec.newBuilder().setName("broken").build(), row(1, 2, 3, 4))),
        Status.Code.UNAVAILABLE, "broken");
    assertStatus(() -> stub.embed(request(encoder().toBuilder().setSignatureName("nope").build(), row(1, 2, 3, 4))),
        Status.Code.INVALID_ARGUMENT, "model.signature_name", "nope");
    // wrong shape, on the second input
    assertStatus(() -> stub.embed(request(encoder(), row(1, 2, 3, 4), row(1, 2, 3))),
        Status.Code.INVALID_ARGUMENT, "inputs[1].tensor", "[3]", "[4]");
    // wrong dtype
    Input ints = Input.newBuilder().setTensor(Tensor.newBuilder().setDtype(DataType.INT32).addShape(4)
        .addIntVal(1).addIntVal(2).addIntVal(3).addIntVal(4)).build();
    assertStatus(() -> stub.embed(request(encoder(), ints)), Status.Code.INVALID_ARGUMENT, "inputs[0].tensor", "INT32", "FP32");
    // values do not match the shape
    Input short1 = Input.newBuilder().setTensor(Tensor.newBuilder().setDtype(DataType.FP32).addShape(4).addFloatVal(1)).build();
    assertStatus(() -> stub.embed(request(encoder(), short1)), Status.Code.INVALID_ARGUMENT, "inputs[0].tensor.float_val");
    // raw content of the wrong length
    Input raw = Input.newBuilder().setTensor(Tensor.newBuilder().setDtype(DataType.FP32).addShape(4)
        .setRawContent(ByteString.copyFrom(new byte[15]))).build();
    assertStatus(() -> stub.embed(request(encoder(), raw)), Status.Code.INVALID_ARGUMENT, "inputs[0].tensor.raw_content", "15 bytes");
    // dtype missing, negative dimension
    Input noType = Input.newBuilder().setTensor(Tensor.newBuilder().addShape(1).addFloatVal(1)).build();
    assertStatus(() -> stub.embed(request(encoder(), noType)), Status.Code.INVALID_ARGUMENT, "inputs[0].tensor.dtype");
    Input negative = Input.newBuilder().setTensor(Tensor.newBuilder().setDtype(DataType.FP32).addShape(-4)).build();
    assertStatus(() -> stub.embed(request(encoder(), negative)), Status.Code.INVALID_ARGUMENT, "inputs[0].tensor.shape");
    // a signature with two inputs needs the input named
    assertStatus(() -> stub.embed(request(encoder().toBuilder().setSignatureName("add").build(), row(1, 2))),
        Status.Code.INVALID_ARGUMENT, "tensor.name");
    // an input name the signature does not have; a non-numeric output
    Input named = Input.newBuilder().setTensor(row(1, 2, 3, 4).getTensor().toBuilder().setName("zz")).build();
    assertStatus(() -> stub.embed(request(encoder(), named)), Status.Code.INVALID_ARGUMENT, "'zz'");
    Input bools = Input.newBuilder().setTensor(Tensor.newBuilder().setDtype(DataType.BOOL).addBoolVal(true)).build();
    assertStatus(() -> stub.embed(request(encoder().toBuilder().setSignatureName("bool").build(), bools)),
        Status.Code.INVALID_ARGUMENT, "not a numeric embedding");
    assertStatus(() -> stub.embed(request(encoder(), row(1, 2, 3, 4)).toBuilder().setOutputName("nope").build()),
        Status.Code.INVALID_ARGUMENT, "output_name");
  }

  @Test
  void textAndImageInputs_needAVersionWithAnEncoderSpec() {
    assertStatus(() -> stub.embed(request(encoder(), Input.newBuilder().setText("a red circle").build())),
        Status.Code.INVALID_ARGUMENT, "no encoder spec");
    assertStatus(() -> stub.embed(request(encoder(), row(1, 2, 3, 4), Input.newBuilder().setImage(ByteString.copyFromUtf8("x")).build())),
        Status.Code.INVALID_ARGUMENT, "inputs[1].image", "mixed");
  }

  @Test
  void oversizedMessage_isResourceExhausted() {
    float[] big = new float[40_000]; // 160 kB of floats, over the 64 KiB limit of this server
    Input in = Input.newBuilder().setTensor(Tensor.newBuilder().setDtype(DataType.FP32).addShape(big.length)
        .setRawContent(ByteString.copyFrom(new byte[big.length * 4]))).build();
    assertStatus(() -> stub.embed(request(encoder(), in)), Status.Code.RESOURCE_EXHAUSTED);
  }
}
