package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.ServerFixture;
import java.nio.file.Files;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * max_concurrent_calls_per_connection over a real server and a real channel: calls beyond it
 * on one connection are not refused; grpc-java's Netty client holds them (HTTP/2
 * SETTINGS_MAX_CONCURRENT_STREAMS) until the connection has room again.
 */
class CallsPerConnectionTest {
  static final java.util.List<String> ERRORS = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** A Health.Watch call, open until cancelled; its first answer completes {@code answered}. */
  static io.grpc.stub.ClientCallStreamObserver<HealthCheckRequest> watch(ServerFixture fixture,
      CountDownLatch answered) {
    java.util.concurrent.atomic.AtomicReference<io.grpc.stub.ClientCallStreamObserver<HealthCheckRequest>> call =
        new java.util.concurrent.atomic.AtomicReference<>();
    HealthGrpc.newStub(fixture.channel).watch(HealthCheckRequest.getDefaultInstance(),
        new io.grpc.stub.ClientResponseObserver<HealthCheckRequest, HealthCheckResponse>() {
          @Override
          public void beforeStart(io.grpc.stub.ClientCallStreamObserver<HealthCheckRequest> requestStream) {
            call.set(requestStream);
          }

          @Override
          public void onNext(HealthCheckResponse value) {
            answered.countDown();
          }

          @Override
          public void onError(Throwable t) {
            ERRORS.add(t.toString());
          }

          @Override
          public void onCompleted() {}
        });
    return call.get();
  }

  @Test
  void callsOverTheLimitOnOneConnection_areHeldNotRefused() throws Exception {
    ServerConfig.Builder config = ServerConfig.newBuilder().setMaxConcurrentCallsPerConnection(2);
    try (ServerFixture fixture = ServerFixture.start(config, Files.createTempDirectory("calls"))) {
      CountDownLatch firstAnswered = new CountDownLatch(1);
      CountDownLatch secondAnswered = new CountDownLatch(1);
      CountDownLatch thirdAnswered = new CountDownLatch(1);
      var first = watch(fixture, firstAnswered);
      var second = watch(fixture, secondAnswered);
      assertThat(firstAnswered.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(secondAnswered.await(30, TimeUnit.SECONDS)).isTrue();
      var third = watch(fixture, thirdAnswered);
      try {
        assertThat(thirdAnswered.await(2, TimeUnit.SECONDS)).as("a third call while two are open").isFalse();
        assertThat(ERRORS).as("held, not refused").isEmpty();
      } finally {
        first.cancel("done", null);
        second.cancel("done", null);
        third.cancel("done", null);
      }
    }
  }
}
