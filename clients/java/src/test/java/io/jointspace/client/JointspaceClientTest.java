package io.jointspace.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.Status;
import io.jointspace.api.v1.ClassifyResponse;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.GetModelMetadataResponse;
import io.jointspace.api.v1.Hit;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.SearchResponse;
import io.jointspace.client.cli.Cli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Java client and the command line against the real server, its shipped models and a private database. */
class JointspaceClientTest {
  static final List<String> COLORS = List.of("red", "green", "blue", "yellow", "purple");
  static final List<String> SHAPES = List.of("circle", "square", "star", "triangle");

  static LiveServer server;
  static JointspaceClient client;

  @BeforeAll
  static void start() throws Exception {
    server = LiveServer.start("client");
    client = JointspaceClient.builder(server.address).deadline(Duration.ofSeconds(120)).build();
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
  }

  static List<Item> items(int n) {
    List<Item> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String color = COLORS.get(i % COLORS.size());
      String shape = SHAPES.get(i % SHAPES.size());
      out.add(Item.newBuilder().setId("item-" + i).setInput(JointspaceClient.text("a " + color + " " + shape))
          .setMetadata(Struct.newBuilder()
              .putFields("color", Value.newBuilder().setStringValue(color).build())
              .putFields("shape", Value.newBuilder().setStringValue(shape).build())
              .putFields("n", Value.newBuilder().setNumberValue(i).build()))
          .build());
    }
    return out;
  }

  @Test
  void embed_textAndImage_inOneSpace_blockingAndAsync() throws Exception {
    List<float[]> v = client.embed(JointspaceClient.model("shapes-clip"), List.of(JointspaceClient.text("a red star"),
        JointspaceClient.image(LiveServer.ROOT.resolve("docs/samples/red-star.png"))));
    assertThat(v).hasSize(2);
    assertThat(v.get(0)).hasSize(64);
    List<float[]> async = client.embedAsync(JointspaceClient.model("shapes-clip", 1),
        List.of(JointspaceClient.text("a red star"))).get(60, TimeUnit.SECONDS);
    assertThat(async.get(0)).hasSize(32);
  }

  @Test
  void requestsBuiltOnce_areSentAsTheyAre_andModelMetadataNamesTheVersion() throws Exception {
    EmbedRequest request = EmbedRequest.newBuilder().setModel(JointspaceClient.model("shapes-clip", 2))
        .addInputs(JointspaceClient.text("a red star")).build();
    EmbedResponse blocking = client.embedResponse(request);
    EmbedResponse async = client.embedResponseAsync(request).get(60, TimeUnit.SECONDS);
    assertThat(async.getModel().getVersion()).isEqualTo(2);
    assertThat(async.getDimension()).isEqualTo(64);
    assertThat(async.getEmbeddings(0).getValuesList()).isEqualTo(blocking.getEmbeddings(0).getValuesList());
    // a refusal completes the future with the client's exception and the status code
    EmbedRequest unknown = request.toBuilder().setModel(JointspaceClient.model("nowhere")).build();
    assertThatThrownBy(() -> client.embedResponseAsync(unknown).get(60, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .satisfies(t -> assertThat(t.getCause()).isInstanceOfSatisfying(JointspaceException.class,
            e -> assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND)));

    GetModelMetadataResponse meta = client.modelMetadata(JointspaceClient.model("shapes-clip", 1));
    assertThat(meta.getModel().getVersion()).isEqualTo(1);
    assertThat(meta.getEmbeddingDimension()).isEqualTo(32);
    assertThat(meta.hasEncoder()).isTrue();

    client.createCollection("client_prepared", JointspaceClient.model("shapes-clip"));
    Ingest.Result in = client.ingest("client_prepared", items(40).iterator(),
        Ingest.Options.DEFAULT.withBatchItems(8).withInFlight(1).withSkipStored(false));
    assertThat(in.committed()).isEqualTo(40);
    SearchRequest search = client.search("client_prepared").text("a red circle").topK(3).toProto();
    List<String> first = client.search(search).getHitsList().stream().map(Hit::getId).toList();
    assertThat(first).hasSize(3);
    assertThat(client.search(search).getHitsList().stream().map(Hit::getId).toList()).isEqualTo(first);
  }

  @Test
  void classify_findsTheShapeInTheImage() {
    ClassifyResponse r = client.classify(JointspaceClient.model("shapes-clip"),
        List.of(JointspaceClient.image(LiveServer.ROOT.resolve("docs/samples/red-star.png"))),
        List.of("red star", "blue circle", "green triangle"));
    assertThat(r.getResults(0).getScores(0).getLabel()).isEqualTo("red star");
  }

  @Test
  void ingest_resumes_andSearchFilters() {
    client.createCollection("client_items", JointspaceClient.model("shapes-clip"));
    List<Item> all = items(500);
    AtomicLong reports = new AtomicLong();
    // a first run that stops after 200 items, then the whole set: the second run skips them
    Ingest.Result first = client.ingest("client_items", all.subList(0, 200).iterator(),
        Ingest.Options.DEFAULT.withBatchItems(64));
    assertThat(first.committed()).isEqualTo(200);
    Ingest.Result second = client.ingest("client_items", all.iterator(),
        Ingest.Options.DEFAULT.withBatchItems(64).withStreams(2).withProgress(p -> reports.incrementAndGet()));
    assertThat(second.committed()).isEqualTo(300);
    assertThat(second.skipped()).isEqualTo(200);
    assertThat(second.failed()).isZero();
    assertThat(reports.get()).isPositive();
    assertThat(client.getCollection("client_items").getItemCount()).isEqualTo(500);

    SearchResponse r = client.search("client_items").text("a blue star")
        .filter(Filter.eq("color", "blue").and(Filter.gte("n", 100))).topK(10).run();
    assertThat(r.getHitsList()).hasSize(10).allSatisfy(h -> {
      assertThat(h.getMetadata().getFieldsOrThrow("color").getStringValue()).isEqualTo("blue");
      assertThat(h.getMetadata().getFieldsOrThrow("n").getNumberValue()).isGreaterThanOrEqualTo(100);
    });
    // the nearest blue items to "a blue star" are blue stars
    assertThat(r.getHits(0).getMetadata().getFieldsOrThrow("shape").getStringValue()).isEqualTo("star");

    // the same through the command line, as JSON
    Run cli = cli("search", "client_items", "--text", "a blue star", "--filter", "color = blue and n >= 100",
        "--top-k", "10", "--output", "json");
    assertThat(cli.code).isZero();
    JsonObject json = JsonParser.parseString(cli.out.trim()).getAsJsonObject();
    List<String> ids = new ArrayList<>();
    json.getAsJsonArray("hits").forEach(h -> ids.add(h.getAsJsonObject().get("id").getAsString()));
    assertThat(ids).isEqualTo(r.getHitsList().stream().map(Hit::getId).toList());
  }

  @Test
  void ingest_refusedMessage_isReportedWithItsReason_theRestIsCommitted() {
    client.createCollection("client_refusals", JointspaceClient.model("shapes-clip"));
    List<Item> all = new ArrayList<>(items(30));
    all.set(12, Item.newBuilder().setId("").setInput(JointspaceClient.text("no id")).build());
    Ingest.Result r = client.ingest("client_refusals", all.iterator(), Ingest.Options.DEFAULT.withBatchItems(10));
    assertThat(r.committed()).isEqualTo(20);
    assertThat(r.failed()).isEqualTo(10);
    assertThat(r.failures()).singleElement().satisfies(f -> assertThat(f.reason()).contains("INVALID_ARGUMENT")
        .contains("items[2].id"));
  }

  @Test
  void errors_carryTheCodeAndTheField() {
    assertThatThrownBy(() -> client.getCollection("nowhere")).isInstanceOfSatisfying(JointspaceException.class,
        e -> assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND));
    client.createCollection("client_errors", JointspaceClient.model("shapes-clip"));
    assertThatThrownBy(() -> client.upsert("client_errors", List.of(
        Item.newBuilder().setId("ok").setInput(JointspaceClient.text("a red star")).build(),
        Item.newBuilder().setId("").setInput(JointspaceClient.text("a red star")).build())))
        .isInstanceOfSatisfying(JointspaceException.class, e -> {
          assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.field()).isEqualTo("items[1].id");
        });
    assertThatThrownBy(() -> client.search("client_errors").text("a red star").efSearch(1001).run())
        .isInstanceOfSatisfying(JointspaceException.class, e -> {
          assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.field()).isEqualTo("ef_search");
        });
    Run cli = cli("collections", "get", "nowhere");
    assertThat(cli.code).isEqualTo(1);
    assertThat(cli.err).contains("NOT_FOUND");
  }

  @Test
  void commandLine_ingestsAFolder_andRollsTheCollectionOut(@TempDir Path tmp) throws Exception {
    assertThat(cli("models").out).contains("shapes-clip").contains("1:AVAILABLE").contains("2:AVAILABLE");
    assertThat(cli("collections", "create", "cli_scenes", "--model", "shapes-clip@1", "--indexed-keys", "shape,color")
        .code).isZero();
    assertThat(cli("collections", "get", "cli_scenes").out).contains("shape,color");
    Run update = cli("collections", "update", "cli_scenes", "--indexed-keys", "shape", "--output", "json");
    assertThat(update.code).as(update.err).isZero();
    assertThat(update.out).contains("\"indexedKeys\":[\"shape\"]");
    Run ingest = cli("ingest", "cli_scenes", LiveServer.ROOT.resolve("docs/samples/scenes").toString(),
        "--batch", "16");
    assertThat(ingest.code).as(ingest.err).isZero();
    assertThat(ingest.out).contains("committed 60, skipped 0");
    assertThat(cli("ingest", "cli_scenes", LiveServer.ROOT.resolve("docs/samples/scenes").toString()).out)
        .contains("committed 0, skipped 60");
    // a JSON Lines file with texts and metadata
    Path jsonl = tmp.resolve("captions.jsonl");
    Files.writeString(jsonl, "{\"id\": \"c1\", \"text\": \"a red star\", \"metadata\": {\"shape\": \"star\"}}\n"
        + "{\"id\": \"c2\", \"image_path\": \"" + LiveServer.ROOT.resolve("docs/samples/blue-circle.png")
        + "\", \"metadata\": {\"shape\": \"circle\"}}\n");
    assertThat(cli("ingest", "cli_scenes", jsonl.toString()).out).contains("committed 2");
    assertThat(cli("search", "cli_scenes", "--text", "a star", "--filter", "shape in (star, circle)",
        "--top-k", "3").out).contains("star");

    Run start = cli("rollout", "start", "cli_scenes", "--model", "shapes-clip@2");
    assertThat(start.code).as(start.err).isZero();
    Run watch = cli("rollout", "watch", "cli_scenes"); // until READY, within the default hour
    assertThat(watch.code).as(watch.err).isZero();
    assertThat(watch.out).contains("READY");
    Run eval = cli("rollout", "evaluate", "cli_scenes");
    assertThat(eval.out).contains("neighbour agreement");
    assertThat(cli("rollout", "promote", "cli_scenes").out).contains("PROMOTED");
    assertThat(cli("rollout", "rollback", "cli_scenes").out).contains("ROLLED_BACK");
    assertThat(cli("rollout", "promote", "cli_scenes").out).contains("PROMOTED");
    assertThat(cli("rollout", "finalize", "cli_scenes").out).contains("FINALIZED");
    assertThat(cli("collections", "get", "cli_scenes").out).contains("shapes-clip@2").contains("62");
  }

  @Test
  void docsClientsWalkthrough_commandLine_runs() throws Exception {
    String doc = Files.readString(LiveServer.ROOT.resolve("docs/clients.md"));
    String block = doc.substring(doc.indexOf("```sh", doc.indexOf("### Command line")) + 5);
    block = block.substring(0, block.indexOf("```"));
    int commands = 0;
    for (String line : block.strip().split("\n")) {
      String command = line.replaceAll("\\s+#.*$", "").strip();
      List<String> args = words(command.substring("./jointspace ".length()));
      args.replaceAll(a -> a.startsWith("docs/") ? LiveServer.ROOT.resolve(a).toString() : a);
      Run r = cli(args.toArray(new String[0]));
      assertThat(r.code).as("%s: %s", command, r.err).isZero();
      commands++;
      if (command.contains(" search ")) {
        assertThat(r.out).contains("star");
      }
    }
    assertThat(commands).isEqualTo(5);
    assertThat(client.getCollection("scenes").getItemCount()).isEqualTo(60);
  }

  @Test
  void readmeExample_compilesAndRuns(@TempDir Path tmp) throws Exception {
    String readme = Files.readString(LiveServer.ROOT.resolve("clients/java/README.md"));
    int from = readme.indexOf("```java", readme.indexOf("## Example")) + "```java".length();
    String example = readme.substring(from, readme.indexOf("```", from))
        .replace("\"localhost:8500\"", "\"" + server.address + "\"")
        .replace("\"captions\"", "\"readme_captions\"")
        .replace("\"docs/", "\"" + LiveServer.ROOT + "/docs/");
    Path source = tmp.resolve("ReadmeExample.java");
    Files.writeString(source, "import io.jointspace.client.*;\nimport io.jointspace.api.v1.*;\n"
        + "import java.nio.file.Path;\nimport java.util.List;\n"
        + "public class ReadmeExample {\n  public static void main(String[] args) throws Exception {\n"
        + example + "  }\n}\n");
    javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
    StringWriter errors = new StringWriter();
    assertThat(javac.getTask(errors, null, null,
        List.of("-classpath", System.getProperty("java.class.path"), "-d", tmp.toString()), null,
        javac.getStandardFileManager(null, null, null).getJavaFileObjects(source.toFile())).call())
        .as("the README's example compiles:%n%s", errors).isTrue();
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.PrintStream stdout = System.out;
    try (java.net.URLClassLoader loader = new java.net.URLClassLoader(new java.net.URL[] {tmp.toUri().toURL()},
        getClass().getClassLoader())) {
      System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
      loader.loadClass("ReadmeExample").getMethod("main", String[].class).invoke(null, (Object) new String[0]);
    } finally {
      System.setOut(stdout);
    }
    assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("2 vectors; best hit: a blue circle");
    assertThat(client.getCollection("readme_captions").getItemCount()).isEqualTo(3);
  }

  /** Splits a shell command line on spaces, keeping double-quoted words whole. */
  static List<String> words(String line) {
    List<String> out = new ArrayList<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"([^\"]*)\"|(\\S+)").matcher(line);
    while (m.find()) {
      out.add(m.group(1) != null ? m.group(1) : m.group(2));
    }
    return out;
  }

  record Run(int code, String out, String err) {}

  static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    List<String> all = new ArrayList<>(List.of("--address", server.address));
    all.addAll(List.of(args));
    int code = Cli.run(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(new String[0]));
    return new Run(code, out.toString(), err.toString());
  }
}
