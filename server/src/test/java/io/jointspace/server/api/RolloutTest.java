package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.DeleteRequest;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.EvaluateRolloutRequest;
import io.jointspace.api.v1.Evaluation;
import io.jointspace.api.v1.GetCollectionRequest;
import io.jointspace.api.v1.GetRequest;
import io.jointspace.api.v1.GetRolloutRequest;
import io.jointspace.api.v1.Hit;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.Rollout;
import io.jointspace.api.v1.RolloutRequest;
import io.jointspace.api.v1.RolloutServiceGrpc;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.SearchResponse;
import io.jointspace.api.v1.SetRolloutRateRequest;
import io.jointspace.api.v1.StartRolloutRequest;
import io.jointspace.api.v1.StoredItem;
import io.jointspace.api.v1.UnembeddablePolicy;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.api.v1.Vector;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.config.v1.VersionPolicy;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.TestDatabase;
import io.jointspace.trainer.Scene;
import io.jointspace.trainer.SceneGenerator;
import io.jointspace.trainer.Split;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Collection rollouts over loopback gRPC on both demo versions and a real PostgreSQL: the
 * backfill gives every item the target version's vector, writes during it land in both
 * versions, promote and rollback switch without a failed search, and each refusal changes
 * nothing.
 */
class RolloutTest {
  static ServerFixture fixture;
  static DatabaseUrl db;
  static CollectionServiceGrpc.CollectionServiceBlockingStub collections;
  static RolloutServiceGrpc.RolloutServiceBlockingStub rollouts;
  static EmbeddingServiceGrpc.EmbeddingServiceBlockingStub embeddings;
  @TempDir static Path repo;
  static int metricsPort;

