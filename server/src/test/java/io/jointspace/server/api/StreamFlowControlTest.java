package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedStreamRequest;
import io.jointspace.api.v1.EmbedStreamResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A streaming call whose client stops reading: the server stops reading its requests once
 * its replies back up, instead of answering them all into its outbound buffer.
 */
class StreamFlowControlTest {
  /** Values per reply: 64 Ki floats, about 256 KiB a reply. */
  static final int WIDTH = 1 << 16;
  /** The client's HTTP/2 window: room for about four replies it has not read. */
  static final int CLIENT_WINDOW = 1 << 20;
  static final int REQUESTS = 100;

  @TempDir static Path repo;
  static ServerFixture fixture;
  static int metricsPort;
  static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    TestModels.writeWide(repo.resolve("wide/1"), WIDTH);
    metricsPort = ServerFixture.freePort();
    fixture = ServerFixture.start(ServerConfig.newBuilder().setMetricsPort(metricsPort), repo);
    // a fixed window (no automatic tuning), so the server's room to send is known
    channel = NettyChannelBuilder.forAddress("127.0.0.1", fixture.server.port())
        .usePlaintext()
        .flowControlWindow(CLIENT_WINDOW)
        .maxInboundMessageSize(16 << 20)
        .build();
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    fixture.close();
  }

  /** Rows the wide model has embedded: one per EmbedStream request the server handled. */
  static double handled() throws Exception {
    String text = MetricsTest.get(metricsPort, "/metrics").body();
    if (text.lines().noneMatch(l -> l.startsWith("jointspace_batch_items_total{")
        && l.contains("queue=\"wide@1/serving_default\""))) {
      return 0; // the counter is made with the queue's first batch
    }
    return MetricsTest.value(text, "jointspace_batch_items_total", "queue=\"wide@1/serving_default\"");
  }

  /** Polls until the count, once above 0, stops moving for a second (or reaches {@code all}). */
  static double settled(int all) throws Exception {
    double last = -1;
    long stableSince = System.nanoTime();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      double now = handled();
      if (now != last) {
        last = now;
        stableSince = System.nanoTime();
      } else if (now >= all || (now > 0 && System.nanoTime() - stableSince > TimeUnit.SECONDS.toNanos(1))) {
        return now;
      }
      Thread.sleep(50);
    }
    return last;
  }

  @Test
  void embedStream_clientThatDoesNotRead_stallsTheServer_thenGetsEveryReplyInOrder() throws Exception {
    StalledReader<EmbedStreamRequest, EmbedStreamResponse> reader = new StalledReader<>();
    EmbeddingServiceGrpc.newStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS).embedStream(reader);
    List<EmbedStreamResponse> replies = reader.answers;
    CompletableFuture<Void> done = reader.done;
    ClientCallStreamObserver<EmbedStreamRequest> requests = reader.call();
    for (int i = 0; i < REQUESTS; i++) {
      requests.onNext(EmbedStreamRequest.newBuilder().setRequestId("r" + i)
          .setRequest(EmbedRequest.newBuilder().setModel(ModelSpec.newBuilder().setName("wide"))
              .addInputs(EmbeddingServiceTest.row(i)))
          .build());
    }
    requests.onCompleted();

    // what the client's window and the server's small outbound buffer hold, and little more
    double handledWhileStalled = settled(REQUESTS);
    assertThat(handledWhileStalled).as("requests handled while the client read nothing").isBetween(1.0, 12.0);
    assertThat(replies).isEmpty();

    requests.request(Integer.MAX_VALUE);
    done.get(60, TimeUnit.SECONDS);
    assertThat(replies).hasSize(REQUESTS);
    for (int i = 0; i < REQUESTS; i++) {
      EmbedStreamResponse reply = replies.get(i);
      assertThat(reply.getRequestId()).isEqualTo("r" + i);
      assertThat(reply.hasError()).as(reply.getError().getMessage()).isFalse();
      assertThat(reply.getResponse().getDimension()).isEqualTo(WIDTH);
      assertThat(reply.getResponse().getEmbeddings(0).getValues(WIDTH - 1)).isEqualTo((float) i);
    }
    assertThat(handled()).isEqualTo(REQUESTS);
  }
}
