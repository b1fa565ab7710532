package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.http.HttpClientForTests;
import io.jointspace.tensorflow.serving.ModelSpec;
import io.jointspace.tensorflow.serving.PredictRequest;
import io.jointspace.tensorflow.serving.PredictResponse;
import io.jointspace.tensorflow.serving.PredictionServiceGrpc;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TF Serving's REST API on the HTTP port, against TF Serving's own test SavedModels and the
 * values its REST documentation and tests expect (../shared/testdata/savedmodels/README.md),
 * and against the same server's gRPC Predict. Skipped, with the reason, where that folder is
 * absent.
 */
class TfServingRestTest {
  private static final String CPU = TfServingApiTest.CPU;
  private static final String TWO_VERSIONS = TfServingApiTest.TWO_VERSIONS;
  private static final String TF2 = TfServingApiTest.TF2;
  private static final String THREE = TfServingApiTest.THREE;
  private static final String KERAS = "vespa_keras_embedding_ctr";
  private static final String DEFAULT = TfServingApiTest.DEFAULT;

  @TempDir static Path temp;
  static ServerFixture fixture;
  static HttpClientForTests http;
  static String skipReason;

  @BeforeAll
  static void startServer() throws Exception {
    Path fixtures = ExternalCompatibilityTest.locateFixtures();
    if (fixtures == null) {
      skipReason = "the third-party SavedModel fixtures folder ../shared/testdata/savedmodels was not found";
      return;
    }
    Path repo = temp.resolve("repo");
    ServerConfig.Builder config = TfServingApiTest.repository(fixtures, repo, List.of(CPU, TWO_VERSIONS, TF2, THREE, KERAS))
        .setHttpPort(ServerFixture.freePort());
    fixture = ServerFixture.start(config, repo);
    http = new HttpClientForTests("http://127.0.0.1:" + fixture.server.httpPort());
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

  private static JsonElement parse(String json) {
    return JsonParser.parseString(json);
  }

  private static HttpResponse<String> ok(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r;
  }

  @Test
  void status_isTfServingsModelStatusJson() throws Exception {
    // the reply TF Serving's REST documentation shows for half_plus_three
    assertThat(parse(ok(http.get("/v1/models/" + THREE)).body())).isEqualTo(parse("""
        {"model_version_status": [{"version": "123", "state": "AVAILABLE",
          "status": {"error_code": "OK", "error_message": ""}}]}"""));
    JsonObject both = parse(ok(http.get("/v1/models/" + TWO_VERSIONS)).body()).getAsJsonObject();
    assertThat(both.getAsJsonArray("model_version_status")).hasSize(2);
    JsonObject one = parse(ok(http.get("/v1/models/" + TWO_VERSIONS + "/versions/124")).body()).getAsJsonObject();
    assertThat(one.getAsJsonArray("model_version_status").get(0).getAsJsonObject().get("version").getAsString())
        .isEqualTo("124");
    JsonObject labelled = parse(ok(http.get("/v1/models/" + TWO_VERSIONS + "/labels/stable")).body())
        .getAsJsonObject();
    assertThat(labelled.getAsJsonArray("model_version_status").get(0).getAsJsonObject().get("version")
        .getAsString()).isEqualTo("123");
  }

  @Test
  void metadata_isTfServingsExpectedJson() throws Exception {
    Path expected = ExternalCompatibilityTest.locateFixtures().resolve("half_plus_two_model_metadata.json");
    JsonObject want = parse(Files.readString(expected)).getAsJsonObject();
    JsonObject got = parse(ok(http.get("/v1/models/" + DEFAULT + "/metadata")).body()).getAsJsonObject();
    assertThat(got.get("model_spec")).isEqualTo(want.get("model_spec"));
    JsonObject wantSigs = want.getAsJsonObject("metadata").getAsJsonObject("signature_def")
        .getAsJsonObject("signature_def");
    JsonObject gotSigs = got.getAsJsonObject("metadata").getAsJsonObject("signature_def")
        .getAsJsonObject("signature_def");
    assertThat(gotSigs.keySet()).isEqualTo(wantSigs.keySet());
    assertThat(got).as("the whole answer, as TF Serving's testGetModelMetadataREST compares it").isEqualTo(want);
    for (String sig : wantSigs.keySet()) {
      for (String part : List.of("inputs", "outputs", "method_name")) {
        assertThat(gotSigs.getAsJsonObject(sig).get(part)).as(sig + "." + part)
            .isEqualTo(wantSigs.getAsJsonObject(sig).get(part));
      }
    }
  }

  @Test
  void predict_rowAndColumnar_giveTfServingsValues() throws Exception {
    // TF Serving's REST documentation: half_plus_three, {"instances": [1.0, 2.0, 5.0]}
    assertThat(parse(ok(http.post("/v1/models/" + THREE + ":predict", "{\"instances\": [1.0, 2.0, 5.0]}")).body()))
        .isEqualTo(parse("{\"predictions\": [3.5, 4.0, 5.5]}"));
    assertThat(parse(ok(http.post("/v1/models/" + THREE + ":predict", "{\"inputs\": [1.0, 2.0, 5.0]}")).body()))
        .isEqualTo(parse("{\"outputs\": [3.5, 4.0, 5.5]}"));
    // as `curl -d` sends it, with a form's content type, which TF Serving takes
    HttpResponse<byte[]> curl = http.postBytes("/v1/models/" + THREE + ":predict",
        "{\"instances\": [1.0]}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
        java.util.Map.of("Content-Type", "application/x-www-form-urlencoded"));
    assertThat(curl.statusCode()).isEqualTo(200);
    assertThat(parse(new String(curl.body(), java.nio.charset.StandardCharsets.UTF_8)))
        .isEqualTo(parse("{\"predictions\": [3.5]}"));
    // tensorflow_model_server_test.py's REST predict on half_plus_two, whose x records [-1, 1]
    assertThat(parse(ok(http.post("/v1/models/" + DEFAULT + ":predict",
        "{\"instances\": [2.0, 3.0, 4.0]}")).body()))
        .isEqualTo(parse("{\"predictions\": [3.0, 3.5, 4.0]}"));
    assertThat(parse(ok(http.post("/v1/models/" + DEFAULT + ":predict",
        "{\"instances\": [[2.0], [3.0], [4.0]]}")).body()))
        .isEqualTo(parse("{\"predictions\": [[3.0], [3.5], [4.0]]}"));
    // a named signature and version, and the label
    assertThat(parse(ok(http.post("/v1/models/" + TWO_VERSIONS + "/versions/124:predict",
        "{\"signature_name\": \"regress_x2_to_y3\", \"inputs\": {\"inputs\": [[2.0]]}}")).body()))
        .isEqualTo(parse("{\"outputs\": [[4.0]]}"));
    assertThat(parse(ok(http.post("/v1/models/" + TWO_VERSIONS + "/labels/canary:predict",
        "{\"instances\": [{\"x\": [2.0]}]}")).body()))
        .isEqualTo(parse("{\"predictions\": [[3.0]]}"));
  }

  @Test
  void predict_ofSeveralInputs_withAnIntegerOne_agreesWithGrpcPredict() throws Exception {
    JsonObject rest = parse(ok(http.post("/v1/models/" + KERAS + ":predict", """
        {"instances": [
          {"input1": [0.1, 0.2, 0.3], "input2": [0.4, 0.5, 0.6], "input3": [0]},
          {"input1": [0.1, 0.2, 0.3], "input2": [0.4, 0.5, 0.6], "input3": [1]},
          {"input1": [0.1, 0.2, 0.3], "input2": [0.4, 0.5, 0.6], "input3": [2]}]}""")).body()).getAsJsonObject();
    float[] got = new float[3];
    for (int i = 0; i < 3; i++) {
      got[i] = rest.getAsJsonArray("predictions").get(i).getAsJsonArray().get(0).getAsFloat();
    }
    // the README's observed values for this model
    assertThat(got).containsExactly(new float[] {0.3913262f, 0.39366546f, 0.39367813f},
        org.assertj.core.data.Offset.offset(1e-5f));
    PredictResponse grpc = PredictionServiceGrpc.newBlockingStub(fixture.channel).predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName(KERAS))
        .putInputs("input1", TfServingApiTest.floats(new long[] {1, 3}, 0.1f, 0.2f, 0.3f))
        .putInputs("input2", TfServingApiTest.floats(new long[] {1, 3}, 0.4f, 0.5f, 0.6f))
        .putInputs("input3", io.jointspace.tensorflow.framework.TensorProto.newBuilder()
            .setDtype(io.jointspace.tensorflow.framework.DataType.DT_INT32)
            .setTensorShape(TfServingApiTest.shape(1, 1)).addIntVal(1).build())
        .build());
    assertThat(grpc.getOutputsOrThrow("pctrx").getFloatVal(0)).isEqualTo(got[1]);
  }

  @Test
  void classifyAndRegress_onExamples() throws Exception {
    // TF Serving's tests: Example x=2.0 gives 3.0 on classify_x_to_y and regress_x_to_y
    assertThat(parse(ok(http.post("/v1/models/" + DEFAULT + ":classify",
        "{\"signature_name\": \"classify_x_to_y\", \"examples\": [{\"x\": 2.0}]}")).body()))
        .isEqualTo(parse("{\"result\": [[[\"\", 3.0]]]}"));
    assertThat(parse(ok(http.post("/v1/models/" + DEFAULT + ":regress",
        "{\"signature_name\": \"regress_x_to_y\", \"examples\": [{\"x\": 0.0}, {\"x\": 1.0}, {\"x\": 2.0}]}"))
        .body())).isEqualTo(parse("{\"result\": [2.0, 2.5, 3.0]}"));
    // a TF2 export, whose signatures are all marked predict, with a shared context
    assertThat(parse(ok(http.post("/v1/models/" + TF2 + ":regress",
        "{\"signature_name\": \"regress_x_to_y\", \"context\": {\"x\": 2.0}, \"examples\": [{}]}")).body()))
        .isEqualTo(parse("{\"result\": [3.0]}"));
  }

  @Test
  void badRequests_getTfServingsErrorBody_withTheHttpStatus() throws Exception {
    HttpResponse<String> unknown = http.post("/v1/models/half:predict", "{\"instances\": [1.0, 5.0]}");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(parse(unknown.body()).getAsJsonObject().get("error").getAsString()).contains("half");

    HttpResponse<String> badJson = http.post("/v1/models/" + THREE + ":predict", "{\"instances\": [1.0,");
    assertThat(badJson.statusCode()).isEqualTo(400);
    assertThat(parse(badJson.body()).getAsJsonObject().get("error").getAsString()).contains("not valid JSON");

    // a shape the graph refuses (input1 is [-1, 3])
    HttpResponse<String> shape = http.post("/v1/models/" + KERAS + ":predict",
        "{\"instances\": [{\"input1\": [0.1], \"input2\": [0.4, 0.5, 0.6], \"input3\": [0]}]}");
    assertThat(shape.statusCode()).as(shape.body()).isEqualTo(400);
    assertThat(parse(shape.body()).getAsJsonObject().get("error").getAsString()).contains("rejected");

    HttpResponse<String> text = http.post("/v1/models/" + DEFAULT + ":predict", "{\"instances\": [[\"a\"]]}");
    assertThat(text.statusCode()).isEqualTo(400);
    assertThat(parse(text.body()).getAsJsonObject().get("error").getAsString()).contains("DT_FLOAT");

    HttpResponse<String> signature = http.post("/v1/models/" + DEFAULT + ":predict",
        "{\"signature_name\": \"nope\", \"instances\": [[1.0]]}");
    assertThat(signature.statusCode()).isEqualTo(400);
    assertThat(parse(signature.body()).getAsJsonObject().get("error").getAsString()).contains("nope");

    HttpResponse<String> version = http.get("/v1/models/" + TWO_VERSIONS + "/versions/999");
    assertThat(version.statusCode()).isEqualTo(404);

    HttpResponse<String> verb = http.post("/v1/models/" + DEFAULT + ":explain", "{}");
    assertThat(verb.statusCode()).isEqualTo(404);
    assertThat(parse(verb.body()).getAsJsonObject().get("error").getAsString()).contains(":predict");

    HttpResponse<String> examples = http.post("/v1/models/" + DEFAULT + ":regress",
        "{\"signature_name\": \"regress_x_to_y\", \"instances\": [1.0]}");
    assertThat(examples.statusCode()).isEqualTo(400);
    assertThat(parse(examples.body()).getAsJsonObject().get("error").getAsString()).contains("examples");
  }
}
