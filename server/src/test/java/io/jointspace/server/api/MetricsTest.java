package io.jointspace.server.api;

import static io.jointspace.server.api.EmbeddingServiceTest.assertStatus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.grpc.Status;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.registry.ModelState;
import io.jointspace.registry.ServableId;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Prometheus endpoint after a known workload: exact request, item and state values. */
class MetricsTest {
  private static final String EMBED = EmbeddingServiceGrpc.getEmbedMethod().getFullMethodName();

  @TempDir static Path repo;
  static ServerFixture fixture;
  static int metricsPort;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    TestModels.writeClip(repo.resolve("clip/1"), 10f);
    metricsPort = ServerFixture.freePort();
    fixture = ServerFixture.start(ServerConfig.newBuilder().setMetricsPort(metricsPort), repo);
    EmbeddingServiceGrpc.EmbeddingServiceBlockingStub stub =
        EmbeddingServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    for (int i = 0; i < 3; i++) {
      stub.embed(EmbedRequest.newBuilder().setModel(ModelSpec.newBuilder().setName("clip"))
          .addInputs(Input.newBuilder().setText("red"))
          .addInputs(Input.newBuilder().setText("a photo of a green"))
          .build());
    }
    assertStatus(() -> stub.embed(EmbedRequest.newBuilder().setModel(ModelSpec.newBuilder().setName("nope"))
        .addInputs(Input.newBuilder().setText("red")).build()), Status.Code.NOT_FOUND);
    assertStatus(() -> stub.embed(EmbedRequest.newBuilder().setModel(ModelSpec.newBuilder().setName("clip"))
        .addInputs(Input.newBuilder().setImage(com.google.protobuf.ByteString.copyFromUtf8("not an image"))).build()),
        Status.Code.INVALID_ARGUMENT);
  }

  @AfterAll
  static void stop() throws Exception {
    fixture.close();
  }

  static HttpResponse<String> get(String path) throws Exception {
    return get(metricsPort, path);
  }

  static HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The value of the one sample named {@code name} whose labels include every {@code label="value"} given. */
  static double value(String text, String name, String... labels) {
    List<String> lines = text.lines()
        .filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
        .filter(l -> {
          for (String label : labels) {
            if (!l.contains(label)) {
              return false;
            }
          }
          return true;
        })
        .toList();
    assertThat(lines).as("samples of %s with %s in:%n%s", name, List.of(labels), text).hasSize(1);
    Matcher m = Pattern.compile("\\s(\\S+)$").matcher(lines.get(0));
    assertThat(m.find()).isTrue();
    return Double.parseDouble(m.group(1));
  }

  @Test
  void metrics_countRequestsItemsAndStates() throws Exception {
    HttpResponse<String> response = get("/metrics");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    String text = response.body();

    assertThat(value(text, "jointspace_grpc_requests_total", "method=\"" + EMBED + "\"", "code=\"OK\"")).isEqualTo(3);
    assertThat(value(text, "jointspace_grpc_requests_total", "method=\"" + EMBED + "\"", "code=\"NOT_FOUND\"")).isEqualTo(1);
    assertThat(value(text, "jointspace_grpc_request_seconds_count", "method=\"" + EMBED + "\"", "code=\"OK\"")).isEqualTo(3);

    // by the model version that served the call; the unknown model is counted only by method
    String clip = "model=\"clip\"";
    assertThat(value(text, "jointspace_model_requests_total", clip, "version=\"1\"", "method=\"" + EMBED + "\"",
        "code=\"OK\"")).isEqualTo(3);
    assertThat(value(text, "jointspace_model_requests_total", clip, "version=\"1\"", "code=\"INVALID_ARGUMENT\""))
        .isEqualTo(1);
    assertThat(text).doesNotContain("model=\"nope\"");

    String textQueue = "queue=\"clip@1/encode_text\"";
    assertThat(value(text, "jointspace_batch_items_total", textQueue, "model=\"clip\"", "version=\"1\"")).isEqualTo(6);
    assertThat(value(text, "jointspace_batch_size_sum", textQueue)).isEqualTo(6);
    assertThat(value(text, "jointspace_batch_queue_seconds_count", textQueue))
        .isEqualTo(value(text, "jointspace_batch_size_count", textQueue));
    assertThat(value(text, "jointspace_batch_compute_seconds_count", textQueue)).isBetween(1.0, 3.0);
    // texts of 1 and 5 tokens padded to the context length 8, in 1 to 3 batches
    assertThat(value(text, "jointspace_batch_padding_ratio_sum", textQueue))
        .isCloseTo(value(text, "jointspace_batch_padding_ratio_count", textQueue) * 10 / 16.0, within(1e-9));
    assertThat(value(text, "jointspace_batch_queue_depth", textQueue)).isEqualTo(0);

    assertThat(value(text, "jointspace_model_version_state", "model=\"clip\"", "version=\"1\"", "state=\"AVAILABLE\""))
        .isEqualTo(1);
    assertThat(value(text, "jointspace_models_available")).isEqualTo(1);
    assertThat(text).contains("jvm_memory_used_bytes{").contains("process_uptime_seconds");
  }

  @Test
  void perVersionRequestSeries_endOneScrapeAfterTheirVersion(@TempDir Path liveRepo) throws Exception {
    TestModels.writeClip(liveRepo.resolve("clip/1"), 10f);
    int port = ServerFixture.freePort();
    try (ServerFixture f = ServerFixture.start(ServerConfig.newBuilder().setMetricsPort(port), liveRepo)) {
      EmbeddingServiceGrpc.EmbeddingServiceBlockingStub stub =
          EmbeddingServiceGrpc.newBlockingStub(f.channel).withDeadlineAfter(60, TimeUnit.SECONDS);
      EmbedRequest red = EmbedRequest.newBuilder().setModel(ModelSpec.newBuilder().setName("clip"))
          .addInputs(Input.newBuilder().setText("red")).build();
      stub.embed(red);
      String v1 = "version=\"1\"";
      assertThat(value(get(port, "/metrics").body(), "jointspace_model_requests_total", v1, "code=\"OK\"")).isEqualTo(1);

      TestModels.writeClip(liveRepo.resolve("clip/2"), 10f); // latest 1: version 2 replaces version 1
      f.server.rescan();
      f.server.registry().awaitState(new ServableId("clip", 2), Duration.ofSeconds(60), ModelState.AVAILABLE);
      f.server.registry().awaitState(new ServableId("clip", 1), Duration.ofSeconds(60), ModelState.END);
      stub.embed(red);

      String first = get(port, "/metrics").body(); // the ended version's final values, once more
      assertThat(value(first, "jointspace_model_requests_total", v1, "code=\"OK\"")).isEqualTo(1);
      assertThat(value(first, "jointspace_model_version_state", v1, "state=\"END\"")).isEqualTo(1);
      String second = get(port, "/metrics").body();
      assertThat(second.lines().filter(l -> l.startsWith("jointspace_model_requests_total") && l.contains(v1)))
          .isEmpty();
      assertThat(value(second, "jointspace_model_requests_total", "version=\"2\"", "code=\"OK\"")).isEqualTo(1);
      assertThat(value(get(port, "/metrics").body(), "jointspace_model_requests_total", "version=\"2\"",
          "code=\"OK\"")).isEqualTo(1);

      // version 1 back (version 2's folder gone): its calls count in a new series, from 1
      com.google.common.io.MoreFiles.deleteRecursively(liveRepo.resolve("clip/2"));
      f.server.rescan();
      f.server.registry().awaitState(new ServableId("clip", 1), Duration.ofSeconds(60), ModelState.AVAILABLE);
      f.server.registry().awaitState(new ServableId("clip", 2), Duration.ofSeconds(60), ModelState.END);
      stub.embed(red);
      stub.embed(red);
      assertThat(value(get(port, "/metrics").body(), "jointspace_model_requests_total", v1, "code=\"OK\""))
          .isEqualTo(2);
    }
  }

  @Test
  void otherPaths_are404() throws Exception {
    assertThat(get("/").statusCode()).isEqualTo(404);
    assertThat(get("/metricsx").statusCode()).isEqualTo(404);
  }
}
