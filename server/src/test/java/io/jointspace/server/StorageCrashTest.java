package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.GetCollectionRequest;
import io.jointspace.api.v1.GetRequest;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.api.v1.UpsertStreamResponse;
import io.jointspace.api.v1.Vector;
import io.jointspace.server.store.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code serve} as a process with its private database: SIGKILL during ingest (UpsertStream)
 * and label changes loses no acknowledged item and no acknowledged label change (see
 * {@link LabelMover}), and after the database's own postmaster is killed too, the next
 * {@code serve} recovers the cluster and serves what was acknowledged.
 */
class StorageCrashTest {
  private final Path home = TestDatabase.projectRoot();
  private Path dataDir;
  private final Path log = home.resolve("server/target/storage-crash-serve.log");
  private final Path restartLog = home.resolve("server/target/storage-crash-restart.log");
  private ServeProcess server;

  @AfterEach
  void cleanUp() throws Exception {
    if (server != null) {
      server.close();
    }
    if (dataDir != null) {
      new ProcessBuilder("bash", home.resolve("deploy/local/pg-cluster.sh").toString(), "stop", dataDir.toString())
          .inheritIO().start().waitFor(60, TimeUnit.SECONDS);
    }
  }

  private ManagedChannel startServe(int port, Path logFile) throws Exception {
    // both demo versions, which the labels move between
    Path config = dataDir.resolveSibling("storage-crash.textproto");
    Files.writeString(config, Files.readString(home.resolve("models/serve.textproto")));
    server = ServeProcess.start(home, dataDir, port, logFile, "--config", config.toString());
    return server.awaitReady();
  }

  /** Alive and not a zombie: /proc has it in a state other than Z. */
  private static boolean running(long pid) throws Exception {
    Path stat = Path.of("/proc", Long.toString(pid), "stat");
    if (!Files.exists(stat)) {
      return false;
    }
    try {
      String s = Files.readString(stat);
      return s.charAt(s.lastIndexOf(')') + 2) != 'Z';
    } catch (java.nio.file.NoSuchFileException gone) {
      return false;
    }
  }

  @Test
  void sigkillDuringIngestAndLabelChanges_losesNothingAcknowledged_andTheNextServeRecoversTheCluster() throws Exception {
    Files.deleteIfExists(log);
    Files.deleteIfExists(restartLog);
    dataDir = TestDatabase.emptyClusterDir("pg-crash");
    int port = ServerFixture.freePort();
    ManagedChannel channel = startServe(port, log);
    String name = "crash";
    CollectionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
        .createCollection(CreateCollectionRequest.newBuilder().setName(name)
            .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());
    LabelMover labels = new LabelMover(channel);

    // stream messages of 200 vectors, up to 10 ahead of their acknowledgements; kill the server
    // once 5 are acknowledged and 20 label changes are, with the next change on its way
    Recorder<UpsertStreamResponse> recorder = new Recorder<>(); // its error is expected: the server is killed
    List<UpsertStreamResponse> acks = recorder.values();
    StreamObserver<UpsertStreamRequest> stream = CollectionServiceGrpc.newStub(channel).upsertStream(recorder);
    Random rnd = new Random(3);
    List<List<String>> sent = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!(acks.size() >= 5 && labels.ready(20)) && System.nanoTime() < deadline) {
      if (sent.size() - acks.size() >= 10 || sent.size() >= 400) {
        Thread.sleep(1);
        continue;
      }
      int m = sent.size();
      UpsertStreamRequest.Builder msg = UpsertStreamRequest.newBuilder().setCollection(name);
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        Vector.Builder v = Vector.newBuilder();
        for (int j = 0; j < 64; j++) {
          v.addValues((float) rnd.nextGaussian());
        }
        String id = "m" + m + "-" + i;
        ids.add(id);
        msg.addItems(Item.newBuilder().setId(id).setVector(v));
      }
      sent.add(ids);
      stream.onNext(msg.build());
    }
    labels.killing();
    server.process.destroyForcibly(); // SIGKILL, in the middle of the stream and of a label change
    assertThat(server.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    labels.stop();
    channel.shutdownNow();
    int acknowledged = acks.size();
    assertThat(acknowledged).isGreaterThanOrEqualTo(5);
    assertThat(sent.size()).as("messages sent, some not acknowledged when the server died").isGreaterThan(acknowledged);
    assertThat(acks.get(acknowledged - 1).getTotalCommitted()).isEqualTo(200L * acknowledged);
    assertThat(labels.acknowledged()).isGreaterThanOrEqualTo(20);

    // the database crashes too: kill -9 its postmaster
    Path pidFile = dataDir.resolve("data/postmaster.pid");
    assertThat(pidFile).exists();
    long postmaster = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
    assertThat(running(postmaster)).as("postmaster %d running before the kill", postmaster).isTrue();
    ProcessHandle.of(postmaster).ifPresent(ProcessHandle::destroyForcibly);
    long killedBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (running(postmaster) && System.nanoTime() < killedBy) {
      Thread.sleep(50);
    }
    assertThat(running(postmaster)).as("postmaster %d after kill -9", postmaster).isFalse();

    server = null;
    channel = startServe(port, restartLog);
    try {
      var stub = CollectionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
      long count = stub.getCollection(GetCollectionRequest.newBuilder().setName(name).build()).getItemCount();
      assertThat(count).as("items after restart vs acknowledged").isGreaterThanOrEqualTo(200L * acknowledged);
      for (int m = 0; m < acknowledged; m++) {
        assertThat(stub.get(GetRequest.newBuilder().setCollection(name).addAllIds(sent.get(m)).build())
            .getItemsCount()).as("acknowledged message " + m).isEqualTo(200);
      }
      // this run's own log: it found the cluster down and started (and so recovered) it
      assertThat(server.log()).contains("Starting the private PostgreSQL cluster").contains("Private PostgreSQL cluster at");
      labels.checkAfterRestart(channel);
    } finally {
      channel.shutdownNow();
    }
  }
}
