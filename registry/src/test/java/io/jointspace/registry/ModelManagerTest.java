package io.jointspace.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The manager runs on one load thread here, so that {@link #drain()} (a no-op queued behind
 * everything already scheduled) tells when no further load or unload is pending.
 */
class ModelManagerTest {
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final Instant NOW = Instant.parse("2025-01-01T00:00:00Z");
  private static final String M = "clip";
  private static final ServableId V1 = new ServableId(M, 1);
  private static final ServableId V2 = new ServableId(M, 2);
  private static final ServableId V3 = new ServableId(M, 3);

  private final FakeLoader loader = new FakeLoader();
  private final ExecutorService executor = Executors.newSingleThreadExecutor();
  private final Map<String, Map<String, Long>> labels = new ConcurrentHashMap<>();
  /** Labels with splits or fallbacks; a model here ignores {@link #labels}. */
  private final Map<String, Map<String, LabelTarget>> targets = new ConcurrentHashMap<>();
  private final List<VersionStatus> events = new CopyOnWriteArrayList<>();
  private final BlockingQueue<VersionStatus> eventQueue = new LinkedBlockingQueue<>();
  private final ModelManager<FakeLoader.Servable> manager =
      new ModelManager<>(
          loader,
          executor,
          RolloutPolicy.availabilityPreserving(),
          name -> targets.getOrDefault(name, targets(labels.getOrDefault(name, Map.of()))),
          Clock.fixed(NOW, ZoneOffset.UTC));

