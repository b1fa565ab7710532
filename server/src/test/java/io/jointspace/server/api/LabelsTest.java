package io.jointspace.server.api;

import static io.jointspace.server.api.EmbeddingServiceTest.assertStatus;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.jointspace.api.v1.DeleteLabelRequest;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.GetModelStatusRequest;
import io.jointspace.api.v1.GetModelStatusResponse;
import io.jointspace.api.v1.LabelChange;
import io.jointspace.api.v1.LabelTarget;
import io.jointspace.api.v1.ListLabelHistoryRequest;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.SetLabelRequest;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.registry.ModelState;
import io.jointspace.registry.ServableId;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Labels moved at run time, black-box over gRPC: two servers share one PostgreSQL and agree,
 * calls through a label never fail while it moves, splits send calls by weight and keep a
 * routing key on one version, changes survive a restart and are recorded, bad changes change
 * nothing. Model "encoder": versions 1-3 load, 4 is broken; "stable" is configured at 1.
 */
class LabelsTest {
  @TempDir static Path repo;
  private final List<ServerFixture> servers = new ArrayList<>();

  @BeforeAll
  static void writeModels() throws Exception {
    for (int v = 1; v <= 3; v++) {
      TestModels.writeEncoder(repo.resolve("encoder/" + v), v);
    }
    TestModels.writeBroken(repo.resolve("encoder/4"));
  }

  @AfterEach
  void stopServers() throws Exception {
    for (ServerFixture f : servers) {
      f.close();
    }
  }

  ServerFixture server(DatabaseUrl db) throws Exception {
    return server(db, -1);
  }

  ServerFixture server(DatabaseUrl db, int metricsPort) throws Exception {
    ServerConfig.Builder config = ServerConfig.newBuilder().setMetricsPort(metricsPort);
    com.google.protobuf.TextFormat.merge("""
        models { name: "encoder" version_policy { all {} } version_labels { key: "stable" value: 1 } }
        """, config);
    if (db != null) {
      config.getStorageBuilder().setDatabaseUrl(TestDatabase.configUrl(db));
    }
    ServerFixture f = ServerFixture.start(config, repo);
    f.server.registry().awaitState(new ServableId("encoder", 4), Duration.ofSeconds(60), ModelState.ERROR);
    servers.add(f);
    return f;
  }

