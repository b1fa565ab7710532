package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.TestDatabase;
import io.jointspace.trainer.Combo;
import io.jointspace.trainer.Scene;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs every {@code ```sql} block of docs/sql.md, in order, with the real {@code psql} against
 * a server on the demo model that holds the collections the document describes. A block that
 * fails fails the test. When a {@code ```text} block follows a SQL block, it is the expected
 * output (psql's default aligned format) and must match exactly; the results the document's
 * prose relies on are checked on top of that.
 *
 * <p>After a deliberate change of the examples or the model, run with
 * {@code -Djointspace.sqldocs.update=true} to rewrite the expected-output blocks from the
 * actual output (the checks below still apply), and review the diff.
 */
class SqlDocsTest {
  static final Path DOC = TestDatabase.projectRoot().resolve("docs/sql.md");
  static final boolean UPDATE = Boolean.getBoolean("jointspace.sqldocs.update");
  static final Pattern FENCE = Pattern.compile("(?m)^```(\\w*)[ \\t]*\\n(.*?)^```[ \\t]*$", Pattern.DOTALL);

  static ServerFixture fixture;
  static DatabaseUrl db;
  static final List<Scene> SCENES = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    db = TestDatabase.fresh();
    fixture = DemoCollections.start(db);
    CollectionServiceGrpc.CollectionServiceBlockingStub stub = CollectionServiceGrpc.newBlockingStub(fixture.channel)
        .withDeadlineAfter(120, TimeUnit.SECONDS);
    // scenes: 96 captioned images, as described in docs/sql.md
    SCENES.addAll(DemoCollections.createScenes(stub, "scenes"));
    // labels: the 48 color + shape names, embedded from text
    stub.createCollection(CreateCollectionRequest.newBuilder().setName("labels")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).setDescription("zero-shot labels").build());
    UpsertRequest.Builder labels = UpsertRequest.newBuilder().setCollection("labels");
    for (Combo c : Combo.all()) {
      labels.addItems(Item.newBuilder().setId(c.words())
          .setInput(Input.newBuilder().setText(labelText(c)))
          .setMetadata(Struct.newBuilder()
              .putFields("color", str(c.color().name().toLowerCase()))
              .putFields("shape", str(c.shape().name().toLowerCase()))));
    }
    assertThat(stub.upsert(labels.build()).getUpsertedCount()).isEqualTo(48);
  }

  @AfterAll
  static void stop() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
  }

  static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  /** "a photo of a red circle.", "a photo of an orange star.": the label form training used. */
  static String labelText(Combo c) {
    String article = "aeiou".indexOf(c.words().charAt(0)) >= 0 ? "an " : "a ";
    return "a photo of " + article + c.words() + ".";
  }

  static String color(Scene s) {
    return DemoCollections.color(s);
  }

  static String shape(Scene s) {
    return DemoCollections.shape(s);
  }

  /** One ```sql block, the ```text block after it (or null), and what psql printed. */
  record Example(int line, String sql, String expected, int expectedStart, int expectedEnd, String output) {}

  @Test
  void everySqlExample_runsWithPsql_andPrintsWhatTheDocShows() throws Exception {
    String doc = Files.readString(DOC);
    List<Example> examples = run(doc);
    assertThat(examples).as("sql blocks in " + DOC).hasSizeGreaterThanOrEqualTo(8);

    if (UPDATE) {
      StringBuilder updated = new StringBuilder(doc);
      for (int i = examples.size() - 1; i >= 0; i--) {
        Example e = examples.get(i);
        if (e.expected() != null) {
          updated.replace(e.expectedStart(), e.expectedEnd(), e.output() + "\n");
        }
      }
      Files.writeString(DOC, updated.toString());
    } else {
      for (Example e : examples) {
        if (e.expected() != null) {
          assertThat(e.output()).as("output of the sql block at docs/sql.md line " + e.line() + ":\n" + e.sql())
              .isEqualTo(normalize(e.expected()));
        }
      }
    }

    // nearest neighbours of scene-5: itself first (distance 0), then images of the same color or shape
    List<Map<String, String>> nn = table(example(examples, "LIMIT 6", "AS similarity"));
    assertThat(nn).hasSize(6);
    assertThat(nn.get(0).get("id")).isEqualTo("scene-5");
    assertThat(Double.parseDouble(nn.get(0).get("similarity"))).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-3));
    Scene five = SCENES.get(5);
    for (Map<String, String> row : nn) {
      Scene s = SCENES.get(index(row.get("id")));
      assertThat(row.get("color")).isEqualTo(color(s));
      assertThat(color(s).equals(color(five)) || shape(s).equals(shape(five))).as(row.toString()).isTrue();
    }
    assertDescending(nn, "similarity");

    // with sequential scans off, the plan is the HNSW index scan the document describes
    String plan = example(examples, "EXPLAIN");
    assertThat(plan).contains("Index Scan using scenes_v2_hnsw on scenes_v2").contains("Order By: ((embedding)::vector <=> ");

    // metadata filters: exactly the rows the metadata says
    List<Map<String, String>> red = table(example(examples, "metadata @> '{\"color\": \"red\"}'"));
    List<String> expectedRed = ids(s -> color(s).equals("red"));
    assertThat(red).extracting(r -> r.get("id")).containsExactlyInAnyOrderElementsOf(expectedRed);
    List<Map<String, String>> range = table(example(examples, "BETWEEN 10 AND 29"));
    List<String> expectedRange = new ArrayList<>();
    for (int i = 10; i <= 29; i++) {
      if (i % 2 == 0 && shape(SCENES.get(i)).equals("circle")) {
        expectedRange.add("scene-" + i);
      }
    }
    assertThat(range).extracting(r -> r.get("id")).containsExactlyElementsOf(expectedRange);

    // filtered vector search: only the filter's rows, closest first
    List<Map<String, String>> filtered = table(example(examples, "iterative_scan", "metadata @>"));
    assertThat(filtered).hasSize(5);
    for (Map<String, String> row : filtered) {
      assertThat(color(SCENES.get(index(row.get("id"))))).isEqualTo("blue");
    }
    assertDescending(filtered, "similarity");

    // a walk on past its list, its rows ranked again: runs as shown
    assertThat(table(example(examples, "LIMIT 1100"))).hasSize(3);

    // text to image through a stored label embedding: the best hits show a red circle
    List<Map<String, String>> textQuery = table(example(examples, "WHERE id = 'red circle')"));
    assertThat(textQuery).isNotEmpty();
    for (Map<String, String> row : textQuery) {
      Scene s = SCENES.get(index(row.get("id")));
      assertThat(color(s) + " " + shape(s)).isEqualTo("red circle");
    }

    // the join with a table of the user's: exactly the favourites, with the items' metadata
    List<Map<String, String>> favorites = table(example(examples, "JOIN scenes s ON s.id = f.item_id"));
    assertThat(favorites).extracting(r -> r.get("user_name") + " " + r.get("id") + " " + r.get("color")
        + " " + r.get("shape")).containsExactly(
            "ana scene-3 " + color(SCENES.get(3)) + " " + shape(SCENES.get(3)),
            "ana scene-10 " + color(SCENES.get(10)) + " " + shape(SCENES.get(10)),
            "ben scene-10 " + color(SCENES.get(10)) + " " + shape(SCENES.get(10)),
            "ben scene-42 " + color(SCENES.get(42)) + " " + shape(SCENES.get(42)));

    // zero-shot labelling in SQL: at least 90% right, over all 96 images
    List<Map<String, String>> accuracy = table(example(examples, "AS accuracy"));
    assertThat(accuracy).hasSize(1);
    assertThat(Long.parseLong(accuracy.get(0).get("images"))).isEqualTo(96);
    assertThat(Double.parseDouble(accuracy.get(0).get("accuracy"))).isGreaterThanOrEqualTo(0.9);

    // every row carries its model version
    List<Map<String, String>> versions = table(example(examples, "GROUP BY model_name, model_version"));
    assertThat(versions).extracting(r -> r.get("model_name") + "@" + r.get("model_version") + ":" + r.get("items"))
        .containsExactly("shapes-clip@2:96");
  }

  /** Runs every sql block in document order, each in its own psql process. */
  static List<Example> run(String doc) throws Exception {
    List<Example> out = new ArrayList<>();
    Matcher m = FENCE.matcher(doc);
    List<int[]> spans = new ArrayList<>();
    List<String> langs = new ArrayList<>();
    while (m.find()) {
      spans.add(new int[] {m.start(), m.end(), m.start(2), m.end(2)});
      langs.add(m.group(1));
    }
    for (int i = 0; i < spans.size(); i++) {
      if (!langs.get(i).equals("sql")) {
        continue;
      }
      int[] span = spans.get(i);
      String sql = doc.substring(span[2], span[3]);
      int line = (int) doc.substring(0, span[0]).chars().filter(c -> c == '\n').count() + 1;
      String expected = null;
      int expectedStart = -1;
      int expectedEnd = -1;
      if (i + 1 < spans.size() && langs.get(i + 1).equals("text")
          && doc.substring(span[1], spans.get(i + 1)[0]).isBlank()) {
        expected = doc.substring(spans.get(i + 1)[2], spans.get(i + 1)[3]);
        expectedStart = spans.get(i + 1)[2];
        expectedEnd = spans.get(i + 1)[3];
      }
      out.add(new Example(line, sql, expected, expectedStart, expectedEnd, psql(sql, line)));
    }
    return out;
  }

  /** Runs {@code sql} with psql; fails on a non-zero exit or anything on stderr. */
  static String psql(String sql, int line) throws Exception {
    Path script = Files.createTempFile("sqldocs", ".sql");
    Path stdout = Files.createTempFile("sqldocs", ".out");
    Path stderr = Files.createTempFile("sqldocs", ".err");
    try {
      Files.writeString(script, sql);
      ProcessBuilder pb = new ProcessBuilder(psqlBinary().toString(), "-v", "ON_ERROR_STOP=1", "-X", "-q",
          "-d", psqlUrl(), "-f", script.toString());
      pb.environment().put("PGTZ", "UTC");
      if (db.password() != null) {
        pb.environment().put("PGPASSWORD", db.password());
      }
      pb.environment().put("PAGER", "cat");
      pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      pb.redirectOutput(stdout.toFile());
      pb.redirectError(stderr.toFile());
      Process p = pb.start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("psql ran over 120 s on the sql block at docs/sql.md line " + line);
      }
      String err = Files.readString(stderr, StandardCharsets.UTF_8);
      String outText = Files.readString(stdout, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as("psql exit code for the sql block at docs/sql.md line " + line + ":\n" + sql
          + "\nstderr:\n" + err).isZero();
      assertThat(err).as("psql stderr for the sql block at docs/sql.md line " + line + ":\n" + sql).isEmpty();
      return normalize(outText);
    } finally {
      Files.deleteIfExists(script);
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
    }
  }

  /** The test database as a libpq URL, postgresql://user@host:port/db (the password goes in PGPASSWORD). */
  static String psqlUrl() {
    String rest = db.jdbcUrl().substring("jdbc:postgresql://".length());
    return "postgresql://" + (db.user() == null ? "" : db.user() + "@") + rest;
  }

  static Path psqlBinary() throws IOException {
    Path root = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(root)) {
      try (var versions = Files.list(root)) {
        List<Path> found = versions.map(v -> v.resolve("bin/psql")).filter(Files::isExecutable)
            .sorted(Comparator.comparing((Path p) -> versionOf(p)).reversed()).toList();
        if (!found.isEmpty()) {
          return found.get(0);
        }
      }
    }
    return Path.of("psql");
  }

  static int versionOf(Path psql) {
    try {
      return Integer.parseInt(psql.getParent().getParent().getFileName().toString());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Lines without trailing blanks, no leading or trailing empty lines. */
  static String normalize(String s) {
    String joined = Arrays.stream(s.split("\n", -1)).map(String::stripTrailing).collect(Collectors.joining("\n"));
    return joined.replaceAll("^\\n+", "").replaceAll("\\n+$", "");
  }

  /** The output of the one example whose SQL contains every marker. */
  static String example(List<Example> examples, String... markers) {
    List<Example> found = examples.stream()
        .filter(e -> Arrays.stream(markers).allMatch(e.sql()::contains)).toList();
    assertThat(found).as("sql blocks containing " + Arrays.toString(markers)).hasSize(1);
    return found.get(0).output();
  }

  /** The rows of psql's aligned output (the last table printed), by column name. */
  static List<Map<String, String>> table(String output) {
    List<String> lines = Arrays.asList(output.split("\n"));
    int sep = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).matches("-+(\\+-+)*")) {
        sep = i;
      }
    }
    assertThat(sep).as("a table in:\n" + output).isGreaterThan(0);
    List<String> header = Arrays.stream(lines.get(sep - 1).split("\\|", -1)).map(String::strip).toList();
    List<Map<String, String>> rows = new ArrayList<>();
    for (int i = sep + 1; i < lines.size() && !lines.get(i).matches("\\(\\d+ rows?\\)"); i++) {
      String[] cells = lines.get(i).split("\\|", -1);
      Map<String, String> row = new java.util.LinkedHashMap<>();
      for (int c = 0; c < header.size() && c < cells.length; c++) {
        row.put(header.get(c), cells[c].strip());
      }
      rows.add(row);
    }
    return rows;
  }

  static void assertDescending(List<Map<String, String>> rows, String column) {
    for (int i = 1; i < rows.size(); i++) {
      assertThat(Double.parseDouble(rows.get(i).get(column)))
          .isLessThanOrEqualTo(Double.parseDouble(rows.get(i - 1).get(column)));
    }
  }

  static int index(String id) {
    return Integer.parseInt(id.substring("scene-".length()));
  }

  static List<String> ids(java.util.function.Predicate<Scene> p) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < SCENES.size(); i++) {
      if (p.test(SCENES.get(i))) {
        out.add("scene-" + i);
      }
    }
    return out;
  }
}
