package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.GetCollectionRequest;
import io.jointspace.api.v1.GetRequest;
import io.jointspace.api.v1.GetRolloutRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.Rollout;
import io.jointspace.api.v1.RolloutRequest;
import io.jointspace.api.v1.RolloutServiceGrpc;
import io.jointspace.api.v1.StartRolloutRequest;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.api.v1.UpsertStreamResponse;
import io.jointspace.api.v1.Vector;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.config.v1.VersionPolicy;
import io.jointspace.server.Scrape;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.store.TestDatabase;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streaming calls whose client misbehaves, against a real server, PostgreSQL and the demo
 * model: a client that stops reading holds the server to a flow-control window's worth of
 * replies (EmbedStream: {@link StreamFlowControlTest}; UpsertStream and WatchRollout here),
 * and a client process killed mid-stream (its socket closed, no cancel sent) leaves nothing
 * behind: no call in flight, no pooled connection lent out, no upload's temporary file.
 */
class SlowAndVanishedClientsTest {
  static final String EMBED_STREAM = EmbeddingServiceGrpc.getEmbedStreamMethod().getFullMethodName();
  static final String UPSERT_STREAM = CollectionServiceGrpc.getUpsertStreamMethod().getFullMethodName();
  static final String WATCH_ROLLOUT = RolloutServiceGrpc.getWatchRolloutMethod().getFullMethodName();
  static final String UPLOAD_VERSION = ModelServiceGrpc.getUploadVersionMethod().getFullMethodName();
  /** What the server queues for a stream before it counts as not ready (grpc-java's default onReady threshold). */
  static final int SERVER_QUEUE = 32 * 1024;
  /** The stalling client's HTTP/2 window for the stream. */
  static final int CLIENT_WINDOW = 1024;

  @TempDir static Path repo;
  static ServerFixture fixture;
  static int metricsPort;
  static CollectionServiceGrpc.CollectionServiceBlockingStub collections;

  @BeforeAll
  static void start() throws Exception {
    Path clip = repo.resolve("shapes-clip");
    Files.createDirectories(clip);
    Files.createSymbolicLink(clip.resolve("1"), DemoModelTest.DEMO.resolve("1").toAbsolutePath());
    Files.createSymbolicLink(clip.resolve("2"), DemoModelTest.DEMO.resolve("2").toAbsolutePath());
    metricsPort = ServerFixture.freePort();
    ServerConfig.Builder config = ServerConfig.newBuilder().setMetricsPort(metricsPort);
    config.addModelsBuilder().setName("shapes-clip")
        .setVersionPolicy(VersionPolicy.newBuilder().setAll(VersionPolicy.All.getDefaultInstance()));
    config.getStorageBuilder().setDatabaseUrl(TestDatabase.configUrl(TestDatabase.fresh()));
    fixture = ServerFixture.start(config, repo);
    collections = CollectionServiceGrpc.newBlockingStub(fixture.channel);
  }

  @AfterAll
  static void stop() throws Exception {
    fixture.close();
  }

  /** A collection on shapes-clip@{@code version} (version 1 embeds in 32 dimensions, 2 in 64). */
  static void create(String name, long version) {
    collections.withDeadlineAfter(60, TimeUnit.SECONDS).createCollection(CreateCollectionRequest.newBuilder()
        .setName(name).setModel(ModelSpec.newBuilder().setName("shapes-clip").setVersion(version)).build());
  }

  static long count(String name) {
    return collections.withDeadlineAfter(30, TimeUnit.SECONDS)
        .getCollection(GetCollectionRequest.newBuilder().setName(name).build()).getItemCount();
  }

  static Vector vector(int seed) {
    Vector.Builder v = Vector.newBuilder();
    for (int d = 0; d < 64; d++) {
      v.addValues((float) Math.cos(seed * 0.37 + d));
    }
    return v.build();
  }