  static ModelServiceGrpc.ModelServiceBlockingStub models(ServerFixture f) {
    return ModelServiceGrpc.newBlockingStub(f.channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** The version that answers an Embed through {@code label}. */
  static long versionVia(ServerFixture f, String label, String routingKey) {
    ModelSpec spec = ModelSpec.newBuilder().setName("encoder").setLabel(label).setRoutingKey(routingKey).build();
    return EmbeddingServiceGrpc.newBlockingStub(f.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .embed(EmbeddingServiceTest.request(spec, EmbeddingServiceTest.row(1, 2, 3, 4))).getModel().getVersion();
  }

  static SetLabelRequest.Builder set(String label, long version) {
    return SetLabelRequest.newBuilder().setModel("encoder").setLabel(label).setVersion(version);
  }

  static LabelTarget one(long version) {
    return LabelTarget.newBuilder().putWeights(version, 1).build();
  }

  @Test
  void labelSetOnOneServer_isFollowedByAnotherOnTheSameDatabase_andSurvivesRestarts() throws Exception {
    DatabaseUrl db = TestDatabase.fresh();
    ServerFixture a = server(db);
    ServerFixture b = server(db);
    LabelChange change = models(a).setLabel(set("canary", 2).setChangedBy("alice").build());
    assertThat(change.hasFrom()).isFalse();
    assertThat(change.getTo()).isEqualTo(one(2));
    assertThat(change.getChangedBy()).isEqualTo("alice");
    assertThat(versionVia(a, "canary", "")).isEqualTo(2);
    long start = System.nanoTime();
    while (true) {
      try {
        if (versionVia(b, "canary", "") == 2) {
          break;
        }
      } catch (io.grpc.StatusRuntimeException notYet) {
        assertThat(notYet.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
      }
      assertThat(System.nanoTime() - start).as("the second server follows within a second")
          .isLessThan(TimeUnit.SECONDS.toNanos(1));
      Thread.sleep(20);
    }

    for (ServerFixture f : servers) {
      f.close();
    }
    servers.clear();
    ServerFixture c = server(db);
    assertThat(versionVia(c, "canary", "")).isEqualTo(2);
    GetModelStatusResponse status = models(c).getModelStatus(GetModelStatusRequest.newBuilder().setName("encoder").build());
    assertThat(status.getLabelsList()).extracting(l -> l.getName()).containsExactly("canary", "stable");
    assertThat(status.getLabels(0).getTarget()).isEqualTo(one(2));
    assertThat(status.getLabels(0).getLastChange().getChangedBy()).isEqualTo("alice");
    assertThat(status.getLabels(1).hasLastChange()).as("stable is as configured").isFalse();
  }

  @Test
  void movingALabelUnderContinuousTraffic_failsNoCall_andSwitchesVersionsExactlyOnce() throws Exception {
    DatabaseUrl db = TestDatabase.fresh();
    ServerFixture a = server(db);
    ServerFixture b = server(db);
    List<Long> seen = new CopyOnWriteArrayList<>();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    AtomicBoolean stop = new AtomicBoolean();
    Thread caller = new Thread(() -> {
      while (!stop.get()) {
        try {
          seen.add(versionVia(b, "stable", ""));
        } catch (RuntimeException e) {
          failures.add(e);
        }
      }
    });
    caller.start();
    while (seen.size() < 20) {
      Thread.sleep(10);
    }
    models(a).setLabel(set("stable", 2).build());
    long switchedBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while ((seen.isEmpty() || seen.get(seen.size() - 1) != 2) && System.nanoTime() < switchedBy) {
      Thread.sleep(10);
    }
    int at = seen.size();
    while (seen.size() < at + 20) {
      Thread.sleep(10);
    }
    stop.set(true);
    caller.join();
    assertThat(failures).isEmpty();
    int switches = 0;
    for (int i = 1; i < seen.size(); i++) {
      switches += seen.get(i).equals(seen.get(i - 1)) ? 0 : 1;
    }
    assertThat(seen.get(0)).isEqualTo(1);
    assertThat(seen.get(seen.size() - 1)).isEqualTo(2);
    assertThat(switches).as("versions seen: %s", seen).isEqualTo(1);
  }

  @Test
  void split_sendsCallsByWeight_andARoutingKeyAlwaysToTheSameVersion() throws Exception {
    int metricsPort = ServerFixture.freePort();
    ServerFixture a = server(TestDatabase.fresh(), metricsPort);
    models(a).setLabel(SetLabelRequest.newBuilder().setModel("encoder").setLabel("canary")
        .setSplit(LabelTarget.newBuilder().putWeights(1, 80).putWeights(2, 20)).build());
    int toTwo = 0;
    for (int i = 0; i < 1000; i++) {
      toTwo += versionVia(a, "canary", "") == 2 ? 1 : 0;
    }
    assertThat(toTwo).as("calls to version 2 of 1000 at 20%").isBetween(160, 240);
    Map<String, Long> first = new HashMap<>();
    for (int round = 0; round < 5; round++) {
      for (int k = 0; k < 20; k++) {
        long v = versionVia(a, "canary", "user-" + k);
        assertThat(first.putIfAbsent("user-" + k, v)).as("user-" + k).isIn(null, v);
      }
    }
    assertThat(first.values()).contains(1L);
    String metrics = MetricsTest.get(metricsPort, "/metrics").body();
    double one = MetricsTest.value(metrics, "jointspace_model_requests_total", "label=\"canary\"", "version=\"1\"");
    double two = MetricsTest.value(metrics, "jointspace_model_requests_total", "label=\"canary\"", "version=\"2\"");
    assertThat(one + two).as("calls through canary, per version").isEqualTo(1100);
    assertThat(two).isGreaterThanOrEqualTo(toTwo);
    GetModelStatusResponse status = models(a).getModelStatus(GetModelStatusRequest.newBuilder().setName("encoder").build());
    assertThat(status.getLabelsList()).filteredOn(l -> l.getName().equals("canary")).singleElement()
        .satisfies(l -> assertThat(l.getTarget().getWeightsMap()).containsExactlyInAnyOrderEntriesOf(Map.of(1L, 80, 2L, 20)));
  }

  @Test
  void badChanges_areRefusedWithTheRightCode_andChangeNothing() throws Exception {
    ServerFixture a = server(TestDatabase.fresh());
    assertStatus(() -> models(a).setLabel(set("stable", 9).build()), Status.Code.NOT_FOUND, "no version 9");
    assertStatus(() -> models(a).setLabel(set("stable", 4).build()), Status.Code.FAILED_PRECONDITION, "ERROR");
    assertStatus(() -> models(a).setLabel(SetLabelRequest.newBuilder().setModel("encoder").setLabel("stable")
        .setSplit(LabelTarget.newBuilder().putWeights(1, 0)).build()), Status.Code.INVALID_ARGUMENT, "split.weights");
    assertStatus(() -> models(a).setLabel(set("stable", 1).setModel("nope").build()), Status.Code.NOT_FOUND, "nope");
    assertStatus(() -> models(a).setLabel(set("", 1).build()), Status.Code.INVALID_ARGUMENT, "label is empty");
    assertStatus(() -> models(a).deleteLabel(DeleteLabelRequest.newBuilder().setModel("encoder").setLabel("ghost")
        .build()), Status.Code.NOT_FOUND, "ghost");
    assertThat(models(a).listLabelHistory(ListLabelHistoryRequest.newBuilder().setModel("encoder").build())
        .getChangesList()).isEmpty();
    assertThat(versionVia(a, "stable", "")).isEqualTo(1);
  }

  @Test
  void history_recordsEveryChangeInOrder_andADeletedLabelStaysDeleted() throws Exception {
    DatabaseUrl db = TestDatabase.fresh();
    ServerFixture a = server(db);
    models(a).setLabel(set("stable", 2).setChangedBy("ops").build());
    models(a).setLabel(set("stable", 3).setChangedBy("ops").build());
    models(a).deleteLabel(DeleteLabelRequest.newBuilder().setModel("encoder").setLabel("stable").build());
    List<LabelChange> history = models(a).listLabelHistory(ListLabelHistoryRequest.newBuilder().setModel("encoder")
        .setLabel("stable").build()).getChangesList();
    assertThat(history).hasSize(3);
    assertThat(history.get(0).getFrom()).as("from the configured value").isEqualTo(one(1));
    assertThat(history.get(0).getTo()).isEqualTo(one(2));
    assertThat(history.get(1).getFrom()).isEqualTo(one(2));
    assertThat(history.get(1).getTo()).isEqualTo(one(3));
    assertThat(history.get(2).getFrom()).isEqualTo(one(3));
    assertThat(history.get(2).hasTo()).isFalse();
    assertThat(history.get(2).getChangedBy()).as("the caller's address").contains("127.0.0.1");
    assertStatus(() -> versionVia(a, "stable", ""), Status.Code.NOT_FOUND, "no label 'stable'");

    servers.remove(a);
    a.close();
    ServerFixture b = server(db);
    assertStatus(() -> versionVia(b, "stable", ""), Status.Code.NOT_FOUND, "no label 'stable'");
  }

  @Test
  void withoutADatabase_labelsMoveInMemory() throws Exception {
    ServerFixture a = server(null);
    models(a).setLabel(set("stable", 3).build());
    assertThat(versionVia(a, "stable", "")).isEqualTo(3);
    assertThat(models(a).listLabelHistory(ListLabelHistoryRequest.newBuilder().setModel("encoder").build())
        .getChangesList()).hasSize(1);
  }
}
