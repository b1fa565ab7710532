package io.jointspace.server.http;

import static io.jointspace.server.http.HttpClientForTests.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.protobuf.TextFormat;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.InferTensorContents;
import io.jointspace.api.inference.ModelInferRequest;
import io.jointspace.api.inference.ModelInferResponse;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** KServe v2 REST on the HTTP port, against the same server's gRPC ModelInfer. */
class KServeRestTest {
  static final float SCALE_V1 = 0.5f;
  static final float SCALE_V2 = 2f;
  static final int MAX_BODY = 64 << 10;
  /** TF Serving's half_plus_two from ../shared/testdata, when there (ExternalCompatibilityTest's fixtures). */
  static final Path HALF_PLUS_TWO = Path.of("..", "..", "shared", "testdata", "savedmodels",
      "saved_model_half_plus_two_cpu").toAbsolutePath().normalize();

  @TempDir static Path root;
  static ServerFixture fixture;
  static HttpClientForTests http;

  @BeforeAll
  static void startServer() throws Exception {
    Path repo = root.resolve("repo");
    TestModels.writeEncoder(repo.resolve("encoder/1"), SCALE_V1);
    TestModels.writeEncoder(repo.resolve("encoder/2"), SCALE_V2);
    ServerConfig.Builder config = ServerConfig.newBuilder().setHttpPort(ServerFixture.freePort())
        .setMaxInboundMessageBytes(MAX_BODY);
    TextFormat.merge("models { name: \"encoder\" version_policy { all {} } }", config);
    if (Files.isDirectory(HALF_PLUS_TWO)) {
      config.addModelsBuilder().setName("half_plus_two").setBasePath(HALF_PLUS_TWO.toString());
    }
    fixture = ServerFixture.start(config, repo);
    http = new HttpClientForTests("http://127.0.0.1:" + fixture.server.httpPort());
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
  }

  static final float[][] ROWS = {{1, 2, 3, 4}, {-1, 0.5f, 0, 2}};