  @BeforeAll
  static void start() throws Exception {
    db = TestDatabase.fresh();
    // both demo versions, and a text-only copy of version 2 (for a target that lacks images)
    Path clip = repo.resolve("shapes-clip");
    Files.createDirectories(clip);
    Files.createSymbolicLink(clip.resolve("1"), DemoModelTest.DEMO.resolve("1").toAbsolutePath());
    Files.createSymbolicLink(clip.resolve("2"), DemoModelTest.DEMO.resolve("2").toAbsolutePath());
    Path textOnly = repo.resolve("shapes-text").resolve("1");
    copy(DemoModelTest.DEMO.resolve("2"), textOnly);
    Path spec = textOnly.resolve("assets.extra/jointspace.textproto");
    String s = Files.readString(spec);
    Files.writeString(spec, s.substring(0, s.indexOf("image {")) + s.substring(s.indexOf("}", s.indexOf("image {")) + 1));
    ServerConfig.Builder config = ServerConfig.newBuilder();
    config.getModelRepositoryBuilder().setOnlyConfiguredModels(true);
    config.addModelsBuilder().setName("shapes-clip").setVersionPolicy(VersionPolicy.newBuilder()
        .setAll(VersionPolicy.All.getDefaultInstance()));
    config.addModelsBuilder().setName("shapes-text");
    config.getStorageBuilder().setDatabaseUrl(TestDatabase.configUrl(db));
    metricsPort = ServerFixture.freePort();
    config.setMetricsPort(metricsPort);
    fixture = ServerFixture.start(config, repo);
    collections = CollectionServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(300, TimeUnit.SECONDS);
    rollouts = RolloutServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(300, TimeUnit.SECONDS);
    embeddings = EmbeddingServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(300, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    fixture.close();
  }

  private static void copy(Path from, Path to) throws Exception {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  static ModelSpec clip(long version) {
    return ModelSpec.newBuilder().setName("shapes-clip").setVersion(version).build();
  }

  /** A collection on version 1 with {@code n} captioned scenes (images), ids scene-0.. */
  static List<Scene> scenes(String name, int n, int seed) throws Exception {
    collections.createCollection(CreateCollectionRequest.newBuilder().setName(name).setModel(clip(1)).build());
    SceneGenerator gen = new SceneGenerator(seed, Split.ALL, 64, 64);
    List<Scene> out = new ArrayList<>();
    UpsertRequest.Builder up = UpsertRequest.newBuilder().setCollection(name);
    for (int i = 0; i < n; i++) {
      Scene s = gen.next();
      out.add(s);
      up.addItems(Item.newBuilder().setId("scene-" + i)
          .setInput(Input.newBuilder().setImage(DemoModelTest.encode(gen.render(s), "png")))
          .setMetadata(meta(s)));
    }
    collections.upsert(up.build());
    return out;
  }

  static Struct meta(Scene s) {
    return Struct.newBuilder()
        .putFields("caption", Value.newBuilder().setStringValue(s.caption()).build())
        .putFields("shape", Value.newBuilder().setStringValue(DemoCollections.shape(s)).build())
        .build();
  }

  static Rollout awaitState(String collection, Rollout.State state) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
    Rollout r;
    do {
      try {
        r = rollouts.getRollout(GetRolloutRequest.newBuilder().setCollection(collection).build());
      } catch (StatusRuntimeException e) {
        // a rollout a label starts comes a moment later
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        r = null;
        Thread.sleep(100);
        continue;
      }
      if (r.getState() == state) {
        return r;
      }
      assertThat(r.getState()).as("rollout %s: %s", r.getId(), r.getError()).isNotEqualTo(Rollout.State.FAILED);
      Thread.sleep(100);
    } while (System.nanoTime() < until);
    throw new AssertionError("rollout of " + collection + " did not reach " + state + ": " + r);
  }

  static RolloutRequest on(String collection) {
    return RolloutRequest.newBuilder().setCollection(collection).build();
  }

  /** Every stored item of {@code version}, by id, with its vector and source. */
  static Map<String, StoredItem> stored(String collection, long version, List<String> ids) {
    Map<String, StoredItem> out = new java.util.TreeMap<>();
    for (StoredItem item : collections.get(GetRequest.newBuilder().setCollection(collection).addAllIds(ids)
        .setIncludeVectors(true).setIncludeSources(true).setModelVersion(version).build()).getItemsList()) {
      out.put(item.getId(), item);
    }
    return out;
  }

  /** What Embed returns for each item's source, with {@code version}. */
  static void assertVectorsAreFrom(Map<String, StoredItem> items, long version) {
    EmbedRequest.Builder req = EmbedRequest.newBuilder().setModel(clip(version));
    List<StoredItem> list = new ArrayList<>(items.values());
    list.forEach(i -> req.addInputs(i.getSource()));
    var embedded = embeddings.embed(req.build());
    for (int i = 0; i < list.size(); i++) {
      List<Float> want = embedded.getEmbeddings(i).getValuesList();
      List<Float> got = list.get(i).getVector().getValuesList();
      assertThat(got).as("item %s", list.get(i).getId()).hasSameSizeAs(want);
      for (int d = 0; d < want.size(); d++) {
        assertThat((double) got.get(d)).as("item %s [%d]", list.get(i).getId(), d)
            .isCloseTo(want.get(d), org.assertj.core.data.Offset.offset(1e-4));
      }
    }
  }

  static List<String> ids(int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add("scene-" + i);
    }
    return ids;
  }