  /**
   * Polls the item count until it stops moving for 1.5 s (or reaches {@code all}); fails at
   * once when {@code stream} ended with an error.
   */
  static long settledCount(String name, long all, CompletableFuture<?> stream) throws Exception {
    long last = -1;
    long stableSince = System.nanoTime();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      if (stream.isCompletedExceptionally()) {
        stream.get();
      }
      long now = count(name);
      if (now != last) {
        last = now;
        stableSince = System.nanoTime();
      } else if (now >= all || (now > 0 && System.nanoTime() - stableSince > TimeUnit.MILLISECONDS.toNanos(1500))) {
        return now;
      }
      Thread.sleep(100);
    }
    return last;
  }

  @Test
  void upsertStream_clientThatReadsNoAcks_stallsTheServer_thenGetsEveryAckInOrder() throws Exception {
    // every tenth message writes one item, the others none: the item count tells how many
    // messages the server handled, without a commit for each
    int messages = 4000;
    create("acks", 2);
    ManagedChannel slow = NettyChannelBuilder.forAddress("127.0.0.1", fixture.server.port()).usePlaintext()
        .flowControlWindow(CLIENT_WINDOW).build();
    try {
      StalledReader<UpsertStreamRequest, UpsertStreamResponse> reader = new StalledReader<>();
      CollectionServiceGrpc.newStub(slow).withDeadlineAfter(300, TimeUnit.SECONDS).upsertStream(reader);
      List<UpsertStreamResponse> acks = reader.answers;
      CompletableFuture<Void> done = reader.done;
      ClientCallStreamObserver<UpsertStreamRequest> requests = reader.call();
      for (int i = 0; i < messages; i++) {
        UpsertStreamRequest.Builder message = UpsertStreamRequest.newBuilder().setCollection("acks");
        if (i % 10 == 9) {
          message.addItems(Item.newBuilder().setId("a" + i).setVector(vector(i)));
        }
        requests.onNext(message.build());
      }
      requests.onCompleted();

      // the server writes until its unread acknowledgements fill the client's window and its
      // own small outbound queue, then reads no more requests
      int handled = 10 * (int) settledCount("acks", messages / 10, done); // or up to 9 more
      long unread = 0; // bytes of the acknowledgements of those messages, as gRPC frames them
      for (int i = 0; i < handled; i++) {
        unread += 5 + ack(i).getSerializedSize();
      }
      System.out.printf("UpsertStream: %d messages handled (%d bytes of acknowledgements) while the client read"
          + " nothing%n", handled, unread);
      assertThat(handled).as("messages handled while the client read nothing").isLessThan(messages - 10);
      assertThat(unread).as("bytes of acknowledgements the client did not read")
          .isLessThanOrEqualTo(CLIENT_WINDOW + SERVER_QUEUE + 4096);
      assertThat(acks).isEmpty();

      requests.request(Integer.MAX_VALUE);
      done.get(120, TimeUnit.SECONDS);
      assertThat(acks).hasSize(messages);
      for (int i = 0; i < messages; i++) {
        assertThat(acks.get(i)).isEqualTo(ack(i));
      }
      assertThat(count("acks")).isEqualTo(messages / 10);
    } finally {
      slow.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** The acknowledgement of message {@code i} of that stream. */
  private static UpsertStreamResponse ack(int i) {
    return UpsertStreamResponse.newBuilder().setCommittedCount(i % 10 == 9 ? 1 : 0).setTotalCommitted((i + 1) / 10)
        .setMessageIndex(i).build();
  }

  @Test
  void clientProcessKilledMidStream_leavesNoCallConnectionOrFileBehind() throws Exception {
    create("vanishing", 2);
    create("watched", 1);
    UpsertRequest.Builder texts = UpsertRequest.newBuilder().setCollection("watched");
    for (int i = 0; i < 40; i++) {
      texts.addItems(Item.newBuilder().setId("w" + i).setInput(Input.newBuilder()
          .setText(List.of("a red circle", "a green square", "a blue triangle", "a yellow star").get(i % 4) + " " + i)));
    }
    collections.withDeadlineAfter(120, TimeUnit.SECONDS).upsert(texts.build());
    var rollouts = RolloutServiceGrpc.newBlockingStub(fixture.channel);
    // slow, so that it runs while the clients watch it
    rollouts.withDeadlineAfter(60, TimeUnit.SECONDS).startRollout(StartRolloutRequest.newBuilder()
        .setCollection("watched").setTarget(ModelSpec.newBuilder().setName("shapes-clip").setVersion(2))
        .setRateLimit(4).build());

    // a watcher in this process that reads nothing for a while
    StalledReader<GetRolloutRequest, Rollout> watcher = new StalledReader<>();
    RolloutServiceGrpc.newStub(fixture.channel).withDeadlineAfter(300, TimeUnit.SECONDS).watchRollout(
        GetRolloutRequest.newBuilder().setCollection("watched").build(), watcher);
    List<Rollout> seen = watcher.answers;
    CompletableFuture<Void> watchDone = watcher.done;
    long watchStarted = System.nanoTime();

    Set<String> uploadsBefore = openUploadFiles();
    Path log = Path.of("target/vanishing-client.log").toAbsolutePath();
    Process client = new ProcessBuilder(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"),
            VanishingClient.class.getName(),
            Integer.toString(fixture.server.port()), "vanishing", "watched", "shapes-clip"))
        .redirectError(log.toFile())
        .start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
      CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
        try {
          for (String line; (line = out.readLine()) != null; ) {
            if (line.equals("READY")) {
              return line;
            }
          }
          return "exited";
        } catch (java.io.IOException e) {
          return e.toString();
        }
      });
      assertThat(ready.get(120, TimeUnit.SECONDS)).as(Files.readString(log)).isEqualTo("READY");

      // every stream is open on the server (WatchRollout twice: this process watches too)
      for (String method : List.of(EMBED_STREAM, UPSERT_STREAM, WATCH_ROLLOUT, UPLOAD_VERSION)) {
        int open = method.equals(WATCH_ROLLOUT) ? 2 : 1;
        assertThat(Scrape.await(metricsPort, t -> Scrape.callsInFlight(t, method), n -> n == open, 60))
            .as("%s in flight", method).isEqualTo(open);
      }
      long uploadUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      Set<String> uploads = new HashSet<>();
      while (uploads.isEmpty() && System.nanoTime() < uploadUntil) {
        uploads = openUploadFiles();
        uploads.removeAll(uploadsBefore);
        Thread.sleep(50);
      }
      assertThat(uploads).as("the upload's temporary file, open in the server").hasSize(1);
      assertThat(settledCount("vanishing", 50, new CompletableFuture<>())).isEqualTo(50);

      client.destroyForcibly(); // SIGKILL: the kernel closes its socket, no RST_STREAM is sent
      assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();

      for (String method : List.of(EMBED_STREAM, UPSERT_STREAM, WATCH_ROLLOUT, UPLOAD_VERSION)) {
        int open = method.equals(WATCH_ROLLOUT) ? 1 : 0;
        assertThat(Scrape.await(metricsPort, t -> Scrape.callsInFlight(t, method), n -> n == open, 30))
            .as("%s in flight after the client was killed", method).isEqualTo(open);
      }
      long filesUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (openUploadFiles().stream().anyMatch(uploads::contains) && System.nanoTime() < filesUntil) {
        Thread.sleep(50);
      }
      assertThat(openUploadFiles()).as("upload files the server still has open").doesNotContainAnyElementsOf(uploads);
      for (String file : uploads) {
        assertThat(Path.of(file)).as("the killed upload's temporary file").doesNotExist();
      }
    } finally {
      client.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }

    // the watcher that read nothing: it gets a state at most once a second, then the end
    Thread.sleep(2000);
    rollouts.withDeadlineAfter(60, TimeUnit.SECONDS).abortRollout(RolloutRequest.newBuilder()
        .setCollection("watched").build());
    watcher.call().request(Integer.MAX_VALUE);
    watchDone.get(60, TimeUnit.SECONDS);
    long watchedSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - watchStarted);
    assertThat(seen).isNotEmpty().hasSizeLessThanOrEqualTo((int) watchedSeconds + 2);
    assertThat(seen.get(seen.size() - 1).getState()).isEqualTo(Rollout.State.ABORTED);

    // no pooled connection is lent out once nothing runs, and the server serves as before
    assertThat(Scrape.await(metricsPort, Scrape::activeConnections, n -> n == 0, 30))
        .as("hikaricp_connections_active").isZero();
    assertThat(collections.withDeadlineAfter(30, TimeUnit.SECONDS).get(GetRequest.newBuilder()
        .setCollection("vanishing").addIds("vanished-4-9").build()).getItemsCount()).isEqualTo(1);
    assertThat(EmbeddingServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .embed(EmbedRequest.newBuilder().setModel(ModelSpec.newBuilder().setName("shapes-clip"))
            .addInputs(Input.newBuilder().setText("a red circle")).build()).getDimension()).isEqualTo(64);
    String text = Scrape.metrics(metricsPort);
    assertThat(Scrape.sum(text, "jointspace_grpc_calls_in_flight")).as("calls in flight").isZero();
  }

  /** Files named jointspace-upload* this process holds open (the server runs in it). */
  static Set<String> openUploadFiles() throws Exception {
    Set<String> out = new HashSet<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.contains("jointspace-upload")) {
            out.add(target.replace(" (deleted)", ""));
          }
        } catch (java.io.IOException gone) {
          // closed while we looked
        }
      }
    }
    return out;
  }
}
