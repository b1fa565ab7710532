package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.DataType;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.EmbedStreamRequest;
import io.jointspace.api.v1.EmbedStreamResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.Tensor;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.config.v1.VersionPolicy;
import io.jointspace.registry.ModelState;
import io.jointspace.registry.ServableId;
import io.jointspace.registry.VersionStatus;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A served model version's folder deleted, truncated or replaced under load, on real
 * SavedModels in a repository of the test's own (model "encoder", every version served, each
 * version {@code v} written with scale {@code v} unless said otherwise). Calls in flight finish;
 * later ones to the version get a clear NOT_FOUND or UNAVAILABLE; nothing answers INTERNAL or
 * UNKNOWN; every other version serves throughout. A loaded version never reads its folder
 * again: truncating or replacing its files changes nothing until it is loaded anew (at the
 * next start), and a version that loads from damaged files is ERROR with the reason.
 */
class ModelFolderFaultsTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final float[] X = {1, 2, 3, 4};
  private static final String VARIABLES = "variables/variables.data-00000-of-00001";

  @TempDir Path repo;

  static ServerFixture start(Path repo) throws Exception {
    ServerConfig.Builder config = ServerConfig.newBuilder();
    config.addModelsBuilder().setName("encoder")
        .setVersionPolicy(VersionPolicy.newBuilder().setAll(VersionPolicy.All.getDefaultInstance()))
        // calls wait up to 20 ms for a batch: there are always some in flight
        .getBatchingBuilder().setMaxQueueDelayMicros(20_000);
    return ServerFixture.start(config, repo);
  }

  static EmbedRequest embed(long version) {
    ModelSpec.Builder model = ModelSpec.newBuilder().setName("encoder");
    if (version > 0) {
      model.setVersion(version);
    }
    Tensor.Builder x = Tensor.newBuilder().setDtype(DataType.FP32).addShape(4);
    for (float v : X) {
      x.addFloatVal(v);
    }
    return EmbedRequest.newBuilder().setModel(model).addInputs(Input.newBuilder().setTensor(x)).build();
  }

  /** One call: the version asked (0: none), the version that answered, the status. */
  record Call(long asked, long answered, List<Float> values, Status.Code code, String description) {}

  /** Callers of Embed, one thread per version asked, without pause until closed. */
  static final class Callers implements AutoCloseable {
    final Queue<Call> calls = new ConcurrentLinkedQueue<>();
    final AtomicBoolean running = new AtomicBoolean(true);
    final ExecutorService threads;
    final List<Future<?>> loops = new ArrayList<>();

    Callers(ServerFixture f, long... versions) {
      threads = Executors.newFixedThreadPool(versions.length);
      var stub = EmbeddingServiceGrpc.newBlockingStub(f.channel);
      for (long v : versions) {
        loops.add(threads.submit(() -> {
          while (running.get()) {
            try {
              EmbedResponse r = stub.withDeadlineAfter(30, TimeUnit.SECONDS).embed(embed(v));
              calls.add(new Call(v, r.getModel().getVersion(), r.getEmbeddings(0).getValuesList(), Status.Code.OK, ""));
            } catch (StatusRuntimeException e) {
              calls.add(new Call(v, 0, List.of(), e.getStatus().getCode(), String.valueOf(e.getStatus().getDescription())));
            }
          }
        }));
      }
    }

    /** Waits until each version asked has had {@code n} more answers. */
    void awaitMore(int n) throws InterruptedException {
      long target = calls.size() + (long) n * loops.size();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (calls.size() < target && System.nanoTime() < until) {
        Thread.sleep(10);
      }
    }

    @Override
    public void close() throws Exception {
      running.set(false);
      for (Future<?> loop : loops) {
        loop.get(60, TimeUnit.SECONDS);
      }
      threads.shutdown();
    }
  }

  /** Only OK, or NOT_FOUND / UNAVAILABLE with a message; an answer of the version asked with its values. */
  static void assertClean(Iterable<Call> calls, Map<Long, Float> scaleOf) {
    for (Call c : calls) {
      if (c.code() == Status.Code.OK) {
        if (c.asked() > 0) {
          assertThat(c.answered()).as("%s", c).isEqualTo(c.asked());
        }
        float[] want = TestModels.expectedEmbedding(X, scaleOf.get(c.answered()));
        for (int i = 0; i < want.length; i++) {
          assertThat(c.values().get(i)).as("%s", c).isCloseTo(want[i], org.assertj.core.data.Offset.offset(1e-5f));
        }
      } else {
        assertThat(c.code()).as("%s", c).isIn(Status.Code.NOT_FOUND, Status.Code.UNAVAILABLE);
        assertThat(c.description()).as("%s", c).contains("version").doesNotContain("Exception");
      }
    }
  }

  static Map<Long, Float> scales(long... versions) {
    Map<Long, Float> out = new TreeMap<>();
    for (long v : versions) {
      out.put(v, (float) v);
    }
    return out;
  }

  static List<Call> of(Queue<Call> calls, long asked) {
    return calls.stream().filter(c -> c.asked() == asked).toList();
  }

  static void truncate(Path file, double keep) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength((long) (f.length() * keep));
    }
  }

  static void copy(Path from, Path to) throws Exception {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : files.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  @Test
  void versionFolderDeleted_whileCallsRun_callsFinishOrAreRefusedCleanly_andTheOtherVersionsServe() throws Exception {
    for (int v = 1; v <= 3; v++) {
      TestModels.writeEncoder(repo.resolve("encoder/" + v), v);
    }
    try (ServerFixture f = start(repo)) {
      // a stream asking version 2 all along, one request after another
      Recorder<EmbedStreamResponse> streamed = new Recorder<>();
      StreamObserver<EmbedStreamRequest> stream = EmbeddingServiceGrpc.newStub(f.channel)
          .withDeadlineAfter(120, TimeUnit.SECONDS).embedStream(streamed);
      AtomicBoolean streaming = new AtomicBoolean(true);
      Thread streamer = new Thread(() -> {
        try {
          for (int i = 0; streaming.get(); i++) {
            stream.onNext(EmbedStreamRequest.newBuilder().setRequestId("r" + i).setRequest(embed(2)).build());
            streamed.awaitValue(i, 30);
          }
          stream.onCompleted();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      Queue<Call> calls;
      try (Callers callers = new Callers(f, 1, 2, 3, 0)) {
        streamer.start();
        callers.awaitMore(20);
        streamed.awaitValue(0, 30);
        LiveRepositoryTest.deleteTree(repo.resolve("encoder/2"));
        f.server.rescan();
        f.server.registry().awaitState(new ServableId("encoder", 2), WAIT, ModelState.END);
        callers.awaitMore(20);
        calls = callers.calls;
      }
      streaming.set(false);
      streamer.join(60_000);
      streamed.awaitCompleted(60);

      assertClean(calls, scales(1, 2, 3));
      for (long v : new long[] {1, 3, 0}) {
        assertThat(of(calls, v)).as("calls asking %d", v).allMatch(c -> c.code() == Status.Code.OK);
      }
      assertThat(of(calls, 0)).allMatch(c -> c.answered() == 3);
      List<Call> two = of(calls, 2);
      assertThat(two.get(0).code()).isEqualTo(Status.Code.OK);
      assertThat(two.get(two.size() - 1).code()).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(two.get(two.size() - 1).description()).contains("has no version 2");
      // the stream went on: each of its requests got an answer or a clean error, in order
      List<EmbedStreamResponse> replies = streamed.values();
      for (int i = 0; i < replies.size(); i++) {
        EmbedStreamResponse r = replies.get(i);
        assertThat(r.getRequestId()).isEqualTo("r" + i);
        if (r.hasError()) {
          assertThat(Status.fromCodeValue(r.getError().getCode()).getCode())
              .isIn(Status.Code.NOT_FOUND, Status.Code.UNAVAILABLE);
        } else {
          assertThat(r.getResponse().getModel().getVersion()).isEqualTo(2);
        }
      }
      assertThat(replies.get(0).hasError()).isFalse();
      assertThat(replies.get(replies.size() - 1).hasError()).isTrue();

      // a version deleted while it loads ends too, and the server goes on serving
      TestModels.writeEncoder(repo.resolve("encoder/4"), 4);
      f.server.rescan();
      LiveRepositoryTest.deleteTree(repo.resolve("encoder/4"));
      f.server.rescan();
      f.server.registry().awaitSettled(WAIT);
      assertThat(f.server.registry().status("encoder")).filteredOn(s -> s.id().version() == 4)
          .allMatch(s -> s.state() == ModelState.END);
      assertThat(EmbeddingServiceGrpc.newBlockingStub(f.channel).embed(embed(0)).getModel().getVersion()).isEqualTo(3);
    }
  }

  @Test
  void filesTruncatedOrReplaced_whileServing_changeNothingUntilTheNextStart_whereTheyLoadAsErrorWithTheReason()
      throws Exception {
    for (int v = 1; v <= 5; v++) {
      TestModels.writeEncoder(repo.resolve("encoder/" + v), v);
    }
    Path encoder = repo.resolve("encoder");
    ServerFixture f = start(repo);
    try {
      Queue<Call> calls;
      try (Callers callers = new Callers(f, 1, 2, 3, 4, 5, 0)) {
        callers.awaitMore(10);
        truncate(encoder.resolve("2").resolve(VARIABLES), 0.5); // half the variables
        truncate(encoder.resolve("3").resolve(VARIABLES), 0); // none
        // 4 replaced whole (renamed into place) by a version with another scale, 5 by files that are no model
        TestModels.writeEncoder(repo.resolve("staging"), 40);
        Files.move(encoder.resolve("4"), repo.resolve("old-4"));
        Files.move(repo.resolve("staging"), encoder.resolve("4"), StandardCopyOption.ATOMIC_MOVE);
        LiveRepositoryTest.deleteTree(repo.resolve("old-4"));
        LiveRepositoryTest.deleteTree(encoder.resolve("5"));
        TestModels.writeBroken(encoder.resolve("5"));
        // and new versions whose files are damaged
        copy(encoder.resolve("1"), encoder.resolve("6"));
        truncate(encoder.resolve("6").resolve(VARIABLES), 0.5);
        copy(encoder.resolve("1"), encoder.resolve("7"));
        truncate(encoder.resolve("7").resolve("saved_model.pb"), 0.5);
        f.server.rescan();
        f.server.registry().awaitSettled(WAIT);
        callers.awaitMore(10);
        calls = callers.calls;
      }
      // what was loaded serves on, as loaded
      assertClean(calls, scales(1, 2, 3, 4, 5));
      assertThat(calls).allMatch(c -> c.code() == Status.Code.OK);
      assertThat(of(calls, 0)).allMatch(c -> c.answered() == 5);
      Map<Long, VersionStatus> status = byVersion(f);
      for (long v = 1; v <= 5; v++) {
        assertThat(status.get(v).state()).as("version %d", v).isEqualTo(ModelState.AVAILABLE);
      }
      assertErrorWithReason(f, status, 6);
      assertErrorWithReason(f, status, 7);
    } finally {
      f.close();
    }

    // the next start loads what the folders hold now
    f = start(repo);
    try {
      Map<Long, VersionStatus> status = byVersion(f);
      assertThat(status.get(1L).state()).isEqualTo(ModelState.AVAILABLE);
      assertThat(status.get(4L).state()).isEqualTo(ModelState.AVAILABLE);
      for (long v : new long[] {2, 3, 5, 6, 7}) {
        assertErrorWithReason(f, status, v);
      }
      Queue<Call> calls;
      try (Callers callers = new Callers(f, 1, 4, 0)) {
        callers.awaitMore(10);
        calls = callers.calls;
      }
      Map<Long, Float> scale = scales(1);
      scale.put(4L, 40f);
      assertClean(calls, scale);
      assertThat(calls).allMatch(c -> c.code() == Status.Code.OK);
      assertThat(of(calls, 0)).allMatch(c -> c.answered() == 4);
    } finally {
      f.close();
    }
  }

  static Map<Long, VersionStatus> byVersion(ServerFixture f) throws Exception {
    f.server.registry().awaitSettled(WAIT);
    Map<Long, VersionStatus> out = new TreeMap<>();
    f.server.registry().status("encoder").forEach(s -> out.put(s.id().version(), s));
    return out;
  }

  /** Version {@code v} is ERROR with its reason, and a call asking it gets UNAVAILABLE saying so. */
  static void assertErrorWithReason(ServerFixture f, Map<Long, VersionStatus> status, long v) {
    assertThat(status.get(v).state()).as("version %d", v).isEqualTo(ModelState.ERROR);
    // the reason names the folder (within the repository) that did not load
    assertThat(status.get(v).lastError()).as("version %d", v).contains("encoder/" + v);
    try {
      EmbeddingServiceGrpc.newBlockingStub(f.channel).withDeadlineAfter(30, TimeUnit.SECONDS).embed(embed(v));
      throw new AssertionError("version " + v + " answered");
    } catch (StatusRuntimeException e) {
      assertThat(e.getStatus().getCode()).as("%s", e.getStatus()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.getStatus().getDescription()).contains("version encoder@" + v).contains("ERROR");
    }
  }
}