  @Test
  void infer_json_answersWhatGrpcModelInferAnswers() throws Exception {
    HttpResponse<String> r = http.post("/v2/models/encoder/infer", """
        {"id": "r1", "inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 4],
          "data": [[1, 2, 3, 4], [-1, 0.5, 0, 2]]}]}""");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    JsonObject body = json(r);
    assertThat(body.get("model_name").getAsString()).isEqualTo("encoder");
    assertThat(body.get("model_version").getAsString()).isEqualTo("2");
    assertThat(body.get("id").getAsString()).isEqualTo("r1");
    JsonObject out = body.getAsJsonArray("outputs").get(0).getAsJsonObject();
    assertThat(out.get("name").getAsString()).isEqualTo("embedding");
    assertThat(out.get("datatype").getAsString()).isEqualTo("FP32");
    assertThat(out.getAsJsonArray("shape")).containsExactly(new com.google.gson.JsonPrimitive(2),
        new com.google.gson.JsonPrimitive(3));

    ModelInferResponse grpc = GRPCInferenceServiceGrpc.newBlockingStub(fixture.channel)
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .modelInfer(ModelInferRequest.newBuilder().setModelName("encoder")
            .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
                .addShape(2).addShape(4).setContents(fp32(ROWS[0], ROWS[1])))
            .build());
    assertThat(floats(out.getAsJsonArray("data")))
        .containsExactly(toArray(grpc.getOutputs(0).getContents().getFp32ContentsList()));
    assertThat(floats(out.getAsJsonArray("data"))).containsExactly(
        concat(TestModels.expectedEmbedding(ROWS[0], SCALE_V2), TestModels.expectedEmbedding(ROWS[1], SCALE_V2)),
        org.assertj.core.data.Offset.offset(1e-5f));
  }

  @Test
  void infer_binaryTensorData_inAndOut() throws Exception {
    byte[] header = """
        {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 4], "parameters": {"binary_data_size": 32}}],
         "outputs": [{"name": "embedding", "parameters": {"binary_data": true}}]}"""
        .getBytes(StandardCharsets.UTF_8);
    ByteBuffer body = ByteBuffer.allocate(header.length + 32).order(ByteOrder.LITTLE_ENDIAN).put(header);
    for (float[] row : ROWS) {
      for (float v : row) {
        body.putFloat(v);
      }
    }

    HttpResponse<byte[]> r = http.postBytes("/v2/models/encoder/versions/1/infer", body.array(), Map.of(
        "Content-Type", "application/octet-stream",
        "Inference-Header-Content-Length", Integer.toString(header.length)));

    assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
    int jsonLength = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
    JsonObject answer = com.google.gson.JsonParser.parseString(
        new String(r.body(), 0, jsonLength, StandardCharsets.UTF_8)).getAsJsonObject();
    assertThat(answer.get("model_version").getAsString()).isEqualTo("1");
    JsonObject out = answer.getAsJsonArray("outputs").get(0).getAsJsonObject();
    assertThat(out.has("data")).isFalse();
    assertThat(out.getAsJsonObject("parameters").get("binary_data_size").getAsInt()).isEqualTo(24);
    assertThat(r.body().length - jsonLength).isEqualTo(24);
    ByteBuffer values = ByteBuffer.wrap(r.body(), jsonLength, 24).order(ByteOrder.LITTLE_ENDIAN);
    float[] got = new float[6];
    for (int i = 0; i < 6; i++) {
      got[i] = values.getFloat();
    }
    assertThat(got).containsExactly(
        concat(TestModels.expectedEmbedding(ROWS[0], SCALE_V1), TestModels.expectedEmbedding(ROWS[1], SCALE_V1)),
        org.assertj.core.data.Offset.offset(1e-5f));
  }

  @Test
  void infer_otherDatatypes_withSignatureName() throws Exception {
    JsonObject i64 = infer("i64", "{\"name\": \"v\", \"datatype\": \"INT64\", \"shape\": [1, 2], \"data\": [[7, -3]]}");
    assertThat(i64.get("data").toString()).isEqualTo("[21,-9]");
    JsonObject bools = infer("bool", "{\"name\": \"b\", \"datatype\": \"BOOL\", \"shape\": [2], \"data\": [true, false]}");
    assertThat(bools.get("data").toString()).isEqualTo("[false,true]");
    JsonObject bytes = infer("bytes", "{\"name\": \"s\", \"datatype\": \"BYTES\", \"shape\": [2], \"data\": [\"héllo\", \"\"]}");
    assertThat(bytes.get("datatype").getAsString()).isEqualTo("BYTES");
    assertThat(bytes.get("data").toString()).isEqualTo("[\"héllo\",\"\"]");
    // a JSON input beside a binary one goes raw with it
    byte[] header = ("{\"parameters\": {\"signature_name\": \"add\", \"binary_data_output\": false}, \"inputs\": ["
        + "{\"name\": \"a\", \"datatype\": \"FP32\", \"shape\": [1, 2], \"data\": [1, 2]},"
        + "{\"name\": \"b\", \"datatype\": \"FP32\", \"shape\": [1, 2], \"parameters\": {\"binary_data_size\": 8}}]}")
        .getBytes(StandardCharsets.UTF_8);
    ByteBuffer body = ByteBuffer.allocate(header.length + 8).order(ByteOrder.LITTLE_ENDIAN).put(header)
        .putFloat(10).putFloat(20);
    HttpResponse<byte[]> r = http.postBytes("/v2/models/encoder/infer", body.array(),
        Map.of("Inference-Header-Content-Length", Integer.toString(header.length)));
    String text = new String(r.body(), StandardCharsets.UTF_8);
    assertThat(r.statusCode()).as(text).isEqualTo(200);
    assertThat(r.headers().firstValue("Inference-Header-Content-Length")).isEmpty();
    assertThat(com.google.gson.JsonParser.parseString(text).getAsJsonObject().getAsJsonArray("outputs").get(0)
        .getAsJsonObject().get("data").toString()).isEqualTo("[11.0,22.0]");
  }

  private static JsonObject infer(String signature, String input) throws Exception {
    HttpResponse<String> r = http.post("/v2/models/encoder/infer", "{\"parameters\": {\"signature_name\": \""
        + signature + "\"}, \"inputs\": [" + input + "]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return json(r).getAsJsonArray("outputs").get(0).getAsJsonObject();
  }

  @Test
  void halfPlusTwo_fromTfServing_answersAsItsTestsExpect() throws Exception {
    assumeThat(HALF_PLUS_TWO).as("../shared/testdata is absent (a user's clone)").isDirectory();
    HttpResponse<String> r = http.post("/v2/models/half_plus_two/infer",
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [3, 1], \"data\": [[1.0], [2.0], [5.0]]}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonObject out = json(r).getAsJsonArray("outputs").get(0).getAsJsonObject();
    assertThat(floats(out.getAsJsonArray("data"))).containsExactly(2.5f, 3.0f, 4.5f);
  }

  @Test
  void healthAndMetadata() throws Exception {
    HttpResponse<String> live = http.get("/v2/health/live");
    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(json(live).get("live").getAsBoolean()).isTrue();
    HttpResponse<String> ready = http.get("/v2/health/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(json(ready).get("ready").getAsBoolean()).isTrue();

    JsonObject server = json(http.get("/v2"));
    assertThat(server.get("name").getAsString()).isEqualTo("jointspace");
    assertThat(server.getAsJsonArray("extensions").toString()).contains("binary_tensor_data");

    HttpResponse<String> metadata = http.get("/v2/models/encoder");
    assertThat(metadata.statusCode()).as(metadata.body()).isEqualTo(200);
    JsonObject m = json(metadata);
    assertThat(m.get("name").getAsString()).isEqualTo("encoder");
    assertThat(m.get("platform").getAsString()).isEqualTo("tensorflow_savedmodel");
    assertThat(m.getAsJsonArray("versions")).containsExactlyInAnyOrder(new com.google.gson.JsonPrimitive("1"),
        new com.google.gson.JsonPrimitive("2"));
    assertThat(m.getAsJsonArray("inputs").get(0).toString())
        .isEqualTo("{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,4]}");
    assertThat(http.get("/v2/models/encoder/versions/1").statusCode()).isEqualTo(200);

    assertThat(http.get("/v2/models/encoder/ready").statusCode()).isEqualTo(200);
    assertThat(http.get("/v2/models/encoder/versions/2/ready").statusCode()).isEqualTo(200);
    HttpResponse<String> absent = http.get("/v2/models/encoder/versions/9/ready");
    assertThat(absent.statusCode()).isEqualTo(503);
    assertThat(json(absent).get("ready").getAsBoolean()).isFalse();
  }

  @Test
  void errors_areJsonWithTheConventionalStatus() throws Exception {
    HttpResponse<String> unknown = http.post("/v2/models/nope/infer",
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [1]}]}");
    assertError(unknown, 404, "NOT_FOUND", "nope");
    assertError(http.get("/v2/models/nope"), 404, "NOT_FOUND", "nope");

    assertError(http.post("/v2/models/encoder/infer", "{\"inputs\": [{\"name\": "), 400, "INVALID_ARGUMENT", "JSON");
    assertError(http.post("/v2/models/encoder/infer", "[1, 2]"), 400, "INVALID_ARGUMENT", "object");
    assertError(http.post("/v2/models/encoder/infer",
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": [\"a\", 1, 2, 3]}]}"),
        400, "INVALID_ARGUMENT", "inputs[0].data[0]");
    assertError(http.post("/v2/models/encoder/infer",
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": [1, 2, 3]}]}"),
        400, "INVALID_ARGUMENT", "needs 4");
    // nested past any parser's patience: still a 400
    assertError(http.post("/v2/models/encoder/infer", "[".repeat(20_000) + "]".repeat(20_000)), 400,
        "INVALID_ARGUMENT", "JSON");

    assertError(http.get("/v3/whatever"), 404, "NOT_FOUND", "/v3/whatever");
    HttpResponse<String> wrongMethod = http.get("/v2/models/encoder/infer");
    assertError(wrongMethod, 405, "UNIMPLEMENTED", "POST");
    assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("POST");
    assertError(http.send(http.request("/v2/models/encoder/infer").header("Content-Type", "text/plain")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build()), 415, "INVALID_ARGUMENT", "text/plain");

    String big = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": ["
        + "1.0, ".repeat(MAX_BODY / 5) + "1]}]}";
    assertError(http.post("/v2/models/encoder/infer", big), 413, "RESOURCE_EXHAUSTED", String.valueOf(MAX_BODY));
  }

  @Test
  void aBodyNoHandlerRead_isDropped_andTheConnectionServesTheNextRequest() throws Exception {
    // A POST to an unknown path whose body arrives after the answer could have gone out: the
    // connection ended with it unread, and the client's next request on it got no answer
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", fixture.server.httpPort())) {
      s.setSoTimeout(10_000);
      java.io.OutputStream out = s.getOutputStream();
      out.write(("POST /v2/nowhere HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          + "Content-Length: 2\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Thread.sleep(300); // the server has the headers and routes them before the body comes
      out.write("{}".getBytes(StandardCharsets.US_ASCII));
      out.write("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // the answers follow each other on the stream (a body ends without a line break)
      java.io.InputStream in = s.getInputStream();
      java.util.regex.Pattern status = java.util.regex.Pattern.compile("HTTP/1\\.1 (\\d{3}) ");
      StringBuilder text = new StringBuilder();
      List<String> codes = new java.util.ArrayList<>();
      byte[] buffer = new byte[4096];
      for (int n; codes.size() < 2 && (n = in.read(buffer)) > 0; ) {
        text.append(new String(buffer, 0, n, StandardCharsets.US_ASCII));
        codes.clear();
        status.matcher(text).results().forEach(m -> codes.add(m.group(1)));
      }
      assertThat(codes).as(text.toString()).containsExactly("404", "200");
    }
  }

  static void assertError(HttpResponse<String> r, int status, String code, String mentions) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    JsonObject body = json(r);
    assertThat(body.get("code").getAsString()).isEqualTo(code);
    assertThat(body.get("error").getAsString()).contains(mentions).doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  void metrics_onTheHttpPort_countTheHttpCallsAsGrpcCalls() throws Exception {
    assertThat(http.post("/v2/models/encoder/infer", "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\","
        + " \"shape\": [1, 4], \"data\": [1, 2, 3, 4]}]}").statusCode()).isEqualTo(200);
    HttpResponse<String> r = http.get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    assertThat(r.body()).containsPattern(
        "jointspace_grpc_requests_total\\{[^}]*method=\"inference.GRPCInferenceService/ModelInfer\"");
    assertThat(http.send(http.request("/metrics").POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build())
        .statusCode()).isEqualTo(405);
  }

  @Test
  void jointspaceJson_callsAnyUnaryMethod_andRefusesStreamsAndStrangers() throws Exception {
    HttpResponse<String> list = http.post("/v1/jointspace/ModelService/ListModels", "");
    assertThat(list.statusCode()).as(list.body()).isEqualTo(200);
    assertThat(list.body()).contains("\"encoder\"");
    HttpResponse<String> status = http.post("/v1/jointspace/ModelService/GetModelStatus", "{\"name\": \"encoder\"}");
    assertThat(status.statusCode()).as(status.body()).isEqualTo(200);
    assertThat(status.body()).contains("AVAILABLE");

    assertError(http.post("/v1/jointspace/EmbeddingService/EmbedStream", "{}"), 501, "UNIMPLEMENTED", "gRPC");
    assertError(http.post("/v1/jointspace/ModelService/Nope", "{}"), 404, "NOT_FOUND", "ListModels");
    assertError(http.post("/v1/jointspace/ModelService/GetModelStatus", "{\"nmae\": \"encoder\"}"), 400,
        "INVALID_ARGUMENT", "nmae");
    assertError(http.post("/v1/jointspace/ModelService/GetModelStatus", "{\"name\": \"missing\"}"), 404,
        "NOT_FOUND", "missing");
    assertError(http.get("/v1/jointspace/ModelService/ListModels"), 405, "UNIMPLEMENTED", "POST");
  }

  @Test
  void deadline_fromTheGrpcTimeoutHeader() throws Exception {
    assertError(http.post("/v2/models/encoder/infer", "{}", "grpc-timeout", "soon"), 400, "INVALID_ARGUMENT",
        "grpc-timeout");
    HttpResponse<String> r = http.post("/v1/jointspace/ModelService/ListModels", "{}", "grpc-timeout", "1n");
    assertError(r, 504, "DEADLINE_EXCEEDED", "");
  }

  // ------------------------------------------------------------------ helpers

  static InferTensorContents fp32(float[]... rows) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (float[] row : rows) {
      for (float v : row) {
        c.addFp32Contents(v);
      }
    }
    return c.build();
  }

  static float[] floats(JsonArray data) {
    float[] out = new float[data.size()];
    int i = 0;
    for (JsonElement e : data) {
      out[i++] = e.getAsFloat();
    }
    return out;
  }

  static float[] toArray(List<Float> values) {
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }

  static float[] concat(float[] a, float[] b) {
    float[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

}
