package io.jointspace.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The backfill's claims on a real PostgreSQL, with the races made deterministic: a client's
 * write or delete between a claim and its completion wins; a lease that expired and was
 * taken over writes nothing; two workers never hold the same item; items that keep failing
 * are listed and fail the rollout until resumed; a write prepared before a rollout started
 * is refused and not half-applied.
 */
class BackfillTest {
  static Database db;
  static CollectionCatalog catalog;
  static ItemStore items;
  static RolloutStore rollouts;
  static Backfill backfill;

  @BeforeAll
  static void open() {
    db = new Database(TestDatabase.fresh(), 6, Duration.ofSeconds(5));
    catalog = new CollectionCatalog(db);
    items = new ItemStore(db);
    rollouts = new RolloutStore(db);
    backfill = new Backfill(db, io.jointspace.server.store.IndexBuildOptions.DEFAULT_MEMORY_MB);
  }

  static float[] vec(int dim, float first) {
    float[] v = new float[dim];
    v[0] = first;
    v[dim - 1] = 1;
    return v;
  }

  /** A collection on example@1 (dimension 4) with {@code n} text items t0..; a rollout to example@2 (dimension 3). */
  static Rollout collectionWithRollout(String name, int n) {
    catalog.create(new CollectionSpec(name, "example", 1, 4, Metric.COSINE, VectorType.VECTOR, 16, 64, true, ""));
    List<ItemWrite> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(new ItemWrite("t" + i, vec(4, i), "{\"i\": " + i + "}", "text " + i, null));
    }
    for (int from = 0; from < rows.size(); from += 1000) {
      items.upsert(catalog.get(name), rows.subList(from, Math.min(rows.size(), from + 1000)), List.of(), "items");
    }
    Rollout r = rollouts.start(catalog.get(name), new VersionTable("example", 2, name + "_v2", 3), Unembeddable.FAIL,
        0, null, "test", s -> { });
    assertThat(backfill.claim(r, "early", 10, Duration.ofSeconds(30))).as("nothing to claim while PENDING").isEmpty();
    assertThat(backfill.begin(r.id())).isTrue();
    return rollouts.get(name, r.id());
  }

  static List<float[]> vectorsFor(List<Backfill.Claimed> claimed, float mark) {
    List<float[]> out = new ArrayList<>();
    claimed.forEach(c -> out.add(vec(3, mark)));
    return out;
  }

  static Map<String, float[]> target(String name, List<String> ids) {
    Collection c = catalog.get(name);
    Map<String, float[]> out = new java.util.TreeMap<>();
    for (StoredItem i : items.get(c.atVersion(2, "v"), ids, true, false)) {
      out.put(i.id(), i.vector());
    }
    return out;
  }

  @Test
  void clientWritesBetweenClaimAndCompletion_win() {
    Rollout r = collectionWithRollout("raced", 6);
    Collection c = catalog.get("raced");
    assertThat(c.rollout()).isNotNull();
    List<Backfill.Claimed> claimed = backfill.claim(r, "w1", 10, Duration.ofSeconds(30));
    assertThat(claimed).extracting(Backfill.Claimed::id).containsExactly("t0", "t1", "t2", "t3", "t4", "t5");
    // meanwhile a client deletes t1 and rewrites t2 (written to both versions)
    items.delete(c, List.of("t1"));
    items.upsert(c, List.of(new ItemWrite("t2", vec(4, 9), "{}", "new", null)),
        List.of(new ItemWrite("t2", vec(3, 7), "{}", "new", null)), "items");
    int written = backfill.complete(r, c.at(r.to()), "w1", claimed, vectorsFor(claimed, 5));
    assertThat(written).isEqualTo(4);
    Map<String, float[]> got = target("raced", List.of("t0", "t1", "t2", "t3", "t4", "t5"));
    assertThat(got.keySet()).containsExactly("t0", "t2", "t3", "t4", "t5");
    assertThat(got.get("t2")[0]).isEqualTo(7f); // the client's vector, not the backfill's
    assertThat(got.get("t3")[0]).isEqualTo(5f);
    assertThat(rollouts.get("raced", r.id()).remaining()).isZero();
    assertThat(backfill.finish(rollouts.get("raced", r.id()), c.at(r.to()))).isEqualTo(Backfill.Finish.INDEXED);
    assertThat(indexValid("raced_v2_hnsw")).isTrue();
  }

  @Test
  void completedItems_keepTheOldRowsMetadataSourcesAndTimestamps() {
    Rollout r = collectionWithRollout("copied", 3);
    Collection c = catalog.get("copied");
    List<Backfill.Claimed> claimed = backfill.claim(r, "w", 10, Duration.ofSeconds(30));
    assertThat(claimed).extracting(Backfill.Claimed::sourceText).containsExactly("text 0", "text 1", "text 2");
    assertThat(backfill.complete(r, c.at(r.to()), "w", claimed, vectorsFor(claimed, 3))).isEqualTo(3);
    List<String> ids = List.of("t0", "t1", "t2");
    List<StoredItem> old = items.get(c, ids, false, true);
    List<StoredItem> now = items.get(c.atVersion(2, "v"), ids, true, true);
    assertThat(now).hasSize(3);
    for (int i = 0; i < 3; i++) {
      assertThat(now.get(i).id()).isEqualTo(old.get(i).id());
      assertThat(now.get(i).metadataJson()).isEqualTo(old.get(i).metadataJson()).isEqualTo("{\"i\": " + i + "}");
      assertThat(now.get(i).sourceText()).isEqualTo(old.get(i).sourceText());
      assertThat(now.get(i).createdAt()).isEqualTo(old.get(i).createdAt());
      assertThat(now.get(i).updatedAt()).isEqualTo(old.get(i).updatedAt());
      assertThat(now.get(i).vector()).containsExactly(vec(3, 3));
    }
    assertThat(rollouts.get("copied", r.id()).done()).isEqualTo(3);
  }

  @Test
  void expiredLease_takenOver_firstWorkerWritesNothing() throws Exception {
    Rollout r = collectionWithRollout("leased", 4);
    Collection c = catalog.get("leased");
    List<Backfill.Claimed> first = backfill.claim(r, "dead", 10, Duration.ofMillis(500));
    assertThat(first).hasSize(4);
    assertThat(backfill.claim(r, "other", 10, Duration.ofSeconds(30))).as("leased: nothing to claim").isEmpty();
    Thread.sleep(700);
    List<Backfill.Claimed> second = backfill.claim(r, "survivor", 10, Duration.ofSeconds(30));
    assertThat(second).hasSize(4);
    assertThat(backfill.complete(r, c.at(r.to()), "dead", first, vectorsFor(first, 1))).isZero();
    assertThat(backfill.complete(r, c.at(r.to()), "survivor", second, vectorsFor(second, 2))).isEqualTo(4);
    assertThat(target("leased", List.of("t0", "t1", "t2", "t3")).values()).allSatisfy(v -> assertThat(v[0]).isEqualTo(2f));
  }

  @Test
  void claim_leasesOnlyAChunk_evenWhenStatisticsDescribeAnotherRollout() {
    // statistics taken while the worklist held another rollout's rows only
    Rollout first = collectionWithRollout("stats_first", 3000);
    db.read(c -> {
      try (Statement s = c.createStatement()) {
        s.execute("ANALYZE jointspace.rollout_work");
      }
      return null;
    });
    rollouts.abort("stats_first", first.id());
    Rollout r = collectionWithRollout("stats_second", 3000);
    long t0 = System.nanoTime();
    assertThat(backfill.claim(r, "chunky", 16, Duration.ofSeconds(30))).hasSize(16);
    assertThat(java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(3000);
    long leased = db.read(c -> {
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
          "SELECT count(*) FROM jointspace.rollout_work WHERE leased_by = 'chunky'")) {
        rs.next();
        return rs.getLong(1);
      }
    });
    assertThat(leased).isEqualTo(16);
  }

  @Test
  void concurrentClaims_areDisjoint() throws Exception {
    Rollout r = collectionWithRollout("shared", 200);
    List<Set<String>> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      String worker = "w" + w;
      threads.add(new Thread(() -> {
        Set<String> mine = new HashSet<>();
        List<Backfill.Claimed> got;
        while (!(got = backfill.claim(r, worker, 7, Duration.ofSeconds(30))).isEmpty()) {
          got.forEach(g -> mine.add(g.id()));
        }
        seen.add(mine);
      }));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join();
    }
    Set<String> all = new HashSet<>();
    int total = 0;
    for (Set<String> s : seen) {
      total += s.size();
      all.addAll(s);
    }
    assertThat(total).isEqualTo(200);
    assertThat(all).hasSize(200);
  }

  @Test
  void itemsThatKeepFailing_areListed_failTheRollout_andResumeRetriesThem() {
    Rollout r = collectionWithRollout("failing", 3);
    Collection c = catalog.get("failing");
    for (int attempt = 0; attempt < 2; attempt++) {
      List<Backfill.Claimed> claimed = backfill.claim(rollouts.get("failing", r.id()), "w", 10, Duration.ofSeconds(30));
      List<Backfill.Claimed> good = claimed.stream().filter(x -> !x.id().equals("t1")).toList();
      backfill.complete(r, c.at(r.to()), "w", good, vectorsFor(good, 1));
      backfill.failed(r, "w", Map.of("t1", "bad source"), Duration.ZERO, 2);
    }
    Rollout now = rollouts.get("failing", r.id());
    assertThat(now.failed()).isEqualTo(1);
    assertThat(rollouts.failures(r.id(), 10)).containsExactly(new RolloutStore.Failure("t1", "bad source", 2));
    assertThat(backfill.finish(now, c.at(r.to()))).isEqualTo(Backfill.Finish.FAILED);
    assertThat(rollouts.get("failing", r.id()).state()).isEqualTo(RolloutState.FAILED);
    assertThatThrownBy(() -> rollouts.promote("failing", 0)).hasMessageContaining("FAILED");
    Rollout resumed = rollouts.resume("failing", 0);
    assertThat(resumed.state()).isEqualTo(RolloutState.BACKFILLING);
    assertThat(resumed.remaining()).isEqualTo(1);
    assertThat(backfill.claim(resumed, "w", 10, Duration.ofSeconds(30))).extracting(Backfill.Claimed::id)
        .containsExactly("t1");
  }

  @Test
  void rateLimit_isSharedThroughTheDatabase() {
    Rollout r = collectionWithRollout("limited", 1);
    rollouts.setRate("limited", r.id(), 10);
    // one second of burst, then each 10 items wait a second more
    Duration first = backfill.reserve(r.id(), 10);
    Duration second = backfill.reserve(r.id(), 10);
    Duration third = backfill.reserve(r.id(), 10);
    assertThat(first).isLessThan(Duration.ofMillis(200));
    assertThat(third.minus(second)).isBetween(Duration.ofMillis(800), Duration.ofMillis(1200));
    rollouts.setRate("limited", r.id(), 0);
    assertThat(backfill.reserve(r.id(), 1000)).isZero();
  }

  @Test
  void writePreparedBeforeTheRolloutStarted_isRefusedWhole() {
    catalog.create(new CollectionSpec("stale", "example", 1, 4, Metric.COSINE, VectorType.VECTOR, 16, 64, true, ""));
    Collection before = catalog.get("stale");
    rollouts.start(before, new VersionTable("example", 2, "stale_v2", 3), Unembeddable.FAIL, 0, null, "t", s -> { });
    assertThatThrownBy(() -> items.upsert(before, List.of(new ItemWrite("x", vec(4, 1), "{}", "x", null)), List.of(),
        "items")).isInstanceOf(CollectionChangedException.class);
    assertThatThrownBy(() -> items.delete(before, List.of("x"))).isInstanceOf(CollectionChangedException.class);
    assertThat(items.get(catalog.get("stale"), List.of("x"), false, false)).isEmpty();
    assertThatThrownBy(() -> rollouts.start(catalog.get("stale"), new VersionTable("example", 3, "stale_v3", 3),
        Unembeddable.FAIL, 0, null, "t", s -> { })).isInstanceOf(RolloutExistsException.class);
  }

  static boolean indexValid(String index) {
    return db.read(c -> {
      try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(
          "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('jointspace." + index + "')")) {
        return r.next() && r.getBoolean(1);
      }
    });
  }
}