  {
    manager.addListener(events::add);
    manager.addListener(eventQueue::add);
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    manager.close(Duration.ofSeconds(1));
    executor.shutdownNow();
    assertThat(executor.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
  }

  // ---------------------------------------------------------------- helpers

  private static AspiredVersion aspired(ServableId id) {
    return aspired(id, "fp-" + id.version());
  }

  private static AspiredVersion aspired(ServableId id, String fingerprint) {
    return new AspiredVersion(id, Path.of("/models", id.name(), Long.toString(id.version())), fingerprint);
  }

  private void aspire(ServableId... ids) {
    manager.setAspiredVersions(M, Arrays.stream(ids).map(ModelManagerTest::aspired).toList());
  }

  private VersionStatus await(ServableId id, ModelState... states) throws Exception {
    return manager.awaitState(id, WAIT, states);
  }

  private FakeLoader.Servable serving(ServableId id) throws Exception {
    aspire(id);
    await(id, ModelState.AVAILABLE);
    try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.version(M, id.version()))) {
      return h.get();
    }
  }

  /** Returns once everything scheduled on the load thread so far has run. */
  private void drain() throws Exception {
    executor.submit(() -> {}).get(5, TimeUnit.SECONDS);
  }

  private ModelState stateOf(ServableId id) {
    return manager.allVersions().stream()
        .filter(s -> s.id().equals(id))
        .map(VersionStatus::state)
        .findFirst()
        .orElse(null);
  }

  private void awaitEvent(ServableId id, ModelState state) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      VersionStatus s = eventQueue.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (s == null) {
        throw new AssertionError("no " + state + " event for " + id + "; saw " + events);
      }
      if (s.id().equals(id) && s.state() == state) {
        return;
      }
    }
  }

  // ---------------------------------------------------------------- loading

  @Test
  void newVersion_isLoadedAndBecomesAvailable() throws Exception {
    aspire(V1);

    VersionStatus status = await(V1, ModelState.AVAILABLE);

    assertThat(status).isEqualTo(new VersionStatus(V1, ModelState.AVAILABLE, NOW, ""));
    assertThat(loader.loads).containsExactly(V1);
    assertThat(manager.modelNames()).containsExactly(M);
    assertThat(manager.isAvailable(M)).isTrue();
    assertThat(manager.availableVersions(M)).containsExactly(1L);
    assertThat(manager.status(M)).containsExactly(status);
    try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.latest(M))) {
      assertThat(h.id()).isEqualTo(V1);
      assertThat(h.get().id).isEqualTo(V1);
    }
  }

  @Test
  void loaderReceivesTheAspiredVersionWithItsPath() throws Exception {
    AspiredVersion a = aspired(V1);
    List<AspiredVersion> seen = new CopyOnWriteArrayList<>();
    ModelManager<String> m =
        new ModelManager<>(
            new ServableLoader<>() {
              @Override
              public String load(AspiredVersion version) {
                seen.add(version);
                return "loaded";
              }

              @Override
              public void unload(String servable) {}
            },
            executor,
            RolloutPolicy.availabilityPreserving(),
            name -> Map.of(),
            Clock.systemUTC());

    m.setAspiredVersions(M, List.of(a));
    m.awaitState(V1, WAIT, ModelState.AVAILABLE);

    assertThat(seen).containsExactly(a);
    m.close();
  }

  @Test
  void versionBeingLoaded_isUnavailable_namingItsState() throws Exception {
    CountDownLatch gate = loader.block(V1);
    aspire(V1);
    await(V1, ModelState.LOADING);

    assertThatThrownBy(() -> manager.acquire(ModelRequest.latest(M)))
        .isInstanceOf(ModelUnavailableException.class)
        .hasMessageContaining("'clip'")
        .hasMessageContaining("no AVAILABLE version")
        .hasMessageContaining("1 LOADING");
    assertThatThrownBy(() -> manager.acquire(ModelRequest.version(M, 1)))
        .isInstanceOf(ModelUnavailableException.class)
        .hasMessageContaining("clip@1 is LOADING");
    assertThat(manager.isAvailable(M)).isFalse();
    assertThat(manager.modelNames()).containsExactly(M);

    gate.countDown();
    await(V1, ModelState.AVAILABLE);
    manager.acquire(ModelRequest.latest(M)).close();
  }

  @Test
  void failingLoad_givesErrorWithTheReason_andDoesNotDisturbOtherVersions() throws Exception {
    loader.fail(V2, "no saved_model.pb in /models/clip/2");
    aspire(V1, V2);

    VersionStatus failed = await(V2, ModelState.ERROR);
    await(V1, ModelState.AVAILABLE);

    // paths start at the model's folder: where the server keeps its files is in its log only
    assertThat(failed.lastError()).isEqualTo("no saved_model.pb in clip/2");
    assertThat(manager.status(M))
        .extracting(VersionStatus::id, VersionStatus::state)
        .containsExactly(
            tuple(V2, ModelState.ERROR),
            tuple(V1, ModelState.AVAILABLE));
    try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.latest(M))) {
      assertThat(h.id()).isEqualTo(V1);
    }
    assertThatThrownBy(() -> manager.acquire(ModelRequest.version(M, 2)))
        .isInstanceOf(ModelUnavailableException.class)
        .hasMessageContaining("clip@2 is ERROR")
        .hasMessageNotContaining("/models")
        .satisfies(e -> assertThat(((ModelUnavailableException) e).detail()).isEqualTo("no saved_model.pb in clip/2"));
  }

  @Test
  void loadThrowingWithoutMessage_isReportedByExceptionType() throws Exception {
    ModelManager<String> m =
        new ModelManager<>(
            new ServableLoader<>() {
              @Override
              public String load(AspiredVersion version) {
                throw new UnsupportedOperationException();
              }

              @Override
              public void unload(String servable) {}
            },
            executor,
            RolloutPolicy.availabilityPreserving(),
            name -> Map.of(),
            Clock.systemUTC());

    m.setAspiredVersions(M, List.of(aspired(V1)));

    assertThat(m.awaitState(V1, WAIT, ModelState.ERROR).lastError())
        .isEqualTo("UnsupportedOperationException");
    m.close();
  }

  // ---------------------------------------------------------------- acquiring

  @Test
  void acquireLatest_picksTheHighestAvailableVersion() throws Exception {
    CountDownLatch gate = loader.block(V3);
    aspire(V1, V2, V3); // loads run in this order on the one load thread
    await(V1, ModelState.AVAILABLE);
    await(V2, ModelState.AVAILABLE);
    await(V3, ModelState.LOADING);

    try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.latest(M))) {
      assertThat(h.id()).isEqualTo(V2);
      assertThat(h.get().id).isEqualTo(V2);
    }

    gate.countDown();
    await(V3, ModelState.AVAILABLE);
    try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.latest(M))) {
      assertThat(h.id()).isEqualTo(V3);
    }
    assertThat(manager.availableVersions(M)).containsExactly(3L, 2L, 1L);
  }

  @Test
  void acquireByVersion_leasesThatVersion() throws Exception {
    aspire(V1, V2);
    await(V1, ModelState.AVAILABLE);
    await(V2, ModelState.AVAILABLE);

    try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.version(M, 1))) {
      assertThat(h.id()).isEqualTo(V1);
      assertThat(h.get().id).isEqualTo(V1);
    }
  }

  @Test
  void acquireByLabel_leasesTheVersionTheLabelPointsAt_readOnEveryRequest() throws Exception {
    labels.put(M, Map.of("stable", 1L, "canary", 2L));
    aspire(V1, V2);
    await(V1, ModelState.AVAILABLE);
    await(V2, ModelState.AVAILABLE);

    try (ModelHandle<FakeLoader.Servable> stable = manager.acquire(ModelRequest.label(M, "stable"));
        ModelHandle<FakeLoader.Servable> canary = manager.acquire(ModelRequest.label(M, "canary"))) {
      assertThat(stable.id()).isEqualTo(V1);
      assertThat(canary.id()).isEqualTo(V2);
    }

    labels.put(M, Map.of("stable", 2L));
    try (ModelHandle<FakeLoader.Servable> stable = manager.acquire(ModelRequest.label(M, "stable"))) {
      assertThat(stable.id()).isEqualTo(V2);
    }
    assertThat(manager.labels(M)).isEqualTo(Map.of("stable", LabelTarget.version(2)));
  }

  @Test
  void labelWithASplit_sendsCallsByWeight_andARoutingKeyAlwaysToTheSameVersion() throws Exception {
    targets.put(M, Map.of("canary", LabelTarget.split(Map.of(1L, 80, 2L, 20))));
    aspire(V1, V2);
    await(V1, ModelState.AVAILABLE);
    await(V2, ModelState.AVAILABLE);
    int toV2 = 0;
    for (int i = 0; i < 2000; i++) {
      try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.label(M, "canary"))) {
        toV2 += h.id().equals(V2) ? 1 : 0;
      }
    }
    assertThat(toV2).as("calls to version 2 of 2000 at 20%").isBetween(340, 460);
    for (String key : new String[] {"user-1", "user-2", "user-3", "a much longer routing key"}) {
      ServableId first;
      try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.label(M, "canary").withRoutingKey(key))) {
        first = h.id();
      }
      for (int i = 0; i < 20; i++) {
        try (ModelHandle<FakeLoader.Servable> h =
            manager.acquire(ModelRequest.label(M, "canary").withRoutingKey(key))) {
          assertThat(h.id()).as(key).isEqualTo(first);
        }
      }
    }
  }

  @Test
  void labelMovedOntoALoadingVersion_keepsItsOldTargetUntilTheNewOneIsAvailable() throws Exception {
    serving(V1);
    CountDownLatch gate = loader.block(V2);
    targets.put(M, Map.of("stable", LabelTarget.version(2).withFallback(LabelTarget.version(1))));
    aspire(V1, V2);
    await(V2, ModelState.LOADING);
    try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.label(M, "stable"))) {
      assertThat(h.id()).isEqualTo(V1);
    }
    gate.countDown();
    await(V2, ModelState.AVAILABLE);
    try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.label(M, "stable"))) {
      assertThat(h.id()).isEqualTo(V2);
    }
  }

  @Test
  void unknownModel_isNotFound_namingItAndTheKnownModels() throws Exception {
    serving(V1);

    assertThatThrownBy(() -> manager.acquire(ModelRequest.latest("nope")))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("'nope'")
        .hasMessageContaining("[clip]");
    assertThatThrownBy(() -> manager.status("nope"))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("'nope'");
  }

  @Test
  void unknownVersion_isNotFound_namingTheModelAndTheVersion() throws Exception {
    serving(V1);

    assertThatThrownBy(() -> manager.acquire(ModelRequest.version(M, 9)))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("'clip'")
        .hasMessageContaining("no version 9")
        .hasMessageContaining("1 AVAILABLE");
  }

  @Test
  void unknownLabel_isNotFound_namingTheLabelAndTheLabelsThereAre() throws Exception {
    labels.put(M, Map.of("stable", 1L));
    serving(V1);

    assertThatThrownBy(() -> manager.acquire(ModelRequest.label(M, "canary")))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("'clip'")
        .hasMessageContaining("'canary'")
        .hasMessageContaining("stable=1");
  }

  @Test
  void labelPointingAtAMissingVersion_isNotFound_namingTheVersionAndTheLabel() throws Exception {
    labels.put(M, Map.of("canary", 7L));
    serving(V1);

    assertThatThrownBy(() -> manager.acquire(ModelRequest.label(M, "canary")))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("no version 7")
        .hasMessageContaining("label 'canary'");
  }

  // ---------------------------------------------------------------- rollouts

  @Test
  void unaspiredVersion_isUnloadedAfterNewOneIsAvailable() throws Exception {
    FakeLoader.Servable old = serving(V1);
    CountDownLatch gate = loader.block(V2);

    aspire(V2);
    await(V2, ModelState.LOADING);

    assertThat(stateOf(V1)).isEqualTo(ModelState.AVAILABLE);
    try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.latest(M))) {
      assertThat(h.id()).isEqualTo(V1);
    }
    assertThat(loader.unloaded).isEmpty();

    gate.countDown();
    await(V2, ModelState.AVAILABLE);
    await(V1, ModelState.END);

    assertThat(loader.unloaded).containsExactly(V1);
    assertThat(old.unloads).hasValue(1);
    try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.latest(M))) {
      assertThat(h.id()).isEqualTo(V2);
    }
    assertThatThrownBy(() -> manager.acquire(ModelRequest.version(M, 1)))
        .isInstanceOf(ModelNotFoundException.class);
  }

  @Test
  void newVersionThatFailsToLoad_leavesTheOldOneServing() throws Exception {
    serving(V1);
    loader.fail(V2, "bad graph");

    aspire(V2);
    await(V2, ModelState.ERROR);
    drain();

    assertThat(stateOf(V1)).isEqualTo(ModelState.AVAILABLE);
    assertThat(loader.unloaded).isEmpty();
    try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.latest(M))) {
      assertThat(h.id()).isEqualTo(V1);
    }
  }

  @Test
  void versionLeavingWhileItLoads_servesUntilItsReplacementIsAvailable() throws Exception {
    CountDownLatch gate = loader.block(V1);
    aspire(V1);
    await(V1, ModelState.LOADING);

    aspire(V2); // its load waits behind V1's on the one load thread
    gate.countDown();

    await(V2, ModelState.AVAILABLE);
    await(V1, ModelState.END);
    assertThat(loader.loads).containsExactly(V1, V2);
    assertThat(loader.unloaded).containsExactly(V1);
  }

  @Test
  void unaspiredErrorVersion_endsAtOnce() throws Exception {
    loader.fail(V1, "broken");
    aspire(V1);
    await(V1, ModelState.ERROR);

    aspire(V2);

    assertThat(stateOf(V1)).isEqualTo(ModelState.END);
    await(V2, ModelState.AVAILABLE);
  }

  @Test
  void unaspiredVersionWithAnOpenHandle_isUnloadingAndUnloadedOnlyAfterTheHandleCloses()
      throws Exception {
    serving(V1);
    ModelHandle<FakeLoader.Servable> held = manager.acquire(ModelRequest.latest(M));

    aspire(V2);
    await(V2, ModelState.AVAILABLE);
    await(V1, ModelState.UNLOADING);
    drain();

    assertThat(stateOf(V1)).isEqualTo(ModelState.UNLOADING);
    assertThat(loader.unloaded).isEmpty();
    assertThat(held.get().id).isEqualTo(V1);
    held.get().use();
    assertThatThrownBy(() -> manager.acquire(ModelRequest.version(M, 1)))
        .isInstanceOf(ModelUnavailableException.class)
        .hasMessageContaining("clip@1 is UNLOADING");
    try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.latest(M))) {
      assertThat(h.id()).isEqualTo(V2);
    }

    held.close();

    await(V1, ModelState.END);
    assertThat(loader.unloaded).containsExactly(V1);
  }

  @Test
  void handleClose_isIdempotent() throws Exception {
    serving(V1);
    ModelHandle<FakeLoader.Servable> first = manager.acquire(ModelRequest.latest(M));
    ModelHandle<FakeLoader.Servable> second = manager.acquire(ModelRequest.latest(M));
    aspire(V2);
    await(V1, ModelState.UNLOADING);

    first.close();
    first.close();
    first.close();
    drain();

    assertThat(stateOf(V1)).as("second handle still open").isEqualTo(ModelState.UNLOADING);
    assertThat(loader.unloaded).isEmpty();
    second.get().use();

    second.close();
    await(V1, ModelState.END);
    second.close();
    drain();
    assertThat(loader.unloaded).containsExactly(V1);
    assertThat(loader.unloadedTwice).hasValue(0);
  }

  @Test
  void closedHandle_refusesGet() throws Exception {
    serving(V1);
    ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.latest(M));

    h.close();

    assertThat(h.id()).isEqualTo(V1);
    assertThatThrownBy(h::get)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("clip@1")
        .hasMessageContaining("closed");
  }

  @Test
  void versionAspiredAgainWhileUnloading_isLoadedAgainOnceUnloaded() throws Exception {
    serving(V1);
    ModelHandle<FakeLoader.Servable> held = manager.acquire(ModelRequest.latest(M));
    aspire(V2);
    await(V2, ModelState.AVAILABLE);
    await(V1, ModelState.UNLOADING);

    aspire(V1); // roll back while a call still holds the old version
    drain();
    assertThat(stateOf(V2)).as("serves until V1 is back").isEqualTo(ModelState.AVAILABLE);

    held.close();

    await(V1, ModelState.AVAILABLE);
    await(V2, ModelState.END);
    assertThat(loader.loadCount(V1)).isEqualTo(2);
    try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.latest(M))) {
      assertThat(h.id()).isEqualTo(V1);
      h.get().use();
    }
  }

  @Test
  void endedVersion_isLoadedAgainWhenAspiredAgain() throws Exception {
    serving(V1);
    aspire(V2);
    await(V1, ModelState.END);

    aspire(V1);

    await(V1, ModelState.AVAILABLE);
    await(V2, ModelState.END);
    assertThat(loader.loadCount(V1)).isEqualTo(2);
  }

  // ---------------------------------------------------------------- retries

  @Test
  void errorVersion_isLoadedAgainWhenItsFingerprintChanges() throws Exception {
    loader.fail(V1, "half copied");
    manager.setAspiredVersions(M, List.of(aspired(V1, "a")));
    await(V1, ModelState.ERROR);

    loader.succeed(V1);
    manager.setAspiredVersions(M, List.of(aspired(V1, "b")));

    VersionStatus status = await(V1, ModelState.AVAILABLE);
    assertThat(status.lastError()).isEmpty();
    assertThat(loader.loadCount(V1)).isEqualTo(2);
  }

  @Test
  void errorVersion_isNotLoadedAgainWithTheSameFingerprint() throws Exception {
    loader.fail(V1, "half copied");
    manager.setAspiredVersions(M, List.of(aspired(V1, "a")));
    await(V1, ModelState.ERROR);

    loader.succeed(V1);
    manager.setAspiredVersions(M, List.of(aspired(V1, "a")));
    drain();

    assertThat(stateOf(V1)).isEqualTo(ModelState.ERROR);
    assertThat(loader.loadCount(V1)).isEqualTo(1);
  }

  @Test
  void availableVersion_isNotLoadedAgainWhenReportedAgain() throws Exception {
    serving(V1);

    manager.setAspiredVersions(M, List.of(aspired(V1, "changed")));
    drain();

    assertThat(loader.loadCount(V1)).isEqualTo(1);
    assertThat(stateOf(V1)).isEqualTo(ModelState.AVAILABLE);
  }

  // ---------------------------------------------------------------- leaving

  @Test
  void modelWhoseVersionsAllLeave_disappears() throws Exception {
    serving(V1);
    manager.setAspiredVersions("other", List.of(aspired(new ServableId("other", 1))));
    manager.awaitState(new ServableId("other", 1), WAIT, ModelState.AVAILABLE);

    manager.setAspiredVersions(M, List.of());

    assertThat(manager.modelNames()).containsExactly("other");
    assertThatThrownBy(() -> manager.acquire(ModelRequest.latest(M)))
        .isInstanceOf(ModelNotFoundException.class)
        .hasMessageContaining("'clip'")
        .hasMessageContaining("[other]");
    manager.awaitSettled(WAIT);
    assertThat(loader.unloaded).containsExactly(V1);
    assertThat(manager.allVersions()).extracting(VersionStatus::id).containsExactly(new ServableId("other", 1));
    assertThat(manager.isAvailable(M)).isFalse();
    assertThat(manager.availableVersions(M)).isEmpty();
  }

  @Test
  void modelThatLeavesAndComesBack_isServedAgain() throws Exception {
    serving(V1);
    manager.setAspiredVersions(M, List.of());
    manager.awaitSettled(WAIT);

    aspire(V1);

    await(V1, ModelState.AVAILABLE);
    assertThat(manager.modelNames()).containsExactly(M);
    assertThat(loader.loadCount(V1)).isEqualTo(2);
  }

  @Test
  void close_unloadsEverything() throws Exception {
    loader.fail(V3, "broken");
    aspire(V1, V2, V3);
    manager.setAspiredVersions("other", List.of(aspired(new ServableId("other", 5))));
    manager.awaitSettled(WAIT);

    manager.close();

    assertThat(loader.unloaded)
        .containsExactlyInAnyOrder(V1, V2, new ServableId("other", 5));
    assertThat(loader.created).allSatisfy(s -> assertThat(s.unloads).hasValue(1));
    assertThat(manager.modelNames()).isEmpty();
    assertThat(manager.allVersions()).isEmpty();
    assertThatThrownBy(() -> manager.acquire(ModelRequest.latest(M)))
        .isInstanceOf(ModelNotFoundException.class);
  }

  @Test
  void close_waitsForOpenHandles_thenUnloadsRegardless() throws Exception {
    serving(V1);
    ModelHandle<FakeLoader.Servable> held = manager.acquire(ModelRequest.latest(M));

    manager.close(Duration.ofMillis(50));

    assertThat(loader.unloaded).containsExactly(V1);
    held.close();
    drain();
    assertThat(loader.unloadedTwice).hasValue(0);
  }

  @Test
  void close_letsALoadInFlightFinish_thenUnloadsIt() throws Exception {
    CountDownLatch gate = loader.block(V1);
    aspire(V1);
    await(V1, ModelState.LOADING);

    Thread releaser = new Thread(gate::countDown);
    releaser.start();
    manager.close(WAIT);
    releaser.join();

    assertThat(loader.unloaded).containsExactly(V1);
    assertThat(manager.allVersions()).isEmpty();
  }

  @Test
  void afterClose_aspiredVersionsAreIgnored() throws Exception {
    manager.close();

    aspire(V1);
    drain();

    assertThat(loader.loads).isEmpty();
    assertThat(manager.modelNames()).isEmpty();
  }

  @Test
  void awaitState_timesOut_sayingWhereTheVersionIs() throws Exception {
    CountDownLatch gate = loader.block(V1);
    aspire(V1);
    await(V1, ModelState.LOADING);

    assertThatThrownBy(() -> manager.awaitState(V1, Duration.ofMillis(20), ModelState.AVAILABLE))
        .isInstanceOf(TimeoutException.class)
        .hasMessageContaining("clip@1")
        .hasMessageContaining("LOADING");
    gate.countDown();
  }

  // ---------------------------------------------------------------- listeners

  @Test
  void listeners_seeEveryStateInOrder() throws Exception {
    aspire(V1);
    awaitEvent(V1, ModelState.AVAILABLE); // published after the state is set: wait for the event

    manager.setAspiredVersions(M, List.of());
    awaitEvent(V1, ModelState.END);

    assertThat(events)
        .filteredOn(s -> s.id().equals(V1))
        .extracting(VersionStatus::state)
        .containsExactly(
            ModelState.NEW,
            ModelState.LOADING,
            ModelState.AVAILABLE,
            ModelState.UNLOADING,
            ModelState.END);
    assertThat(events).allSatisfy(s -> assertThat(s.since()).isEqualTo(NOW));
  }

  @Test
  void listeners_seeAFailedLoadWithItsReason() throws Exception {
    loader.fail(V1, "boom");
    aspire(V1);
    awaitEvent(V1, ModelState.ERROR);

    assertThat(events)
        .extracting(VersionStatus::state)
        .containsExactly(ModelState.NEW, ModelState.LOADING, ModelState.ERROR);
    assertThat(events.get(2).lastError()).isEqualTo("boom");
  }

  @Test
  void failingListener_doesNotStopLoadingNorOtherListeners() throws Exception {
    manager.addListener(
        s -> {
          throw new IllegalStateException("listener bug");
        });

    aspire(V1);

    await(V1, ModelState.AVAILABLE);
    awaitEvent(V1, ModelState.AVAILABLE);
  }

  /** Labels as the manager takes them: each to one version. */
  static Map<String, LabelTarget> targets(Map<String, Long> labels) {
    Map<String, LabelTarget> out = new java.util.HashMap<>();
    labels.forEach((label, version) -> out.put(label, LabelTarget.version(version)));
    return out;
  }
}
