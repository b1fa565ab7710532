package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.ServerLiveRequest;
import io.jointspace.api.v1.EmbedStreamRequest;
import io.jointspace.api.v1.EmbedStreamResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShutdownTest {
  @TempDir Path repo;

  @Test
  void stop_letsCallsInFlightFinish_andRefusesNewOnes() throws Exception {
    TestModels.writeEncoder(repo.resolve("encoder/1"), 1f);
    ServerFixture f = ServerFixture.start(repo);
    Recorder<EmbedStreamResponse> answers = new Recorder<>();
    StreamObserver<EmbedStreamRequest> stream = EmbeddingServiceGrpc.newStub(f.channel).embedStream(answers);
    stream.onNext(EmbedStreamRequest.newBuilder().setRequestId("before").setRequest(LiveRepositoryTest.embed("encoder")).build());
    assertThat(answers.awaitValue(0, 30).hasResponse()).isTrue();

    CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> {
      try {
        f.server.stop();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    // new calls are refused once shutdown has begun ...
    ManagedChannel fresh = ManagedChannelBuilder.forAddress("127.0.0.1", f.server.port()).usePlaintext().build();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      boolean refused = false;
      while (!refused && System.nanoTime() < deadline) {
        try {
          GRPCInferenceServiceGrpc.newBlockingStub(fresh).withDeadlineAfter(2, TimeUnit.SECONDS)
              .serverLive(ServerLiveRequest.getDefaultInstance());
          Thread.sleep(20); // shutdown not begun yet
        } catch (StatusRuntimeException e) {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          refused = true;
        }
      }
      assertThat(refused).isTrue();
    } finally {
      fresh.shutdownNow();
    }
    // ... while the call in flight goes on until it ends
    assertThat(stopping).isNotDone();
    stream.onNext(EmbedStreamRequest.newBuilder().setRequestId("during").setRequest(LiveRepositoryTest.embed("encoder")).build());
    EmbedStreamResponse during = answers.awaitValue(1, 30);
    assertThat(during.getRequestId()).isEqualTo("during");
    assertThat(during.hasResponse()).isTrue();
    stream.onCompleted();
    answers.awaitCompleted(30);
    stopping.get(30, TimeUnit.SECONDS);
    f.channel.shutdownNow();
  }

  @Test
  void serveProcess_exitsZeroOnSigterm() throws Exception {
    TestModels.writeEncoder(repo.resolve("encoder/1"), 1f);
    int port = ServerFixture.freePort();
    Path log = repo.resolve("serve.log");
    Process p = new ProcessBuilder(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"),
            "-Djointspace.home=" + io.jointspace.server.store.TestDatabase.projectRoot(),
            "io.jointspace.server.Main", "serve",
            "--models", repo.toString(), "--grpc-port", Integer.toString(port), "--shutdown-grace-ms", "5000",
            "--metrics-port", Integer.toString(ServerFixture.freePort()),
            "--data-dir", repo.resolve("pg").toString()))
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      boolean live = false;
      while (!live && System.nanoTime() < deadline && p.isAlive()) {
        try {
          live = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
              .serverLive(ServerLiveRequest.getDefaultInstance()).getLive();
        } catch (StatusRuntimeException e) {
          Thread.sleep(200);
        }
      }
      assertThat(live).as(Files.readString(log, StandardCharsets.UTF_8)).isTrue();
      p.destroy(); // SIGTERM
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(Files.readString(log, StandardCharsets.UTF_8)).isZero();
      assertThat(Files.readString(log, StandardCharsets.UTF_8)).contains("Stopped")
          .contains("Stopped the private PostgreSQL cluster");
      // the private cluster started for this server is down again
      Process status = new ProcessBuilder("bash",
          io.jointspace.server.store.TestDatabase.projectRoot().resolve("deploy/local/pg-cluster.sh").toString(),
          "status", repo.resolve("pg").toString()).start();
      assertThat(status.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(status.exitValue()).as("pg-cluster.sh status after the server stopped").isNotZero();
    } finally {
      channel.shutdownNow();
      p.destroyForcibly();
    }
  }

  @Test
  void serveProcess_badConfig_exitsTwoNamingTheField() throws Exception {
    Path config = repo.resolve("bad.textproto");
    Files.writeString(config, "grpc_port: 70000\n");
    Process p = new ProcessBuilder(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"),
            "io.jointspace.server.Main", "serve", "--config", config.toString()))
        .redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(out).contains("grpc_port");
  }

  @Test
  void afterStop_callsFailAsUnavailable() throws Exception {
    TestModels.writeEncoder(repo.resolve("encoder/1"), 1f);
    ServerFixture f = ServerFixture.start(repo);
    f.server.stop();
    assertThatThrownBy(() -> EmbeddingServiceGrpc.newBlockingStub(f.channel).withDeadlineAfter(5, TimeUnit.SECONDS)
            .embed(LiveRepositoryTest.embed("encoder")))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    f.channel.shutdownNow();
  }
}
