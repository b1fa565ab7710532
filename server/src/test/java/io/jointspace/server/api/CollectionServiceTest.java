package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.Collection;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.DeleteCollectionRequest;
import io.jointspace.api.v1.DeleteRequest;
import io.jointspace.api.v1.FieldValue;
import io.jointspace.api.v1.FieldValues;
import io.jointspace.api.v1.Filter;
import io.jointspace.api.v1.Filters;
import io.jointspace.api.v1.GetCollectionRequest;
import io.jointspace.api.v1.GetRequest;
import io.jointspace.api.v1.GetResponse;
import io.jointspace.api.v1.Hit;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ListCollectionsRequest;
import io.jointspace.api.v1.Metric;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.Range;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.SearchResponse;
import io.jointspace.api.v1.UpdateCollectionRequest;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.api.v1.UpsertResponse;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.api.v1.UpsertStreamResponse;
import io.jointspace.api.v1.Vector;
import io.jointspace.api.v1.VectorType;
import ch.qos.logback.classic.Level;
import io.jointspace.server.LogCapture;
import io.jointspace.server.Recorder;
import io.jointspace.server.Scrape;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.SearchPlan;
import io.jointspace.server.store.TestDatabase;
import io.jointspace.trainer.Scene;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** CollectionService over loopback gRPC, on the demo model and a real PostgreSQL + pgvector. */
class CollectionServiceTest {
  static ServerFixture fixture;
  /** Searches by the plan they took. */
  static final String PLANS = "jointspace_search_plans_total";
  static DatabaseUrl db;
  static CollectionServiceGrpc.CollectionServiceBlockingStub stub;
  static final List<Scene> SCENES = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    db = TestDatabase.fresh();
    fixture = DemoCollections.start(db);
    stub = CollectionServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(120, TimeUnit.SECONDS);
    // a captioned-image collection shared by the read-only tests below
    SCENES.addAll(DemoCollections.createScenes(stub, "scenes"));
  }

  @AfterAll
  static void stop() throws Exception {
    fixture.close();
  }

  static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  static Value num(double d) {
    return Value.newBuilder().setNumberValue(d).build();
  }

  static Filter eq(String key, Value v) {
    return Filter.newBuilder().setEquals(FieldValue.newBuilder().setKey(key).setValue(v)).build();
  }

  static SearchResponse searchText(String text, int k, Filter filter) {
    SearchRequest.Builder r = SearchRequest.newBuilder().setCollection("scenes")
        .setInput(Input.newBuilder().setText(text)).setTopK(k);
    if (filter != null) {
      r.setFilter(filter);
    }
    return stub.search(r.build());
  }

  static String meta(Hit h, String key) {
    return h.getMetadata().getFieldsOrThrow(key).getStringValue();
  }

  @Test
  void textSearch_findsMatchingImages_andReportsTheModelVersion() {
    SearchResponse r = searchText("a red circle", 5, null);
    assertThat(r.getModel().getName()).isEqualTo("shapes-clip");
    assertThat(r.getModel().getVersion()).isEqualTo(2);
    assertThat(r.getHitsList()).hasSize(5);
    Hit best = r.getHits(0);
    assertThat(meta(best, "color") + " " + meta(best, "shape")).isEqualTo("red circle");
    for (int i = 1; i < r.getHitsCount(); i++) {
      assertThat(r.getHits(i).getScore()).isLessThanOrEqualTo(r.getHits(i - 1).getScore());
    }
  }

  @Test
  void filters_restrictHits_exactly() {
    // equals
    List<Hit> blue = searchText("a circle", 20, eq("color", str("blue"))).getHitsList();
    assertThat(blue).hasSize((int) Math.min(20, SCENES.stream().filter(sc -> DemoCollections.color(sc).equals("blue"))
        .count())).isNotEmpty();
    for (Hit h : blue) {
      assertThat(meta(h, "color")).isEqualTo("blue");
    }
    // in + range + nested exists, combined
    Filter f = Filter.newBuilder().setAnd(Filters.newBuilder()
        .addFilters(Filter.newBuilder().setIn(FieldValues.newBuilder().setKey("shape")
            .addValues(str("circle")).addValues(str("square"))))
        .addFilters(Filter.newBuilder().setRange(Range.newBuilder().setKey("n").setGte(num(10)).setLt(num(60))))
        .addFilters(eq("info.even", Value.newBuilder().setBoolValue(true).build()))).build();
    List<Hit> hits = searchText("a shape", 96, f).getHitsList();
    long expected = java.util.stream.IntStream.range(10, 60).filter(i -> i % 2 == 0)
        .filter(i -> List.of("CIRCLE", "SQUARE").contains(SCENES.get(i).combo().shape().name())).count();
    assertThat(hits).hasSize((int) expected);
    for (Hit h : hits) {
      assertThat(meta(h, "shape")).isIn("circle", "square");
      double n = h.getMetadata().getFieldsOrThrow("n").getNumberValue();
      assertThat(n).isBetween(10.0, 59.0);
      assertThat(n % 2).isZero();
    }
    // not + or + exists
    Filter g = Filter.newBuilder().setOr(Filters.newBuilder()
        .addFilters(Filter.newBuilder().setNot(Filter.newBuilder().setExists("n")))
        .addFilters(Filter.newBuilder().setRange(Range.newBuilder().setKey("n").setLt(num(3))))).build();
    assertThat(searchText("a shape", 50, g).getHitsList()).extracting(Hit::getId)
        .containsExactlyInAnyOrder("scene-0", "scene-1", "scene-2");
    // string range
    Filter s = Filter.newBuilder().setRange(Range.newBuilder().setKey("color").setGte(str("r")).setLt(str("s"))).build();
    List<Hit> rColors = searchText("a shape", 96, s).getHitsList();
    assertThat(rColors).hasSize((int) SCENES.stream().filter(sc -> DemoCollections.color(sc).startsWith("r")).count())
        .isNotEmpty();
    for (Hit h : rColors) {
      assertThat(meta(h, "color")).startsWith("r");
    }
  }

  @Test
  void filterNestedPastTheLimit_isInvalidArgumentNamingTheFilter_beforeAnyOfItIsCompiled() {
    Filter f = Filter.newBuilder().setExists("n").build();
    for (int i = 0; i < 40; i++) { // deeper than the limit, within protobuf's 100 levels
      f = Filter.newBuilder().setNot(f).build();
    }
    Filter deep = f;
    assertCode(() -> searchText("a red circle", 5, deep), Status.Code.INVALID_ARGUMENT, "filter nests deeper than");
    Filter atLimit = Filter.newBuilder().setExists("n").build();
    for (int i = 1; i < io.jointspace.server.store.Limits.MAX_FILTER_DEPTH; i++) {
      atLimit = Filter.newBuilder().setNot(atLimit).build();
    }
    assertThat(searchText("a red circle", 5, atLimit).getHitsList()).isNotNull();
  }

  @Test
  void filterWithAHundredThousandClauses_isInvalidArgumentNamingTheFilter() {
    Filters.Builder many = Filters.newBuilder();
    Filter clause = Filter.newBuilder().setExists("n").build();
    for (int i = 0; i < 100_000; i++) {
      many.addFilters(clause);
    }
    Filter wide = Filter.newBuilder().setOr(many).build();
    assertCode(() -> searchText("a red circle", 5, wide), Status.Code.INVALID_ARGUMENT, "filter has more than");
  }

  @Test
  void filteredSearch_overTheExactThreshold_walksTheIndex_andBothPlansAgreeWithBruteForce() throws Exception {
    stub.createCollection(CreateCollectionRequest.newBuilder().setName("wide")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip").setVersion(2)).build());
    Random rnd = new Random(5);
    List<float[]> data = new ArrayList<>();
    for (int part = 0; part < 3; part++) {
      UpsertRequest.Builder up = UpsertRequest.newBuilder().setCollection("wide");
      for (int i = part * 900; i < Math.min(2600, (part + 1) * 900); i++) {
        float[] v = new float[64];
        for (int j = 0; j < 64; j++) {
          v[j] = (float) rnd.nextGaussian();
        }
        data.add(v);
        up.addItems(Item.newBuilder().setId("w" + i).setVector(vec(v))
            .setMetadata(Struct.newBuilder().putFields("big", Value.newBuilder().setBoolValue(i < 2300).build())));
      }
      stub.upsert(up.build());
    }
    float[] q = data.get(17).clone();
    q[0] += 0.5f;
    SearchRequest.Builder search = SearchRequest.newBuilder().setCollection("wide").setVector(vec(q)).setTopK(5);
    // 2300 rows match: the HNSW walk finds the top 5
    double walks = Scrape.sum(Scrape.metrics(fixture.server.httpPort()), PLANS, "plan=\"walk\"");
    try (LogCapture plans = LogCapture.of("io.jointspace.server.store.NearestSearch", Level.DEBUG)) {
      List<Hit> walked = stub.search(search.setFilter(eq("big", Value.newBuilder().setBoolValue(true).build()))
          .build()).getHitsList();
      assertThat(plans.messages()).singleElement().asString().contains("plan WALK,");
      assertThat(Scrape.sum(Scrape.metrics(fixture.server.httpPort()), PLANS, "plan=\"walk\"")).isEqualTo(walks + 1);
      assertThat(walked).extracting(Hit::getId).containsExactlyElementsOf(bruteForceCosine(data, q, 0, 2300, 5));
      plans.clear();
      // 300 match: the walk, or every match ranked when the walk finds too few; the same hits
      List<Hit> exact = stub.search(search.setFilter(eq("big", Value.newBuilder().setBoolValue(false).build()))
          .build()).getHitsList();
      assertThat(plans.messages()).singleElement().asString().contains("plan WALK");
      assertThat(exact).extracting(Hit::getId).containsExactlyElementsOf(bruteForceCosine(data, q, 2300, 2600, 5));
    }
  }

  @Test
  void searchPlanCounts_areExportedForEveryPlan_fromTheStart() throws Exception {
    String text = Scrape.metrics(fixture.server.httpPort());
    for (SearchPlan plan : SearchPlan.values()) {
      assertThat(text).containsPattern("(?m)^" + PLANS + "\\{plan=\"" + plan.label() + "\",?\\} ");
    }
  }

  /** Ids of the {@code k} items in [from, to) closest to {@code q} by cosine, best first. */
  static List<String> bruteForceCosine(List<float[]> data, float[] q, int from, int to, int k) {
    return java.util.stream.IntStream.range(from, to).boxed()
        .sorted(Comparator.comparingDouble(i -> -cosine(data.get(i), q)))
        .limit(k).map(i -> "w" + i).toList();
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  @Test
  void filteredSearch_topKOfFewMatches_isThePrefixOfALargerTopK() {
    // both rank the 48 matches exactly
    List<Hit> walk = searchText("a star", 3, eq("info.even", Value.newBuilder().setBoolValue(true).build()))
        .getHitsList();
    List<Hit> exact = searchText("a star", 96, eq("info.even", Value.newBuilder().setBoolValue(true).build()))
        .getHitsList();
    assertThat(exact).hasSize(48);
    assertThat(walk).extracting(Hit::getId).containsExactlyElementsOf(
        exact.subList(0, 3).stream().map(Hit::getId).toList());
  }

  @Test
  void upsertStream_repeatedIdInOneMessage_lastOneWins() throws Exception {
    stub.createCollection(CreateCollectionRequest.newBuilder().setName("repeats")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());
    Recorder<UpsertStreamResponse> done = new Recorder<>();
    StreamObserver<UpsertStreamRequest> requests = CollectionServiceGrpc.newStub(fixture.channel).upsertStream(done);
    requests.onNext(UpsertStreamRequest.newBuilder().setCollection("repeats")
        .addItems(Item.newBuilder().setId("x").setVector(vec(new float[64]))
            .setMetadata(Struct.newBuilder().putFields("v", num(1))))
        .addItems(Item.newBuilder().setId("x").setVector(vec(new float[64]))
            .setMetadata(Struct.newBuilder().putFields("v", num(2)))).build());
    requests.onCompleted();
    done.awaitCompleted(60);
    GetResponse g = stub.get(GetRequest.newBuilder().setCollection("repeats").addIds("x").build());
    assertThat(g.getItems(0).getMetadata().getFieldsOrThrow("v").getNumberValue()).isEqualTo(2.0);
  }

  @Test
  void searchById_andByVector_agree_andLeaveTheQueryItemOut() {
    GetResponse got = stub.get(GetRequest.newBuilder().setCollection("scenes").addIds("scene-5")
        .setIncludeVectors(true).setIncludeSources(true).build());
    assertThat(got.getItemsList()).hasSize(1);
    assertThat(got.getItems(0).getSource().getImage().size()).isGreaterThan(100);
    Vector v = got.getItems(0).getVector();
    assertThat(v.getValuesCount()).isEqualTo(64);
    SearchResponse byVector = stub.search(SearchRequest.newBuilder().setCollection("scenes").setVector(v).setTopK(6).build());
    assertThat(byVector.getHits(0).getId()).isEqualTo("scene-5");
    assertThat(byVector.getHits(0).getScore()).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-4f));
    SearchResponse byId = stub.search(SearchRequest.newBuilder().setCollection("scenes").setId("scene-5").setTopK(5).build());
    assertThat(byId.getHitsList()).extracting(Hit::getId)
        .containsExactlyElementsOf(byVector.getHitsList().subList(1, 6).stream().map(Hit::getId).toList());
    assertThatThrownBy(() -> stub.search(SearchRequest.newBuilder().setCollection("scenes").setId("nope").build()))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void lifecycle_create_get_list_upsertIdempotent_delete() {
    Collection c = stub.createCollection(CreateCollectionRequest.newBuilder().setName("notes")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip").setVersion(2)).setDescription("captions")
        .setKeepSources(false).build());
    assertThat(c.getDimension()).isEqualTo(64);
    assertThat(c.getMetric()).isEqualTo(Metric.COSINE);
    assertThat(c.getIndex().getM()).isEqualTo(16);
    assertThat(c.getView()).isEqualTo("public.notes");
    assertCode(() -> stub.createCollection(CreateCollectionRequest.newBuilder().setName("notes")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build()), Status.Code.ALREADY_EXISTS, "notes");
    for (int round = 0; round < 2; round++) {
      stub.upsert(UpsertRequest.newBuilder().setCollection("notes")
          .addItems(Item.newBuilder().setId("a").setInput(Input.newBuilder().setText("a red circle")))
          .addItems(Item.newBuilder().setId("b").setInput(Input.newBuilder().setText("a blue star"))
              .setMetadata(Struct.newBuilder().putFields("round", num(round))))
          .build());
    }
    Collection got = stub.getCollection(GetCollectionRequest.newBuilder().setName("notes").build());
    assertThat(got.getItemCount()).isEqualTo(2);
    assertThat(got.getKeepSources()).isFalse();
    GetResponse items = stub.get(GetRequest.newBuilder().setCollection("notes").addIds("b").addIds("zzz").addIds("a")
        .setIncludeSources(true).build());
    assertThat(items.getItemsList()).extracting(i -> i.getId()).containsExactly("b", "a");
    assertThat(items.getItems(0).getMetadata().getFieldsOrThrow("round").getNumberValue()).isEqualTo(1.0);
    assertThat(items.getItems(0).hasSource()).as("keep_sources false").isFalse();
    assertThat(stub.listCollections(ListCollectionsRequest.getDefaultInstance()).getCollectionsList())
        .extracting(Collection::getName).contains("notes", "scenes");
    assertThat(stub.delete(DeleteRequest.newBuilder().setCollection("notes").addIds("a").addIds("x").build())
        .getDeletedCount()).isEqualTo(1);
    stub.deleteCollection(DeleteCollectionRequest.newBuilder().setName("notes").build());
    assertCode(() -> stub.getCollection(GetCollectionRequest.newBuilder().setName("notes").build()),
        Status.Code.NOT_FOUND, "notes");
    assertCode(() -> stub.deleteCollection(DeleteCollectionRequest.newBuilder().setName("notes").build()),
        Status.Code.NOT_FOUND, "notes");
  }

  /** Exact nearest neighbours by brute force, for each metric and vector type. */
  @Test
  void vectorCollections_everyMetricAndType_matchBruteForce() {
    Random rnd = new Random(5);
    List<float[]> data = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      float[] v = new float[64];
      for (int j = 0; j < 64; j++) {
        v[j] = (float) rnd.nextGaussian();
      }
      data.add(v);
    }
    float[] q = data.get(0).clone();
    q[0] += 0.5f;
    for (Metric metric : List.of(Metric.COSINE, Metric.INNER_PRODUCT, Metric.L2)) {
      for (VectorType type : List.of(VectorType.VECTOR, VectorType.HALFVEC)) {
        String name = "raw_" + metric.name().toLowerCase() + "_" + type.name().toLowerCase();
        stub.createCollection(CreateCollectionRequest.newBuilder().setName(name).setMetric(metric).setVectorType(type)
            .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());
        UpsertRequest.Builder up = UpsertRequest.newBuilder().setCollection(name);
        for (int i = 0; i < data.size(); i++) {
          up.addItems(Item.newBuilder().setId("v" + i).setVector(vec(data.get(i))));
        }
        stub.upsert(up.build());
        SearchResponse r = stub.search(SearchRequest.newBuilder().setCollection(name).setVector(vec(q)).setTopK(5)
            .setEfSearch(400).build());
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
          order.add(i);
        }
        order.sort(Comparator.comparingDouble(i -> -score(metric, data.get(i), q)));
        float tolerance = type == VectorType.HALFVEC ? 0.05f : 1e-3f;
        for (int k = 0; k < 5; k++) {
          assertThat(r.getHits(k).getId()).as(name + " rank " + k).isEqualTo("v" + order.get(k));
          assertThat(r.getHits(k).getScore()).as(name + " score " + k)
              .isCloseTo((float) score(metric, data.get(order.get(k)), q),
                  org.assertj.core.data.Offset.offset(tolerance * Math.max(1f, Math.abs(r.getHits(k).getScore()))));
        }
      }
    }
  }

  static double score(Metric m, float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    double l2 = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
      l2 += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return switch (m) {
      case COSINE -> dot / Math.sqrt(na * nb);
      case INNER_PRODUCT -> dot;
      default -> -Math.sqrt(l2);
    };
  }

  static Vector vec(float[] v) {
    Vector.Builder b = Vector.newBuilder();
    for (float x : v) {
      b.addValues(x);
    }
    return b.build();
  }

  @Test
  void upsertStream_acknowledgesEachCommittedMessage_andStopsAtABadOne() throws Exception {
    stub.createCollection(CreateCollectionRequest.newBuilder().setName("bulk")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());
    Recorder<UpsertStreamResponse> recorder = new Recorder<>();
    List<UpsertStreamResponse> acks = recorder.values();
    // what another connection sees at the moment each acknowledgement arrives
    List<Long> visibleAtAck = new java.util.concurrent.CopyOnWriteArrayList<>();
    Connection reader = TestDatabase.connect(db);
    StreamObserver<UpsertStreamResponse> checking = new StreamObserver<>() {
      @Override
      public void onNext(UpsertStreamResponse ack) {
        try (Statement st = reader.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM bulk")) {
          rs.next();
          visibleAtAck.add(rs.getLong(1));
        } catch (java.sql.SQLException e) {
          throw new IllegalStateException(e);
        }
        recorder.onNext(ack);
      }

      @Override
      public void onError(Throwable t) {
        recorder.onError(t);
      }

      @Override
      public void onCompleted() {
        recorder.onCompleted();
      }
    };
    StreamObserver<UpsertStreamRequest> requests = CollectionServiceGrpc.newStub(fixture.channel).upsertStream(checking);
    Random rnd = new Random(1);
    for (int m = 0; m < 3; m++) {
      UpsertStreamRequest.Builder msg = UpsertStreamRequest.newBuilder().setCollection(m == 0 ? "bulk" : "");
      for (int i = 0; i < 500; i++) {
        float[] v = new float[64];
        for (int j = 0; j < 64; j++) {
          v[j] = rnd.nextFloat();
        }
        // ids repeat across messages: the last write wins
        msg.addItems(Item.newBuilder().setId("id-" + (m * 400 + i)).setVector(vec(v))
            .setMetadata(Struct.newBuilder().putFields("m", num(m))));
      }
      if (m == 1) {
        msg.addItems(Item.newBuilder().setId("text").setInput(Input.newBuilder().setText("a green star")));
      }
      requests.onNext(msg.build());
    }
    requests.onNext(UpsertStreamRequest.newBuilder().addItems(Item.newBuilder().setId("bad")
        .setVector(Vector.newBuilder().addValues(1f))).build());
    requests.onNext(UpsertStreamRequest.newBuilder().addItems(Item.newBuilder().setId("after")
        .setVector(vec(new float[64]))).build());
    requests.onCompleted();
    Throwable error = recorder.ended().get(120, TimeUnit.SECONDS);
    assertThat(acks).extracting(UpsertStreamResponse::getCommittedCount).containsExactly(500, 501, 500);
    assertThat(acks).extracting(UpsertStreamResponse::getTotalCommitted).containsExactly(500L, 1001L, 1501L);
    assertThat(acks).extracting(UpsertStreamResponse::getMessageIndex).containsExactly(0L, 1L, 2L);
    reader.close();
    // distinct ids committed by messages 0, 0-1 and 0-2 (later messages may have committed too)
    assertThat(visibleAtAck).hasSize(3);
    assertThat(visibleAtAck.get(0)).isGreaterThanOrEqualTo(500);
    assertThat(visibleAtAck.get(1)).isGreaterThanOrEqualTo(901);
    assertThat(visibleAtAck.get(2)).isGreaterThanOrEqualTo(1301);
    assertThat(error).isNotNull();
    Status status = Status.fromThrowable(error);
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).contains("message 3").contains("items[0].vector.values").contains("1501");
    Collection c = stub.getCollection(GetCollectionRequest.newBuilder().setName("bulk").build());
    assertThat(c.getItemCount()).isEqualTo(2 * 400 + 500 + 1);
    GetResponse g = stub.get(GetRequest.newBuilder().setCollection("bulk").addIds("id-400").addIds("text")
        .addIds("after").setIncludeSources(true).build());
    assertThat(g.getItemsList()).extracting(i -> i.getId()).containsExactly("id-400", "text");
    assertThat(g.getItems(0).getMetadata().getFieldsOrThrow("m").getNumberValue()).isEqualTo(1.0);
    assertThat(g.getItems(1).getSource().getText()).isEqualTo("a green star");
  }

  static final List<String> HOSTILE = List.of(
      "x'; DROP TABLE jointspace.collections; --",
      "\"; DROP SCHEMA jointspace CASCADE; --",
      "a) OR 1=1 --",
      "$$; SELECT pg_sleep(10); $$",
      "scenes\"; DELETE FROM public.scenes; --",
      "Robert'); DROP TABLE scenes;--");

  @Test
  void injectionStrings_inNamesAreRejected_andInIdsKeysAndValuesAreJustData() throws Exception {
    for (String name : HOSTILE) {
      assertCode(() -> stub.createCollection(CreateCollectionRequest.newBuilder().setName(name)
          .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build()), Status.Code.INVALID_ARGUMENT, "name");
      assertCode(() -> stub.search(SearchRequest.newBuilder().setCollection(name)
          .setVector(vec(new float[64])).build()), Status.Code.INVALID_ARGUMENT, "name");
    }
    assertCode(() -> stub.createCollection(CreateCollectionRequest.newBuilder().setName("select")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build()), Status.Code.INVALID_ARGUMENT, "keyword");
    stub.createCollection(CreateCollectionRequest.newBuilder().setName("hostile")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());
    UpsertRequest.Builder up = UpsertRequest.newBuilder().setCollection("hostile");
    for (int i = 0; i < HOSTILE.size(); i++) {
      float[] v = new float[64];
      v[i] = 1;
      up.addItems(Item.newBuilder().setId(HOSTILE.get(i)).setVector(vec(v))
          .setMetadata(Struct.newBuilder().putFields(HOSTILE.get(i), str(HOSTILE.get((i + 1) % HOSTILE.size())))));
    }
    stub.upsert(up.build());
    for (int i = 0; i < HOSTILE.size(); i++) {
      String key = HOSTILE.get(i);
      String value = HOSTILE.get((i + 1) % HOSTILE.size());
      List<Filter> filters = List.of(
          eq(key, str(value)),
          Filter.newBuilder().setIn(FieldValues.newBuilder().setKey(key).addValues(str(value))).build(),
          Filter.newBuilder().setExists(key).build(),
          Filter.newBuilder().setRange(Range.newBuilder().setKey(key).setGte(str(value)).setLte(str(value))).build());
      for (Filter f : filters) {
        List<Hit> hits = stub.search(SearchRequest.newBuilder().setCollection("hostile").setVector(vec(new float[64]))
            .setTopK(10).setFilter(f).build()).getHitsList();
        if (key.contains(".")) {
          continue; // a dotted key is a path: it names a nested field, which these items do not have
        }
        assertThat(hits).as(f.toString()).extracting(Hit::getId).containsExactly(key);
      }
    }
    GetResponse got = stub.get(GetRequest.newBuilder().setCollection("hostile").addAllIds(HOSTILE).build());
    assertThat(got.getItemsList()).extracting(i -> i.getId()).containsExactlyElementsOf(HOSTILE);
    try (Connection c = TestDatabase.connect(db); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT count(*) FROM jointspace.collections")) {
      r.next();
      assertThat(r.getLong(1)).isGreaterThanOrEqualTo(2);
    }
    assertThat(stub.getCollection(GetCollectionRequest.newBuilder().setName("scenes").build()).getItemCount())
        .isEqualTo(96);
  }

  @Test
  void limitsAndBadInput_answerClearErrors_namingTheField() {
    assertCode(() -> stub.search(SearchRequest.newBuilder().setCollection("scenes").setVector(vec(new float[64]))
        .setTopK(1001).build()), Status.Code.RESOURCE_EXHAUSTED, "top_k");
    assertCode(() -> stub.search(SearchRequest.newBuilder().setCollection("scenes").setVector(vec(new float[64]))
        .setTopK(-1).build()), Status.Code.INVALID_ARGUMENT, "top_k");
    assertCode(() -> stub.search(SearchRequest.newBuilder().setCollection("scenes").setVector(vec(new float[3]))
        .build()), Status.Code.INVALID_ARGUMENT, "vector.values");
    assertCode(() -> stub.search(SearchRequest.newBuilder().setCollection("scenes").build()),
        Status.Code.INVALID_ARGUMENT, "query");
    assertCode(() -> stub.search(SearchRequest.newBuilder().setCollection("missing").setVector(vec(new float[64]))
        .build()), Status.Code.NOT_FOUND, "missing");
    assertCode(() -> stub.upsert(UpsertRequest.newBuilder().setCollection("scenes")
        .addItems(Item.newBuilder().setId("x".repeat(513)).setVector(vec(new float[64]))).build()),
        Status.Code.RESOURCE_EXHAUSTED, "items[0].id");
    assertCode(() -> stub.upsert(UpsertRequest.newBuilder().setCollection("scenes")
        .addItems(Item.newBuilder().setId("").setVector(vec(new float[64]))).build()),
        Status.Code.INVALID_ARGUMENT, "items[0].id");
    assertCode(() -> stub.upsert(UpsertRequest.newBuilder().setCollection("scenes")
        .addItems(Item.newBuilder().setId("big").setVector(vec(new float[64]))
            .setMetadata(Struct.newBuilder().putFields("blob", str("y".repeat(70_000))))).build()),
        Status.Code.RESOURCE_EXHAUSTED, "items[0].metadata");
    UpsertRequest.Builder many = UpsertRequest.newBuilder().setCollection("scenes");
    for (int i = 0; i < 1001; i++) {
      many.addItems(Item.newBuilder().setId("m" + i).setVector(vec(new float[64])));
    }
    assertCode(() -> stub.upsert(many.build()), Status.Code.RESOURCE_EXHAUSTED, "items");
    assertCode(() -> stub.upsert(UpsertRequest.newBuilder().setCollection("scenes")
        .addItems(Item.newBuilder().setId("ok").setVector(vec(new float[64])))
        .addItems(Item.newBuilder().setId("bad").setInput(Input.newBuilder().setImage(ByteString.copyFromUtf8("no")))
        ).build()), Status.Code.INVALID_ARGUMENT, "items[1].input.image");
    float[] nan = new float[64];
    nan[3] = Float.NaN;
    assertCode(() -> stub.upsert(UpsertRequest.newBuilder().setCollection("scenes")
        .addItems(Item.newBuilder().setId("nan").setVector(vec(nan))).build()),
        Status.Code.INVALID_ARGUMENT, "items[0].vector.values[3]");
    Filter deep = eq("a", str("b"));
    for (int i = 0; i < 20; i++) {
      deep = Filter.newBuilder().setNot(deep).build();
    }
    Filter tooDeep = deep;
    assertCode(() -> stub.search(SearchRequest.newBuilder().setCollection("scenes").setVector(vec(new float[64]))
        .setFilter(tooDeep).build()), Status.Code.INVALID_ARGUMENT, "filter");
    assertCode(() -> stub.search(SearchRequest.newBuilder().setCollection("scenes").setVector(vec(new float[64]))
        .setFilter(Filter.newBuilder().setAnd(Filters.getDefaultInstance())).build()),
        Status.Code.INVALID_ARGUMENT, "filter.and");
    assertCode(() -> stub.search(SearchRequest.newBuilder().setCollection("scenes").setVector(vec(new float[64]))
        .setFilter(Filter.newBuilder().setRange(Range.newBuilder().setKey("n").setGt(num(1)).setLt(str("z")))).build()),
        Status.Code.INVALID_ARGUMENT, "filter.range");
    assertCode(() -> stub.createCollection(CreateCollectionRequest.newBuilder().setName("nomodel")
        .setModel(ModelSpec.newBuilder().setName("nope")).build()), Status.Code.NOT_FOUND, "nope");
    assertCode(() -> stub.createCollection(CreateCollectionRequest.newBuilder().setName("baddim")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).setDimension(3).build()),
        Status.Code.INVALID_ARGUMENT, "dimension");
    // nothing of the above was written
    assertThat(stub.getCollection(GetCollectionRequest.newBuilder().setName("scenes").build()).getItemCount())
        .isEqualTo(96);
  }

  @Test
  void tableGoneUnderTheCatalog_isNotFound_withoutTheDatabasesMessage() throws Exception {
    stub.createCollection(CreateCollectionRequest.newBuilder().setName("vanished")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());
    try (Connection c = TestDatabase.connect(db); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT active_table FROM jointspace.collections WHERE name = 'vanished'")) {
      r.next();
      try (Statement drop = c.createStatement()) {
        drop.execute("DROP TABLE jointspace.\"" + r.getString(1) + "\" CASCADE");
      }
    }
    assertThatThrownBy(() -> stub.get(GetRequest.newBuilder().setCollection("vanished").addIds("a").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).contains("collection")
              .doesNotContain("jointspace.").doesNotContain("relation").doesNotContain("Position");
        });
  }

  /** Scans PostgreSQL has counted on the active table of collection {@code name} (sequential and index). */
  static long tableScans(Connection c, String name) throws Exception {
    try (java.sql.PreparedStatement p = c.prepareStatement("SELECT coalesce(s.seq_scan, 0) + coalesce(s.idx_scan, 0)"
        + " FROM pg_stat_user_tables s JOIN jointspace.collections k ON s.schemaname = 'jointspace'"
        + " AND s.relname = k.active_table WHERE k.name = ?")) {
      p.setString(1, name);
      try (ResultSet r = p.executeQuery()) {
        assertThat(r.next()).isTrue();
        return r.getLong(1);
      }
    }
  }

  @Test
  void listCollections_estimatesItemCounts_withoutScanningTheTables() throws Exception {
    stub.createCollection(CreateCollectionRequest.newBuilder().setName("counted")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());
    for (int batch = 0; batch < 2; batch++) {
      UpsertRequest.Builder up = UpsertRequest.newBuilder().setCollection("counted");
      for (int i = 0; i < 1000; i++) {
        float[] v = new float[64];
        v[i % 64] = 1;
        up.addItems(Item.newBuilder().setId("c" + batch + "-" + i).setVector(vec(v))
            .setMetadata(Struct.newBuilder().putFields("pad", str("p".repeat(1000)))));
      }
      stub.upsert(up.build());
    }
    try (Connection c = TestDatabase.connect(db); Statement s = c.createStatement()) {
      s.execute("ANALYZE");
      // GetCollection counts exactly: the table's scan counter moves (statistics arrive within seconds)
      long before = tableScans(c, "counted");
      assertThat(stub.getCollection(GetCollectionRequest.newBuilder().setName("counted").build()).getItemCount())
          .isEqualTo(2000);
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (tableScans(c, "counted") == before && System.nanoTime() < until) {
        Thread.sleep(100);
      }
      assertThat(tableScans(c, "counted")).as("the exact count's scan is seen").isGreaterThan(before);
      // an idle pooled connection reports its scans (the upserts' conflict checks, a parallel
      // count's leader) up to PostgreSQL's idle stats interval (10 s) later: wait until the
      // counter has held still for longer than that
      long seen = tableScans(c, "counted");
      long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
      for (int still = 0; still < 11 && System.nanoTime() < settle; ) {
        Thread.sleep(1000);
        long now = tableScans(c, "counted");
        still = now == seen ? still + 1 : 0;
        seen = now;
      }
      Collection listed = null;
      for (int i = 0; i < 3; i++) {
        listed = stub.listCollections(ListCollectionsRequest.getDefaultInstance()).getCollectionsList().stream()
            .filter(k -> k.getName().equals("counted")).findFirst().orElseThrow();
      }
      assertThat(listed.getItemCount()).isBetween(1800L, 2200L);
      Thread.sleep(11_000); // longer than a pooled connection may hold its statistics, as above
      assertThat(tableScans(c, "counted")).as("scans of the table by ListCollections").isEqualTo(seen);
    }
  }

  /** A PNG of random pixels, which does not compress: about 3 bytes a pixel. */
  static ByteString noisePng(int side, long seed) throws Exception {
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(side, side,
        java.awt.image.BufferedImage.TYPE_INT_RGB);
    Random random = new Random(seed);
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        img.setRGB(x, y, random.nextInt(1 << 24));
      }
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    assertThat(javax.imageio.ImageIO.write(img, "png", out)).isTrue();
    return ByteString.copyFrom(out.toByteArray());
  }

  @Test
  void get_withSourcesOverTheAnswerLimit_isResourceExhausted_namingHowManyIdsFit() throws Exception {
    stub.createCollection(CreateCollectionRequest.newBuilder().setName("big_sources")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());
    ByteString png = noisePng(2048, 5); // about 12 MiB: two fit in one answer, three do not
    assertThat(png.size()).isGreaterThan(11 << 20);
    UpsertRequest.Builder up = UpsertRequest.newBuilder().setCollection("big_sources");
    for (int i = 0; i < 3; i++) {
      up.addItems(Item.newBuilder().setId("big-" + i).setInput(Input.newBuilder().setImage(png)));
    }
    UpsertResponse written = stub.upsert(up.build());
    assertThat(written.getUpsertedCount()).isEqualTo(3);
    // no read replicas: every read sees the write, and the server reads no token for it
    assertThat(written.getConsistencyToken()).isEmpty();
    GetRequest all = GetRequest.newBuilder().setCollection("big_sources")
        .addIds("big-0").addIds("missing").addIds("big-1").addIds("big-2").setIncludeSources(true).build();

    assertCode(() -> stub.get(all), Status.Code.RESOURCE_EXHAUSTED, "ids[3]");
    assertCode(() -> stub.get(all), Status.Code.RESOURCE_EXHAUSTED, "the first 3 ids");
    // fewer ids, or no sources, are answered
    GetResponse two = stub.get(all.toBuilder().clearIds().addIds("big-2").addIds("big-0").build());
    assertThat(two.getItemsList()).extracting(i -> i.getId()).containsExactly("big-2", "big-0");
    assertThat(two.getItems(0).getSource().getImage()).isEqualTo(png);
    GetResponse plain = stub.get(all.toBuilder().setIncludeSources(false).build());
    assertThat(plain.getItemsList()).extracting(i -> i.getId()).containsExactly("big-0", "big-1", "big-2");
  }

  @Test
  void sqlView_showsItemsWithTheirModelVersion() throws Exception {
    try (Connection c = TestDatabase.connect(db); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT count(*), min(model_name), min(model_version), min(vector_dims(embedding))"
            + " FROM scenes WHERE metadata->>'color' IS NOT NULL")) {
      r.next();
      assertThat(r.getLong(1)).isEqualTo(96);
      assertThat(r.getString(2)).isEqualTo("shapes-clip");
      assertThat(r.getLong(3)).isEqualTo(2);
      assertThat(r.getInt(4)).isEqualTo(64);
    }
    // whole numbers are stored as JSON integers, so SQL casts work
    try (Connection c = TestDatabase.connect(db); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT sum((metadata->>'n')::int) FROM scenes")) {
      r.next();
      assertThat(r.getLong(1)).isEqualTo(95 * 96 / 2);
    }
  }

  @Test
  void indexedKeys_areSetAtCreation_changedByUpdateCollection_andChecked() {
    Collection created = stub.createCollection(CreateCollectionRequest.newBuilder().setName("keyed")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).addIndexedKeys("lang").addIndexedKeys("meta.kind")
        .build());
    assertThat(created.getIndexedKeysList()).containsExactly("lang", "meta.kind");
    assertThat(stub.getCollection(GetCollectionRequest.newBuilder().setName("keyed").build()).getIndexedKeysList())
        .containsExactly("lang", "meta.kind");

    com.google.protobuf.FieldMask keysOnly = com.google.protobuf.FieldMask.newBuilder().addPaths("indexed_keys").build();
    Collection updated = stub.updateCollection(UpdateCollectionRequest.newBuilder().setName("keyed")
        .setUpdateMask(keysOnly).addIndexedKeys("lang").setDescription("not in the mask").build());
    assertThat(updated.getIndexedKeysList()).containsExactly("lang");
    assertThat(updated.getDescription()).isEmpty();
    updated = stub.updateCollection(UpdateCollectionRequest.newBuilder().setName("keyed")
        .setUpdateMask(com.google.protobuf.FieldMask.newBuilder().addPaths("description")).setDescription("by language")
        .build());
    assertThat(updated.getDescription()).isEqualTo("by language");
    assertThat(updated.getIndexedKeysList()).containsExactly("lang");

    assertCode(() -> stub.updateCollection(UpdateCollectionRequest.newBuilder().setName("keyed").build()),
        Status.Code.INVALID_ARGUMENT, "update_mask");
    assertCode(() -> stub.updateCollection(UpdateCollectionRequest.newBuilder().setName("keyed")
        .setUpdateMask(com.google.protobuf.FieldMask.newBuilder().addPaths("metric")).build()),
        Status.Code.INVALID_ARGUMENT, "update_mask.paths[0]");
    assertCode(() -> stub.updateCollection(UpdateCollectionRequest.newBuilder().setName("keyed")
        .setUpdateMask(keysOnly).addIndexedKeys("lang").addIndexedKeys("a..b").build()),
        Status.Code.INVALID_ARGUMENT, "indexed_keys[1]");
    UpdateCollectionRequest.Builder nine = UpdateCollectionRequest.newBuilder().setName("keyed").setUpdateMask(keysOnly);
    for (int i = 0; i < 9; i++) {
      nine.addIndexedKeys("k" + i);
    }
    assertCode(() -> stub.updateCollection(nine.build()), Status.Code.RESOURCE_EXHAUSTED, "indexed_keys");
    assertCode(() -> stub.updateCollection(UpdateCollectionRequest.newBuilder().setName("no_such_collection")
        .setUpdateMask(keysOnly).build()), Status.Code.NOT_FOUND, "no_such_collection");
    assertCode(() -> stub.createCollection(CreateCollectionRequest.newBuilder().setName("keyed_badly")
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).addIndexedKeys("").build()),
        Status.Code.INVALID_ARGUMENT, "indexed_keys[0]");
    stub.deleteCollection(DeleteCollectionRequest.newBuilder().setName("keyed").build());
  }

  static void assertCode(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, Status.Code code, String field) {
    assertThatThrownBy(call).isInstanceOf(StatusRuntimeException.class).satisfies(e -> {
      Status s = Status.fromThrowable(e);
      assertThat(s.getCode()).as(String.valueOf(s.getDescription())).isEqualTo(code);
      assertThat(s.getDescription()).contains(field);
    });
  }

}
