package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.v1.DataType;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.Tensor;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.registry.ModelHandle;
import io.jointspace.registry.ModelRequest;
import io.jointspace.registry.ModelState;
import io.jointspace.registry.ServableId;
import io.jointspace.server.runtime.ModelVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Versions and models that come and go while the server runs. */
class LiveRepositoryTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path repo;

  static EmbedRequest embed(String model) {
    return EmbedRequest.newBuilder()
        .setModel(ModelSpec.newBuilder().setName(model))
        .addInputs(Input.newBuilder().setTensor(Tensor.newBuilder().setDtype(DataType.FP32).addShape(4)
            .addFloatVal(1).addFloatVal(2).addFloatVal(3).addFloatVal(4)))
        .build();
  }

  static void deleteTree(Path dir) throws Exception {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Test
  void versionsAddedAndRemovedUnderLoad_noCallFails() throws Exception {
    TestModels.writeEncoder(repo.resolve("encoder/1"), 1f);
    ServerConfig.Builder config = ServerConfig.newBuilder();
    config.getModelRepositoryBuilder().setPollIntervalMs(100); // the real poller, not rescan()
    try (ServerFixture f = ServerFixture.start(config, repo)) {
      var stub = EmbeddingServiceGrpc.newBlockingStub(f.channel);
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicInteger ok = new AtomicInteger();
      Map<Long, AtomicInteger> byVersion = new ConcurrentHashMap<>();
      List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
      ExecutorService callers = Executors.newFixedThreadPool(4);
      List<Future<?>> loops = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        loops.add(callers.submit(() -> {
          while (running.get()) {
            try {
              EmbedResponse r = stub.withDeadlineAfter(30, TimeUnit.SECONDS).embed(embed("encoder"));
              byVersion.computeIfAbsent(r.getModel().getVersion(), v -> new AtomicInteger()).incrementAndGet();
              ok.incrementAndGet();
            } catch (StatusRuntimeException e) {
              failures.add(e);
            }
          }
        }));
      }
      var registry = f.server.registry();
      for (int round = 0; round < 2; round++) {
        TestModels.writeEncoder(repo.resolve("encoder/2"), 2f); // written in place, file by file
        registry.awaitState(new ServableId("encoder", 2), WAIT, ModelState.AVAILABLE);
        registry.awaitState(new ServableId("encoder", 1), WAIT, ModelState.END);
        deleteTree(repo.resolve("encoder/2"));
        registry.awaitState(new ServableId("encoder", 1), WAIT, ModelState.AVAILABLE);
        registry.awaitState(new ServableId("encoder", 2), WAIT, ModelState.END);
      }
      running.set(false);
      for (Future<?> loop : loops) {
        loop.get(60, TimeUnit.SECONDS);
      }
      callers.shutdown();
      assertThat(failures).isEmpty();
      assertThat(ok.get()).isGreaterThan(20);
      assertThat(byVersion.keySet()).contains(1L, 2L);
    }
  }

  @Test
  void unaspiredVersion_isUnloadedOnlyAfterItsLastCallFinishes() throws Exception {
    TestModels.writeEncoder(repo.resolve("encoder/1"), 1f);
    try (ServerFixture f = ServerFixture.start(repo)) {
      var registry = f.server.registry();
      try (ModelHandle<ModelVersion> inFlight = registry.acquire(ModelRequest.latest("encoder"))) {
        assertThat(inFlight.id().version()).isEqualTo(1);
        TestModels.writeEncoder(repo.resolve("encoder/2"), 2f);
        f.server.rescan();
        registry.awaitState(new ServableId("encoder", 2), WAIT, ModelState.AVAILABLE);
        registry.awaitState(new ServableId("encoder", 1), WAIT, ModelState.UNLOADING);
        // the leased version still computes
        var sig = inFlight.get().signature("");
        var x = io.jointspace.server.runtime.TensorData.ofBytes(io.jointspace.server.runtime.DType.FP32,
            new long[] {1, 4}, new byte[16]);
        assertThat(inFlight.get().call(sig, Map.of("x", x), List.of(), io.jointspace.server.runtime.CallScope.NONE)
            .get("embedding").toFloats()).containsExactly(0, 0, 0);
        // new calls go to version 2; version 1 is no longer leased out
        assertThat(EmbeddingServiceGrpc.newBlockingStub(f.channel).embed(embed("encoder")).getModel().getVersion()).isEqualTo(2);
        assertThatThrownBy(() -> registry.acquire(ModelRequest.version("encoder", 1)))
            .hasMessageContaining("UNLOADING");
        assertThat(registry.status("encoder").get(1).state()).isEqualTo(ModelState.UNLOADING);
      }
      registry.awaitState(new ServableId("encoder", 1), WAIT, ModelState.END);
    }
  }

  @Test
  void brokenVersion_isErrorWithItsReason_andTheOldOneKeepsServing_untilItsFilesAreFixed() throws Exception {
    TestModels.writeEncoder(repo.resolve("encoder/1"), 1f);
    try (ServerFixture f = ServerFixture.start(repo)) {
      var registry = f.server.registry();
      var stub = EmbeddingServiceGrpc.newBlockingStub(f.channel);
      TestModels.writeBroken(repo.resolve("encoder/2"));
      f.server.rescan();
      var broken = registry.awaitState(new ServableId("encoder", 2), WAIT, ModelState.ERROR);
      assertThat(broken.lastError()).isNotEmpty();
      assertThat(stub.embed(embed("encoder")).getModel().getVersion()).isEqualTo(1);
      assertThatThrownBy(() -> stub.embed(embed("encoder").toBuilder()
              .setModel(ModelSpec.newBuilder().setName("encoder").setVersion(2)).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));

      deleteTree(repo.resolve("encoder/2"));
      TestModels.writeEncoder(repo.resolve("encoder/2"), 2f);
      f.server.rescan();
      registry.awaitState(new ServableId("encoder", 2), WAIT, ModelState.AVAILABLE);
      registry.awaitState(new ServableId("encoder", 1), WAIT, ModelState.END);
      assertThat(stub.embed(embed("encoder")).getModel().getVersion()).isEqualTo(2);
    }
  }

  @Test
  void modelsAppearAndDisappearWithTheirFolders() throws Exception {
    TestModels.writeEncoder(repo.resolve("a/1"), 1f);
    try (ServerFixture f = ServerFixture.start(repo)) {
      var stub = EmbeddingServiceGrpc.newBlockingStub(f.channel);
      TestModels.writeEncoder(repo.resolve("b/5"), 1f);
      f.server.rescan();
      f.server.registry().awaitState(new ServableId("b", 5), WAIT, ModelState.AVAILABLE);
      assertThat(stub.embed(embed("b")).getModel().getVersion()).isEqualTo(5);

      deleteTree(repo.resolve("b"));
      f.server.rescan();
      f.server.registry().awaitSettled(WAIT);
      assertThatThrownBy(() -> stub.embed(embed("b")))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
      assertThat(f.server.registry().modelNames()).containsExactly("a");
    }
  }
}
