package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.DeleteRequest;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.GetRequest;
import io.jointspace.api.v1.GetRolloutRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.Rollout;
import io.jointspace.api.v1.RolloutRequest;
import io.jointspace.api.v1.RolloutServiceGrpc;
import io.jointspace.api.v1.SetRolloutRateRequest;
import io.jointspace.api.v1.StartRolloutRequest;
import io.jointspace.api.v1.StoredItem;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.server.store.TestDatabase;
import io.jointspace.trainer.Scene;
import io.jointspace.trainer.SceneGenerator;
import io.jointspace.trainer.Split;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two {@code serve} processes share a rollout on one private database. One is killed (-9)
 * mid-backfill while clients write and delete through the other: the survivor finishes, and
 * the target version holds exactly the collection's items, each with the vector the target
 * gives its source; the killed one, started again at once, serves the same rollout and items.
 * Then PostgreSQL itself restarts mid-rollout, and the rollout goes on by itself.
 */
class RolloutCrashTest {
  private final Path home = TestDatabase.projectRoot();
  private Path dataDir;
  private final List<ServeProcess> servers = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    for (ServeProcess s : servers) {
      s.close();
    }
    if (dataDir != null) {
      new ProcessBuilder("bash", home.resolve("deploy/local/pg-cluster.sh").toString(), "stop", dataDir.toString())
          .inheritIO().start().waitFor(60, TimeUnit.SECONDS);
    }
  }

  private ManagedChannel serve(String name, Path config) throws Exception {
    ServeProcess s = ServeProcess.start(home, dataDir, ServerFixture.freePort(),
        home.resolve("server/target/rollout-crash-" + name + ".log"), "--config", config.toString());
    servers.add(s);
    return s.awaitReady();
  }

  private static ModelSpec clip(long version) {
    return ModelSpec.newBuilder().setName("shapes-clip").setVersion(version).build();
  }

  @Test
  void killedServer_andRestartedDatabase_loseNothing_andEmbedNothingTwice() throws Exception {
    dataDir = TestDatabase.emptyClusterDir("pg-rollout-crash");
    Path config = dataDir.resolveSibling("rollout-crash.textproto");
    // both demo versions; short leases so the survivor takes the dead server's items over soon
    Files.writeString(config, Files.readString(home.resolve("models/serve.textproto"))
        + "\nrollouts { lease_ms: 3000 chunk_size: 8 }\n");
    ManagedChannel a = serve("a", config);
    ManagedChannel b = serve("b", config);
    var collectionsA = CollectionServiceGrpc.newBlockingStub(a).withDeadlineAfter(300, TimeUnit.SECONDS);
    var rolloutsA = RolloutServiceGrpc.newBlockingStub(a).withDeadlineAfter(300, TimeUnit.SECONDS);
    var collectionsB = CollectionServiceGrpc.newBlockingStub(b).withDeadlineAfter(300, TimeUnit.SECONDS);
    var rolloutsB = RolloutServiceGrpc.newBlockingStub(b).withDeadlineAfter(300, TimeUnit.SECONDS);
    var embedB = EmbeddingServiceGrpc.newBlockingStub(b).withDeadlineAfter(300, TimeUnit.SECONDS);

    // 240 items, half images, half texts
    collectionsA.createCollection(CreateCollectionRequest.newBuilder().setName("crashy").setModel(clip(1)).build());
    SceneGenerator gen = new SceneGenerator(3, Split.ALL, 64, 64);
    List<String> ids = new ArrayList<>();
    for (int batch = 0; batch < 4; batch++) {
      UpsertRequest.Builder up = UpsertRequest.newBuilder().setCollection("crashy");
      for (int i = 0; i < 60; i++) {
        Scene s = gen.next();
        String id = "item-" + (batch * 60 + i);
        ids.add(id);
        up.addItems(Item.newBuilder().setId(id).setInput(i % 2 == 0 ? Input.newBuilder().setText(s.caption())
            : Input.newBuilder().setImage(png(gen, s))));
      }
      collectionsA.upsert(up.build());
    }

    Rollout started = rolloutsA.startRollout(StartRolloutRequest.newBuilder().setCollection("crashy")
        .setTarget(clip(2)).setRateLimit(30).build());
    assertThat(started.getProgress().getTotal()).isEqualTo(240);
    Rollout midway = await(rolloutsB, "crashy", r -> r.getProgress().getDone() >= 48);
    assertThat(midway.getState()).isEqualTo(Rollout.State.BACKFILLING);
    servers.get(0).process.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL, mid-chunk or not
    // the killed server starts again at once (checked below, once it serves), on the same database
    ServeProcess restarted = ServeProcess.start(home, dataDir, ServerFixture.freePort(),
        home.resolve("server/target/rollout-crash-a-restarted.log"), "--config", config.toString());
    servers.add(restarted);

    // clients write through the survivor meanwhile: new items, rewrites, deletes
    UpsertRequest.Builder up = UpsertRequest.newBuilder().setCollection("crashy");
    for (int i = 0; i < 8; i++) {
      Scene s = gen.next();
      ids.add("late-" + i);
      up.addItems(Item.newBuilder().setId("late-" + i).setInput(Input.newBuilder().setImage(png(gen, s))));
    }
    up.addItems(Item.newBuilder().setId("item-239").setInput(Input.newBuilder().setText("a yellow star")));
    up.addItems(Item.newBuilder().setId("item-1").setInput(Input.newBuilder().setText("a green square")));
    collectionsB.upsert(up.build());
    collectionsB.delete(DeleteRequest.newBuilder().setCollection("crashy").addIds("item-2").addIds("item-238").build());
    rolloutsB.setRolloutRate(SetRolloutRateRequest.newBuilder().setCollection("crashy").setRateLimit(0).build());

    Rollout ready = await(rolloutsB, "crashy", r -> r.getState() == Rollout.State.READY);
    assertThat(ready.getProgress().getRemaining()).isZero();
    assertThat(ready.getProgress().getFailed()).isZero();
    Map<String, StoredItem> v1 = stored(collectionsB, ids, 1);
    Map<String, StoredItem> v2 = stored(collectionsB, ids, 2);
    assertThat(v1).hasSize(240 + 8 - 2);
    assertThat(v2.keySet()).isEqualTo(v1.keySet());
    assertThat(v2.get("item-239").getSource().getText()).isEqualTo("a yellow star");
    assertSameAsEmbed(embedB, v2, 2);
    assertSameAsEmbed(embedB, v1, 1);

    // the killed server, started again, serves the same rollout and items
    ManagedChannel a2 = restarted.awaitReady();
    var collectionsA2 = CollectionServiceGrpc.newBlockingStub(a2).withDeadlineAfter(300, TimeUnit.SECONDS);
    var rolloutsA2 = RolloutServiceGrpc.newBlockingStub(a2).withDeadlineAfter(300, TimeUnit.SECONDS);
    assertThat(stable(rolloutsA2.getRollout(GetRolloutRequest.newBuilder().setCollection("crashy").build())))
        .isEqualTo(stable(rolloutsB.getRollout(GetRolloutRequest.newBuilder().setCollection("crashy").build())));
    assertThat(stored(collectionsA2, ids, 1)).isEqualTo(v1);
    assertThat(stored(collectionsA2, ids, 2)).isEqualTo(v2);

    // PostgreSQL restarts mid-rollout: the rollout (back to version 1) resumes by itself
    rolloutsB.promoteRollout(RolloutRequest.newBuilder().setCollection("crashy").build());
    rolloutsB.finalizeRollout(RolloutRequest.newBuilder().setCollection("crashy").build());
    rolloutsB.startRollout(StartRolloutRequest.newBuilder().setCollection("crashy").setTarget(clip(1))
        .setRateLimit(40).build());
    await(rolloutsB, "crashy", r -> r.getProgress().getDone() >= 40);
    cluster("stop");
    Thread.sleep(1500);
    cluster("start");
    Rollout back = await(rolloutsB, "crashy", r -> r.getState() == Rollout.State.READY);
    assertThat(back.getProgress().getFailed()).isZero();
    Map<String, StoredItem> again = stored(collectionsB, ids, 1);
    assertThat(again.keySet()).isEqualTo(v1.keySet());
    assertSameAsEmbed(embedB, again, 1);
    // the restarted server rode out the database's restart too
    assertThat(await(rolloutsA2, "crashy", r -> r.getState() == Rollout.State.READY).getId()).isEqualTo(back.getId());
    assertThat(stored(collectionsA2, ids, 1)).isEqualTo(again);
  }

  /** A rollout without its rate and ETA, which each server measures for itself. */
  private static Rollout stable(Rollout r) {
    return r.toBuilder().setProgress(r.getProgress().toBuilder().clearItemsPerSecond().clearEta()).build();
  }

  private void cluster(String command) throws Exception {
    Process p = new ProcessBuilder("bash", home.resolve("deploy/local/pg-cluster.sh").toString(), command,
        dataDir.toString()).redirectErrorStream(true).start();
    p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("pg-cluster.sh " + command).isZero();
  }

  private static ByteString png(SceneGenerator gen, Scene s) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(gen.render(s), "png", out);
    return ByteString.copyFrom(out.toByteArray());
  }

  /** Polls GetRollout (riding out a database that is away) until {@code done} holds. */
  private static Rollout await(RolloutServiceGrpc.RolloutServiceBlockingStub stub, String collection,
      Predicate<Rollout> done) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
    Rollout r = null;
    while (System.nanoTime() < until) {
      try {
        r = stub.getRollout(GetRolloutRequest.newBuilder().setCollection(collection).build());
        assertThat(r.getState()).as(r.getError()).isNotEqualTo(Rollout.State.FAILED);
        if (done.test(r)) {
          return r;
        }
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
      }
      Thread.sleep(100);
    }
    throw new AssertionError("rollout of " + collection + " did not get there: " + r);
  }

  private static Map<String, StoredItem> stored(CollectionServiceGrpc.CollectionServiceBlockingStub stub,
      List<String> ids, long version) {
    Map<String, StoredItem> out = new TreeMap<>();
    for (int from = 0; from < ids.size(); from += 500) {
      for (StoredItem item : stub.get(GetRequest.newBuilder().setCollection("crashy")
          .addAllIds(ids.subList(from, Math.min(ids.size(), from + 500))).setModelVersion(version)
          .setIncludeVectors(true).setIncludeSources(true).build()).getItemsList()) {
        out.put(item.getId(), item);
      }
    }
    return out;
  }

  /** Every stored vector is what Embed gives its source with {@code version}. */
  private static void assertSameAsEmbed(EmbeddingServiceGrpc.EmbeddingServiceBlockingStub embed,
      Map<String, StoredItem> items, long version) {
    List<StoredItem> list = new ArrayList<>(items.values());
    for (int from = 0; from < list.size(); from += 64) {
      List<StoredItem> part = list.subList(from, Math.min(list.size(), from + 64));
      EmbedRequest.Builder req = EmbedRequest.newBuilder().setModel(clip(version));
      part.forEach(i -> req.addInputs(i.getSource()));
      EmbedResponse got = embed.embed(req.build());
      for (int i = 0; i < part.size(); i++) {
        List<Float> want = got.getEmbeddings(i).getValuesList();
        List<Float> stored = part.get(i).getVector().getValuesList();
        assertThat(stored).as(part.get(i).getId()).hasSameSizeAs(want);
        for (int d = 0; d < want.size(); d++) {
          assertThat((double) stored.get(d)).as("%s [%d] of version %d", part.get(i).getId(), d, version)
              .isCloseTo(want.get(d), org.assertj.core.data.Offset.offset(1e-4));
        }
      }
    }
  }
}
