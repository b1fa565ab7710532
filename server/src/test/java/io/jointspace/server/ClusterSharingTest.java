package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CollectionServiceGrpc.CollectionServiceBlockingStub;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.GetCollectionRequest;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.api.v1.Vector;
import io.jointspace.server.store.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Several {@code serve} processes on one private database folder: the cluster stays up while
 * any of them uses it, whichever stops first, and the last one to leave stops it. A second
 * server on a taken port fails before it touches the database.
 */
class ClusterSharingTest {
  private final Path home = TestDatabase.projectRoot();
  private final List<ServeProcess> servers = new ArrayList<>();
  private Path dataDir;

  @AfterEach
  void cleanUp() throws Exception {
    for (ServeProcess s : servers) {
      s.close();
    }
    if (dataDir != null) {
      clusterScript("stop");
    }
  }

  private ServeProcess serve(int port, String logName) throws Exception {
    Path log = home.resolve("server/target/cluster-sharing-" + logName + ".log");
    Files.deleteIfExists(log);
    ServeProcess s = ServeProcess.start(home, dataDir, port, log);
    servers.add(s);
    return s;
  }

  @Test
  void serversSharingOneFolder_keepTheClusterUpUntilTheLastLeaves() throws Exception {
    dataDir = TestDatabase.emptyClusterDir("pg-shared");
    int firstPort = ServerFixture.freePort();
    ServeProcess first = serve(firstPort, "first");
    CollectionServiceBlockingStub firstStub = CollectionServiceGrpc.newBlockingStub(first.awaitReady());
    firstStub.withDeadlineAfter(60, TimeUnit.SECONDS).createCollection(CreateCollectionRequest.newBuilder()
        .setName("shared").setModel(ModelSpec.newBuilder().setName("shapes-clip").setVersion(2)).build());
    assertThat(first.log()).contains("Starting the private PostgreSQL cluster");

    // a second server on the same port fails at once, before any slow work, naming the flag
    ServeProcess clash = serve(firstPort, "clash");
    assertThat(clash.process.waitFor(60, TimeUnit.SECONDS)).as("the clashing server exits").isTrue();
    assertThat(clash.process.exitValue()).isEqualTo(1);
    assertThat(clash.log()).contains("gRPC port " + firstPort + " is in use").contains("--grpc-port")
        .doesNotContain("PostgreSQL").doesNotContain("Loaded");
    upsert(firstStub, "after-clash");

    // a second server on another port joins the cluster, serves, stops: the first keeps serving
    ServeProcess second = serve(ServerFixture.freePort(), "second");
    CollectionServiceBlockingStub secondStub = CollectionServiceGrpc.newBlockingStub(second.awaitReady());
    assertThat(second.log()).contains("Using the private PostgreSQL cluster running in");
    upsert(secondStub, "from-second");
    assertThat(second.stop()).isZero();
    assertThat(second.log()).contains("still used by another server; left running");
    upsert(firstStub, "after-second-stopped");
    assertThat(itemCount(firstStub)).isEqualTo(3);

    // the one that started the cluster leaves first: the cluster stays for the third
    ServeProcess third = serve(ServerFixture.freePort(), "third");
    CollectionServiceBlockingStub thirdStub = CollectionServiceGrpc.newBlockingStub(third.awaitReady());
    assertThat(first.stop()).isZero();
    assertThat(clusterScript("status")).as("cluster running after the first server left").isZero();
    upsert(thirdStub, "after-first-stopped");
    assertThat(itemCount(thirdStub)).isEqualTo(4);

    // the last one to leave stops it
    assertThat(third.stop()).isZero();
    assertThat(third.log()).contains("Stopped the private PostgreSQL cluster");
    assertThat(clusterScript("status")).as("cluster stopped after the last server left").isNotZero();
  }

  private static void upsert(CollectionServiceBlockingStub stub, String id) {
    Vector.Builder v = Vector.newBuilder();
    for (int i = 0; i < 64; i++) {
      v.addValues(i == id.length() % 64 ? 1f : 0.01f);
    }
    stub.withDeadlineAfter(30, TimeUnit.SECONDS).upsert(UpsertRequest.newBuilder().setCollection("shared")
        .addItems(Item.newBuilder().setId(id).setVector(v)).build());
  }

  private static long itemCount(CollectionServiceBlockingStub stub) {
    return stub.withDeadlineAfter(30, TimeUnit.SECONDS)
        .getCollection(GetCollectionRequest.newBuilder().setName("shared").build()).getItemCount();
  }

  private int clusterScript(String command) throws Exception {
    Process p = new ProcessBuilder("bash", home.resolve("deploy/local/pg-cluster.sh").toString(), command,
        dataDir.toString()).inheritIO().start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return p.exitValue();
  }
}
