package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.ModelMetadataRequest;
import io.jointspace.api.inference.ServerLiveRequest;
import io.jointspace.api.inference.ServerReadyRequest;
import io.jointspace.api.v1.ListModelsRequest;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.config.v1.ServerConfig;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plaintext health port: health and KServe liveness/readiness, nothing else. */
class HealthPortTest {
  @TempDir Path dir;

  static void assertUnimplemented(Runnable call) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
  }

  @Test
  void healthPort_answersHealthLivenessAndReadiness_andNothingElse() throws Exception {
    int healthPort = ServerFixture.freePort();
    try (ServerFixture f = ServerFixture.start(ServerConfig.newBuilder().setHealthPort(healthPort),
        Files.createDirectories(dir.resolve("models")))) {
      assertThat(f.server.healthPort()).isEqualTo(healthPort);
      ManagedChannel probe = Grpc.newChannelBuilderForAddress("127.0.0.1", healthPort,
          InsecureChannelCredentials.create()).build();
      try {
        assertThat(HealthGrpc.newBlockingStub(probe).withDeadlineAfter(10, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(ServingStatus.SERVING);
        GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub kserve =
            GRPCInferenceServiceGrpc.newBlockingStub(probe).withDeadlineAfter(10, TimeUnit.SECONDS);
        assertThat(kserve.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        assertThat(kserve.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
        assertUnimplemented(() -> kserve.modelMetadata(ModelMetadataRequest.newBuilder().setName("any").build()));
        assertUnimplemented(() -> ModelServiceGrpc.newBlockingStub(probe).withDeadlineAfter(10, TimeUnit.SECONDS)
            .listModels(ListModelsRequest.getDefaultInstance()));
      } finally {
        probe.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void takenHealthPort_failsWithExitCode1_namingTheFlag_beforeTheDatabase() throws Exception {
    Path dataDir = dir.resolve("pg");
    Files.createDirectories(dir.resolve("models"));
    try (ServerSocket taken = new ServerSocket(0)) {
      MainTest.Run r = MainTest.run("serve", "--models", dir.resolve("models").toString(), "--grpc-port", "0",
          "--health-port", Integer.toString(taken.getLocalPort()), "--http-port", "-1",
          "--data-dir", dataDir.toString());
      assertThat(r.code()).isEqualTo(1);
      assertThat(r.err()).contains("health port " + taken.getLocalPort() + " is in use").contains("--health-port");
    }
    assertThat(dataDir).as("no private cluster was started").doesNotExist();
  }
}
