package io.jointspace.server.http;

import static io.jointspace.server.http.KServeRestTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.jointspace.api.v1.ClassifyRequest;
import io.jointspace.api.v1.ClassifyResponse;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.SearchResponse;
import io.jointspace.config.v1.AuthMode;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.auth.ApiKeys;
import io.jointspace.server.store.Database;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.KeyStore;
import io.jointspace.server.store.TestDatabase;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP port with API keys required and a database: keys and scopes as on the gRPC port,
 * /metrics behind models:read, and the jointspace.v1 services as JSON on the shipped demo
 * model answering what gRPC answers.
 */
class HttpKeysAndCollectionsTest {
  static final Path DEMO = io.jointspace.server.TestModels.demoModel();
  static DatabaseUrl db;
  static Database direct;
  static ServerFixture fixture;
  static HttpClientForTests http;
  static String admin;
  static String reader;
  static String inferOnly;

  @BeforeAll
  static void start() throws Exception {
    db = TestDatabase.fresh();
    ServerConfig.Builder config = ServerConfig.newBuilder().setAuth(AuthMode.AUTH_ON)
        .setHttpPort(ServerFixture.freePort());
    config.getModelRepositoryBuilder().setOnlyConfiguredModels(true);
    config.addModelsBuilder().setName("shapes-clip").setBasePath(DEMO.toString());
    config.getStorageBuilder().setDatabaseUrl(TestDatabase.configUrl(db));
    fixture = ServerFixture.start(config, DEMO.getParent());
    http = new HttpClientForTests("http://127.0.0.1:" + fixture.server.httpPort());
    direct = new Database(db, 2, Duration.ofSeconds(5));
    ApiKeys keys = new ApiKeys(new KeyStore(direct));
    admin = keys.create("admin", List.of("admin"), "test", null).key();
    reader = keys.create("reader", List.of("models:read"), "test", null).key();
    inferOnly = keys.create("infer", List.of("infer"), "test", null).key();
    // made straight in the database: the server takes them on the notification
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (listModels(inferOnly).statusCode() == 401 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
    if (direct != null) {
      direct.close();
    }
  }

  static HttpResponse<String> listModels(String key) throws Exception {
    return key == null ? http.post("/v1/jointspace/ModelService/ListModels", "{}")
        : http.post("/v1/jointspace/ModelService/ListModels", "{}", "Authorization", "Bearer " + key);
  }

  @Test
  void keysAndScopes_asOnTheGrpcPort() throws Exception {
    assertError(listModels(null), 401, "UNAUTHENTICATED", "");
    assertError(http.post("/v1/jointspace/ModelService/ListModels", "{}", "Authorization", "Bearer js_not_a_key"),
        401, "UNAUTHENTICATED", "");
    assertError(listModels(inferOnly), 403, "PERMISSION_DENIED", "models:read");
    HttpResponse<String> ok = listModels(reader);
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(ok.body()).contains("shapes-clip");

    // probes need no key; model metadata does
    assertThat(http.get("/v2/health/live").statusCode()).isEqualTo(200);
    assertThat(http.get("/v2/health/ready").statusCode()).isEqualTo(200);
    assertError(http.get("/v2/models/shapes-clip"), 401, "UNAUTHENTICATED", "");
    assertThat(http.get("/v2/models/shapes-clip", "Authorization", "Bearer " + reader).statusCode()).isEqualTo(200);
  }

  @Test
  void metrics_needAKeyWithModelsRead_whenKeysAreRequired() throws Exception {
    assertError(http.get("/metrics"), 401, "UNAUTHENTICATED", "");
    assertError(http.get("/metrics", "Authorization", "Bearer " + inferOnly), 403, "PERMISSION_DENIED", "models:read");
    HttpResponse<String> r = http.get("/metrics", "Authorization", "Bearer " + reader);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("jointspace_auth_refusals_total");
  }

  @Test
  void embedAndClassify_asJson_answerWhatGrpcAnswers() throws Exception {
    EmbeddingServiceGrpc.EmbeddingServiceBlockingStub grpc = EmbeddingServiceGrpc.newBlockingStub(fixture.channel)
        .withCallCredentials(bearer(inferOnly)).withDeadlineAfter(60, TimeUnit.SECONDS);
    ByteString image = redCircle();
    EmbedRequest embed = EmbedRequest.newBuilder().setModel(ModelSpec.newBuilder().setName("shapes-clip"))
        .addInputs(Input.newBuilder().setText("a red circle"))
        .addInputs(Input.newBuilder().setImage(image))
        .build();
    HttpResponse<String> r = http.post("/v1/jointspace/EmbeddingService/Embed", """
        {"model": {"name": "shapes-clip"}, "inputs": [{"text": "a red circle"}, {"image": "%s"}]}"""
        .formatted(Base64.getEncoder().encodeToString(image.toByteArray())), "Authorization", "Bearer " + inferOnly);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    EmbedResponse.Builder fromJson = EmbedResponse.newBuilder();
    JsonFormat.parser().merge(r.body(), fromJson);
    assertThat(fromJson.build()).isEqualTo(grpc.embed(embed));
    assertThat(fromJson.getEmbeddingsCount()).isEqualTo(2);

    ClassifyRequest classify = ClassifyRequest.newBuilder().setModel(ModelSpec.newBuilder().setName("shapes-clip"))
        .addInputs(Input.newBuilder().setImage(image))
        .addAllLabels(List.of("red circle", "blue square", "green triangle"))
        .build();
    HttpResponse<String> c = http.post("/v1/jointspace/EmbeddingService/Classify", JsonFormat.printer().print(classify),
        "Authorization", "Bearer " + inferOnly);
    assertThat(c.statusCode()).as(c.body()).isEqualTo(200);
    ClassifyResponse.Builder classified = ClassifyResponse.newBuilder();
    JsonFormat.parser().merge(c.body(), classified);
    assertThat(classified.build()).isEqualTo(grpc.classify(classify));
    assertThat(c.body()).contains("red circle");
  }

  @Test
  void collections_upsertThenSearch_overJson() throws Exception {
    String key = "Bearer " + admin;
    HttpResponse<String> created = http.post("/v1/jointspace/CollectionService/CreateCollection",
        "{\"name\": \"http_shapes\", \"model\": {\"name\": \"shapes-clip\"}}", "Authorization", key);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
    HttpResponse<String> again = http.post("/v1/jointspace/CollectionService/CreateCollection",
        "{\"name\": \"http_shapes\", \"model\": {\"name\": \"shapes-clip\"}}", "Authorization", key);
    assertError(again, 409, "ALREADY_EXISTS", "http_shapes");

    HttpResponse<String> upserted = http.post("/v1/jointspace/CollectionService/Upsert", """
        {"collection": "http_shapes", "items": [
          {"id": "red", "input": {"text": "a red circle"}, "metadata": {"color": "red"}},
          {"id": "blue", "input": {"text": "a blue square"}, "metadata": {"color": "blue"}},
          {"id": "green", "input": {"image": "%s"}}]}""".formatted(
        Base64.getEncoder().encodeToString(redCircle().toByteArray())), "Authorization", key);
    assertThat(upserted.statusCode()).as(upserted.body()).isEqualTo(200);
    assertThat(upserted.body()).contains("\"upsertedCount\": 3");

    HttpResponse<String> found = http.post("/v1/jointspace/CollectionService/Search",
        "{\"collection\": \"http_shapes\", \"input\": {\"text\": \"a blue square\"}, \"top_k\": 2}",
        "Authorization", key);
    assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
    SearchResponse.Builder hits = SearchResponse.newBuilder();
    JsonFormat.parser().merge(found.body(), hits);
    assertThat(hits.getHitsCount()).isEqualTo(2);
    assertThat(hits.getHits(0).getId()).isEqualTo("blue");

    assertError(http.post("/v1/jointspace/CollectionService/Search",
        "{\"collection\": \"no_such\", \"input\": {\"text\": \"x\"}}", "Authorization", key), 404, "NOT_FOUND", "no_such");
  }

  static ByteString redCircle() throws Exception {
    BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, 64, 64);
    g.setColor(Color.RED);
    g.fillOval(12, 12, 40, 40);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return ByteString.copyFrom(out.toByteArray());
  }

  static CallCredentials bearer(String key) {
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        Metadata m = new Metadata();
        m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
        applier.apply(m);
      }
    };
  }

  @Test
  void aLabelMovedOverHttp_isRecordedAsTheHttpClients() throws Exception {
    HttpResponse<String> set = http.post("/v1/jointspace/ModelService/SetLabel",
        "{\"model\": \"shapes-clip\", \"label\": \"from-http\", \"version\": 2}",
        "Authorization", "Bearer " + admin);
    assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
    HttpResponse<String> history = http.post("/v1/jointspace/ModelService/ListLabelHistory",
        "{\"model\": \"shapes-clip\", \"label\": \"from-http\"}", "Authorization", "Bearer " + admin);
    assertThat(history.statusCode()).as(history.body()).isEqualTo(200);
    String changedBy = HttpClientForTests.json(history).getAsJsonArray("changes").get(0).getAsJsonObject()
        .get("changedBy").getAsString();
    // the HTTP client's own address and port, not the in-process channel's
    assertThat(changedBy).matches("key \\S+ from 127\\.0\\.0\\.1:\\d+");
  }
}