  @Test
  void rollout_reembedsEveryItem_keepsWritesInBoth_promotesAndRollsBackWithoutAFailedSearch() throws Exception {
    List<Scene> scenes = scenes("moving", 64, 5);
    SceneGenerator gen = new SceneGenerator(99, Split.ALL, 64, 64);
    // slow enough that writes land while it runs
    Rollout started = rollouts.startRollout(StartRolloutRequest.newBuilder().setCollection("moving")
        .setTarget(ModelSpec.newBuilder().setName("shapes-clip").setVersion(2)).setRateLimit(20).build());
    assertThat(started.getState()).isEqualTo(Rollout.State.PENDING);
    assertThat(started.getProgress().getTotal()).isEqualTo(64);
    assertThat(started.getToDimension()).isPositive();
    assertThat(collections.getCollection(GetCollectionRequest.newBuilder().setName("moving").build())
        .getRolloutOther().getVersion()).isEqualTo(2);

    // writes and deletes during the backfill
    UpsertRequest.Builder up = UpsertRequest.newBuilder().setCollection("moving");
    for (int i = 64; i < 70; i++) {
      Scene s = gen.next();
      up.addItems(Item.newBuilder().setId("scene-" + i)
          .setInput(Input.newBuilder().setImage(DemoModelTest.encode(gen.render(s), "png"))).setMetadata(meta(s)));
    }
    // a rewrite of an item the backfill may not have reached: its new source wins in both versions
    up.addItems(Item.newBuilder().setId("scene-63").setInput(Input.newBuilder().setText("a red circle")));
    collections.upsert(up.build());
    collections.delete(DeleteRequest.newBuilder().setCollection("moving").addIds("scene-0").addIds("scene-62").build());
    rollouts.setRolloutRate(SetRolloutRateRequest.newBuilder().setCollection("moving").setRateLimit(0).build());

    Rollout ready = awaitState("moving", Rollout.State.READY);
    assertThat(ready.getProgress().getRemaining()).isZero();
    assertThat(ready.getProgress().getFailed()).isZero();
    assertThat(ready.getProgress().getIndexBuilt()).isTrue();
    assertThat(ready.hasEvaluation()).isTrue();
    assertThat(ready.getEvaluation().getSampledItems()).isEqualTo(68);

    List<String> all = ids(70);
    Map<String, StoredItem> v1 = stored("moving", 1, all);
    Map<String, StoredItem> v2 = stored("moving", 2, all);
    assertThat(v2.keySet()).isEqualTo(v1.keySet()).doesNotContain("scene-0", "scene-62").contains("scene-69");
    assertThat(v2.get("scene-63").getSource().getText()).isEqualTo("a red circle");
    assertVectorsAreFrom(v2, 2);
    assertVectorsAreFrom(v1, 1);
    for (String id : v1.keySet()) {
      assertThat(v2.get(id).getMetadata()).isEqualTo(v1.get(id).getMetadata());
    }

    // the evaluation on demand, with a class: both versions measured
    Evaluation eval = rollouts.evaluateRollout(EvaluateRolloutRequest.newBuilder().setCollection("moving")
        .setClassKey("shape").setClassTemplate("a {}").build());
    assertThat(eval.getFrom().hasZeroShotAccuracy()).isTrue();
    assertThat(eval.getTo().hasZeroShotAccuracy()).isTrue();
    assertThat(eval.getNeighbourAgreement()).isBetween(0.0, 1.0);

    SearchRequest query = SearchRequest.newBuilder().setCollection("moving").setTopK(5)
        .setInput(Input.newBuilder().setText("a blue square")).build();
    SearchResponse before = collections.search(query);
    assertThat(before.getModel().getVersion()).isEqualTo(1);

    // a view of a user's on the collection's view, and a grant: both survive the switches
    // between versions of other dimensions
    try (Connection c = sql(); Statement st = c.createStatement()) {
      st.execute("CREATE VIEW my_moving AS SELECT id, model_version, embedding FROM public.moving");
      st.execute("CREATE ROLE moving_reader NOLOGIN");
      st.execute("GRANT SELECT ON public.moving TO moving_reader");
    }
    AtomicBoolean hammering = new AtomicBoolean(true);
    AtomicInteger searches = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread hammer = new Thread(() -> {
      var stub = CollectionServiceGrpc.newBlockingStub(fixture.channel);
      while (hammering.get()) {
        try {
          SearchResponse r = stub.withDeadlineAfter(30, TimeUnit.SECONDS).search(query);
          assertThat(r.getHitsCount()).isEqualTo(5);
          searches.incrementAndGet();
        } catch (Throwable t) {
          failure.compareAndSet(null, t);
        }
      }
    });
    hammer.start();
    try {
      Thread.sleep(200);
      Rollout promoted = rollouts.promoteRollout(on("moving"));
      assertThat(promoted.getState()).isEqualTo(Rollout.State.PROMOTED);
      Thread.sleep(300);
      SearchResponse onV2 = collections.search(query);
      assertThat(onV2.getModel().getVersion()).isEqualTo(2);
      // a write after the promote goes to the old version too: a rollback keeps it
      collections.upsert(UpsertRequest.newBuilder().setCollection("moving").addItems(Item.newBuilder()
          .setId("after-promote").setInput(Input.newBuilder().setText("a green triangle"))).build());
      assertThat(rollouts.rollbackRollout(on("moving")).getState()).isEqualTo(Rollout.State.ROLLED_BACK);
      Thread.sleep(300);
      SearchResponse back = collections.search(query.toBuilder().setTopK(5).build());
      assertThat(back.getModel().getVersion()).isEqualTo(1);
      assertThat(stored("moving", 1, List.of("after-promote"))).containsKey("after-promote");
      assertVectorsAreFrom(stored("moving", 1, List.of("after-promote")), 1);
      collections.delete(DeleteRequest.newBuilder().setCollection("moving").addIds("after-promote").build());
      // the same answers as before the promote, exactly
      assertThat(hits(collections.search(query))).isEqualTo(hits(before));
      assertThat(rollouts.promoteRollout(on("moving")).getState()).isEqualTo(Rollout.State.PROMOTED);
      Thread.sleep(200);
    } finally {
      hammering.set(false);
      hammer.join();
    }
    assertThat(failure.get()).as("a search failed across promote and rollback").isNull();
    assertThat(searches.get()).isPositive();

    // the SQL view follows the promote; the version views stay
    try (Connection c = sql(); Statement st = c.createStatement()) {
      try (ResultSet r = st.executeQuery("SELECT DISTINCT model_version, vector_dims(embedding) FROM my_moving")) {
        r.next();
        assertThat(r.getLong(1)).isEqualTo(2);
        assertThat(r.getInt(2)).isEqualTo(64);
      }
      try (ResultSet r = st.executeQuery("SELECT has_table_privilege('moving_reader', 'public.moving', 'SELECT')")) {
        r.next();
        assertThat(r.getBoolean(1)).isTrue();
      }
      try (ResultSet r = st.executeQuery("SELECT DISTINCT model_version FROM public.moving")) {
        r.next();
        assertThat(r.getLong(1)).isEqualTo(2);
      }
      try (ResultSet r = st.executeQuery("SELECT count(*) FROM public.moving__v1")) {
        r.next();
        assertThat(r.getLong(1)).isEqualTo(68);
      }
      try (ResultSet r = st.executeQuery(
          "SELECT state, done, remaining FROM jointspace.rollout_progress WHERE collection = 'moving'")) {
        r.next();
        assertThat(r.getString(1)).isEqualTo("promoted");
        assertThat(r.getLong(3)).isZero();
      }
    }

    // a view of a user's on a version's view keeps that version from being dropped: refused, nothing changed
    try (Connection c = sql(); Statement st = c.createStatement()) {
      st.execute("CREATE VIEW my_old_moving AS SELECT id FROM public.moving__v1");
    }
    assertCode(() -> rollouts.finalizeRollout(on("moving")), Status.Code.FAILED_PRECONDITION, "depend");
    assertThat(rollouts.getRollout(GetRolloutRequest.newBuilder().setCollection("moving").build()).getState())
        .isEqualTo(Rollout.State.PROMOTED);
    try (Connection c = sql(); Statement st = c.createStatement()) {
      st.execute("DROP VIEW my_old_moving");
    }
    Rollout finalized = rollouts.finalizeRollout(on("moving"));
    assertThat(finalized.getState()).isEqualTo(Rollout.State.FINALIZED);
    try (Connection c = sql(); Statement st = c.createStatement();
        ResultSet r = st.executeQuery("SELECT to_regclass('public.moving__v1'), to_regclass('jointspace.moving_v1')")) {
      r.next();
      assertThat(r.getString(1)).isNull();
      assertThat(r.getString(2)).isNull();
    }
    var after = collections.getCollection(GetCollectionRequest.newBuilder().setName("moving").build());
    assertThat(after.getModel().getVersion()).isEqualTo(2);
    assertThat(after.getRolloutId()).isZero();
    assertThat(after.getItemCount()).isEqualTo(68);
    assertThatThrownBy(() -> rollouts.rollbackRollout(on("moving")))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND));
    // the user's view keeps the collection from being deleted
    assertCode(() -> collections.deleteCollection(io.jointspace.api.v1.DeleteCollectionRequest.newBuilder()
        .setName("moving").build()), Status.Code.FAILED_PRECONDITION, "depend");
    assertThat(collections.getCollection(GetCollectionRequest.newBuilder().setName("moving").build()).getItemCount())
        .isEqualTo(68);
  }

  private static List<String> hits(SearchResponse r) {
    List<String> out = new ArrayList<>();
    for (Hit h : r.getHitsList()) {
      out.add(h.getId() + "=" + h.getScore());
    }
    return out;
  }

  static Connection sql() throws Exception {
    return DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
  }

  @Test
  void refusals_sayWhy_andChangeNothing() throws Exception {
    scenes("refusing", 8, 11);
    StartRolloutRequest base = StartRolloutRequest.newBuilder().setCollection("refusing")
        .setTarget(clip(2)).build();
    // a version that does not exist
    assertCode(() -> rollouts.startRollout(base.toBuilder().setTarget(clip(9)).build()), Status.Code.NOT_FOUND, "9");
    // a target without an image encoder, for a collection of images
    assertCode(() -> rollouts.startRollout(base.toBuilder()
        .setTarget(ModelSpec.newBuilder().setName("shapes-text")).build()),
        Status.Code.FAILED_PRECONDITION, "embeds no images");
    // the version it is on already
    assertCode(() -> rollouts.startRollout(base.toBuilder().setTarget(clip(1)).build()),
        Status.Code.FAILED_PRECONDITION, "already on");
    // unknown collection
    assertCode(() -> rollouts.startRollout(base.toBuilder().setCollection("nowhere").build()),
        Status.Code.NOT_FOUND, "nowhere");
    // no sources kept
    collections.createCollection(CreateCollectionRequest.newBuilder().setName("sourceless").setModel(clip(1))
        .setKeepSources(false).build());
    assertCode(() -> rollouts.startRollout(base.toBuilder().setCollection("sourceless").build()),
        Status.Code.FAILED_PRECONDITION, "keeps no sources");
    // a precomputed vector, without a policy: refused, with the count; a dry run reports it
    int dim = collections.getCollection(GetCollectionRequest.newBuilder().setName("refusing").build()).getDimension();
    Vector.Builder v = Vector.newBuilder();
    for (int i = 0; i < dim; i++) {
      v.addValues(i == 0 ? 1 : 0);
    }
    collections.upsert(UpsertRequest.newBuilder().setCollection("refusing")
        .addItems(Item.newBuilder().setId("given").setVector(v)).build());
    assertCode(() -> rollouts.startRollout(base), Status.Code.FAILED_PRECONDITION, "1 item(s) without a source");
    Rollout dry = rollouts.startRollout(base.toBuilder().setDryRun(true)
        .setUnembeddable(UnembeddablePolicy.UNEMBEDDABLE_DROP).build());
    assertThat(dry.getId()).isZero();
    assertThat(dry.getProgress().getTotal()).isEqualTo(8);
    assertThat(dry.getProgress().getUnembeddable()).isEqualTo(1);
    assertCode(() -> rollouts.getRollout(GetRolloutRequest.newBuilder().setCollection("refusing").build()),
        Status.Code.NOT_FOUND, "no rollout");
    try (Connection c = sql(); Statement st = c.createStatement();
        ResultSet r = st.executeQuery("SELECT to_regclass('jointspace.refusing_v2'), to_regclass('public.refusing__v2'),"
            + " (SELECT count(*) FROM jointspace.rollouts)")) {
      r.next();
      assertThat(r.getString(1)).isNull();
      assertThat(r.getString(2)).isNull();
    }

    // started with DROP: a second start is refused; the vector item is left out of version 2
    Rollout started = rollouts.startRollout(base.toBuilder()
        .setUnembeddable(UnembeddablePolicy.UNEMBEDDABLE_DROP).build());
    assertCode(() -> rollouts.startRollout(base.toBuilder()
        .setUnembeddable(UnembeddablePolicy.UNEMBEDDABLE_DROP).build()), Status.Code.ALREADY_EXISTS, "open rollout");
    // steps out of order
    assertCode(() -> rollouts.finalizeRollout(on("refusing")), Status.Code.FAILED_PRECONDITION, "while it is");
    assertCode(() -> rollouts.rollbackRollout(on("refusing")), Status.Code.FAILED_PRECONDITION, "while it is");
    assertCode(() -> rollouts.promoteRollout(on("refusing").toBuilder().setRolloutId(started.getId() + 7).build()),
        Status.Code.FAILED_PRECONDITION, "not the open rollout");
    // an id written twice in one request: the last write wins in both versions (here a vector,
    // which version 2 cannot hold, so it has no "dup")
    collections.upsert(UpsertRequest.newBuilder().setCollection("refusing")
        .addItems(Item.newBuilder().setId("dup").setInput(Input.newBuilder().setText("a red circle")))
        .addItems(Item.newBuilder().setId("dup").setVector(v)).build());
    awaitState("refusing", Rollout.State.READY);
    assertThat(stored("refusing", 2, List.of("dup"))).isEmpty();
    assertThat(stored("refusing", 1, List.of("dup")).get("dup").hasSource()).isFalse();
    collections.delete(DeleteRequest.newBuilder().setCollection("refusing").addIds("dup").build());
    assertThat(stored("refusing", 2, List.of("given", "scene-1")).keySet()).containsExactly("scene-1");
    assertThat(stored("refusing", 1, List.of("given")).keySet()).containsExactly("given");

    // abort drops the target: the collection is as it was
    assertThat(rollouts.abortRollout(on("refusing")).getState()).isEqualTo(Rollout.State.ABORTED);
    var c = collections.getCollection(GetCollectionRequest.newBuilder().setName("refusing").build());
    assertThat(c.getModel().getVersion()).isEqualTo(1);
    assertThat(c.getItemCount()).isEqualTo(9);
    assertThat(c.getRolloutId()).isZero();
    try (Connection conn = sql(); Statement st = conn.createStatement();
        ResultSet r = st.executeQuery("SELECT to_regclass('jointspace.refusing_v2'), to_regclass('public.refusing__v2')")) {
      r.next();
      assertThat(r.getString(1)).isNull();
      assertThat(r.getString(2)).isNull();
    }
    assertCode(() -> collections.search(SearchRequest.newBuilder().setCollection("refusing").setModelVersion(2)
        .setInput(Input.newBuilder().setText("a red circle")).build()), Status.Code.INVALID_ARGUMENT, "model_version");
  }

  @Test
  void watch_streamsProgressUntilTheRolloutEnds() throws Exception {
    scenes("watched", 16, 21);
    rollouts.startRollout(StartRolloutRequest.newBuilder().setCollection("watched").setTarget(clip(2)).build());
    Iterator<Rollout> watch = RolloutServiceGrpc.newBlockingStub(fixture.channel)
        .withDeadlineAfter(120, TimeUnit.SECONDS)
        .watchRollout(GetRolloutRequest.newBuilder().setCollection("watched").build());
    List<Rollout.State> seen = new ArrayList<>();
    while (watch.hasNext()) {
      Rollout r = watch.next();
      if (seen.isEmpty() || seen.get(seen.size() - 1) != r.getState()) {
        seen.add(r.getState());
      }
      if (r.getState() == Rollout.State.READY) {
        rollouts.abortRollout(on("watched"));
      }
    }
    assertThat(seen).contains(Rollout.State.READY).endsWith(Rollout.State.ABORTED);
  }

  @Test
  void collectionOnALabel_followsIt_promotingByItselfWhenItsPolicyAllows() throws Exception {
    var models = io.jointspace.api.v1.ModelServiceGrpc.newBlockingStub(fixture.channel)
        .withDeadlineAfter(60, TimeUnit.SECONDS);
    models.setLabel(io.jointspace.api.v1.SetLabelRequest.newBuilder().setModel("shapes-clip").setLabel("stable")
        .setVersion(1).build());
    ModelSpec stable = ModelSpec.newBuilder().setName("shapes-clip").setLabel("stable").build();
    List<String> names = List.of("follows_auto", "follows_strict");
    for (String name : names) {
      var policy = io.jointspace.api.v1.LabelPolicy.newBuilder().setAutoPromote(true).setClassKey("shape")
          .setClassTemplate("a {}")
          .setMinNeighbourAgreement(name.equals("follows_strict") ? 1.0 : 0)
          .setMinZeroShotGain(-1);
      var created = collections.createCollection(CreateCollectionRequest.newBuilder().setName(name).setModel(stable)
          .setLabelPolicy(policy).build());
      assertThat(created.getModel().getVersion()).isEqualTo(1);
      assertThat(created.getFollowsLabel()).isEqualTo("stable");
      assertThat(created.getLabelPolicy().getAutoPromote()).isTrue();
      SceneGenerator gen = new SceneGenerator(41, Split.ALL, 64, 64);
      UpsertRequest.Builder up = UpsertRequest.newBuilder().setCollection(name);
      for (int i = 0; i < 24; i++) {
        Scene sc = gen.next();
        up.addItems(Item.newBuilder().setId("s" + i).setMetadata(meta(sc))
            .setInput(Input.newBuilder().setImage(DemoModelTest.encode(gen.render(sc), "png"))));
      }
      collections.upsert(up.build());
    }
    assertCode(() -> collections.createCollection(CreateCollectionRequest.newBuilder().setName("unfollowing")
        .setModel(clip(1)).setLabelPolicy(io.jointspace.api.v1.LabelPolicy.newBuilder().setAutoPromote(true)).build()),
        Status.Code.INVALID_ARGUMENT, "label_policy");

    models.setLabel(io.jointspace.api.v1.SetLabelRequest.newBuilder().setModel("shapes-clip").setLabel("stable")
        .setVersion(2).build());
    Rollout promoted = awaitState("follows_auto", Rollout.State.PROMOTED);
    assertThat(promoted.getCreatedBy()).isEqualTo("label stable");
    assertThat(promoted.getEvaluation().getTo().hasZeroShotAccuracy()).isTrue();
    assertThat(collections.getCollection(GetCollectionRequest.newBuilder().setName("follows_auto").build())
        .getModel().getVersion()).isEqualTo(2);
    Rollout held = awaitState("follows_strict", Rollout.State.READY);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (held.getError().isEmpty() && System.nanoTime() < until) {
      Thread.sleep(200);
      held = rollouts.getRollout(GetRolloutRequest.newBuilder().setCollection("follows_strict").build());
    }
    assertThat(held.getState()).isEqualTo(Rollout.State.READY);
    assertThat(held.getError()).contains("auto-promote held").contains("neighbour agreement");
    // an aborted follow is not started again by itself
    long heldId = held.getId();
    rollouts.abortRollout(on("follows_strict"));
    rollouts.finalizeRollout(on("follows_auto"));
    Thread.sleep(5000); // two passes of the label follower
    Rollout last = rollouts.getRollout(GetRolloutRequest.newBuilder().setCollection("follows_strict").build());
    assertThat(last.getId()).isEqualTo(heldId);
    assertThat(last.getState()).isEqualTo(Rollout.State.ABORTED);
    models.deleteLabel(io.jointspace.api.v1.DeleteLabelRequest.newBuilder().setModel("shapes-clip")
        .setLabel("stable").build());
  }

  @Test
  void finalizeAfter_finalizesByItselfAfterThePromote() throws Exception {
    scenes("retained", 4, 51);
    rollouts.startRollout(StartRolloutRequest.newBuilder().setCollection("retained").setTarget(clip(2))
        .setFinalizeAfter(com.google.protobuf.Duration.newBuilder().setSeconds(1)).build());
    awaitState("retained", Rollout.State.READY);
    Rollout promoted = rollouts.promoteRollout(on("retained"));
    assertThat(promoted.getFinalizeAfter().getSeconds()).isEqualTo(1);
    Rollout done = awaitState("retained", Rollout.State.FINALIZED);
    assertThat(done.hasFinishedAt()).isTrue();
    try (Connection c = sql(); Statement st = c.createStatement();
        ResultSet r = st.executeQuery("SELECT to_regclass('jointspace.retained_v1')")) {
      r.next();
      assertThat(r.getString(1)).isNull();
    }
  }

  @Test
  void abortRightAfterStart_neverFailsOrLeavesATable() throws Exception {
    scenes("hasty", 1, 61);
    for (int i = 0; i < 25; i++) {
      rollouts.startRollout(StartRolloutRequest.newBuilder().setCollection("hasty").setTarget(clip(2)).build());
      Thread.sleep(i % 5 * 20); // at once, or while the backfill, the index build or the evaluation runs
      assertThat(rollouts.abortRollout(on("hasty")).getState()).isEqualTo(Rollout.State.ABORTED);
    }
    try (Connection c = sql(); Statement st = c.createStatement();
        ResultSet r = st.executeQuery("SELECT to_regclass('jointspace.hasty_v2'), to_regclass('public.hasty__v2')")) {
      r.next();
      assertThat(r.getString(1)).isNull();
      assertThat(r.getString(2)).isNull();
    }
  }

  @Test
  void metrics_showOpenRollouts() throws Exception {
    scenes("measured", 4, 31);
    Rollout r = rollouts.startRollout(StartRolloutRequest.newBuilder().setCollection("measured").setTarget(clip(2))
        .build());
    String series = "jointspace_rollout_items{collection=\"measured\",kind=\"total\",rollout=\"" + r.getId() + "\"} 4.0";
    var http = java.net.http.HttpClient.newHttpClient();
    var get = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
        .build();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String body = "";
    while (System.nanoTime() < until && !body.contains(series)) {
      Thread.sleep(250);
      body = http.send(get, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }
    assertThat(body).contains(series).contains("jointspace_rollout_state{collection=\"measured\"");
    rollouts.abortRollout(on("measured"));
  }

  static void assertCode(Runnable call, Status.Code code, String inMessage) {
    assertThatThrownBy(call::run).isInstanceOf(StatusRuntimeException.class).satisfies(e -> {
      Status s = Status.fromThrowable(e);
      assertThat(s.getCode()).as(s.toString()).isEqualTo(code);
      assertThat(s.getDescription()).contains(inMessage);
    });
  }
}
