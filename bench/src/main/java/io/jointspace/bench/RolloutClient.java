package io.jointspace.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.Status;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.Rollout;
import io.jointspace.api.v1.StartRolloutRequest;
import io.jointspace.client.JointspaceClient;
import io.jointspace.client.JointspaceException;
import io.jointspace.trainer.Scene;
import io.jointspace.trainer.SceneGenerator;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * The rollout benchmark's control calls, through the Java client: scene collections, and
 * rollouts started, read and aborted.
 */
final class RolloutClient {
  /** States after which a rollout no longer backfills. */
  static final Set<Rollout.State> SETTLED = Set.of(Rollout.State.READY, Rollout.State.FAILED, Rollout.State.ABORTED,
      Rollout.State.PROMOTED, Rollout.State.FINALIZED, Rollout.State.ROLLED_BACK);

  private final JointspaceClient client;

  /** {@code client}: {@link ServerProcess#client} (a 120 s deadline, for aborts that wait for a backfill's locks). */
  RolloutClient(JointspaceClient client) {
    this.client = client;
  }

  /** Creates {@code name} on {@code model} (sources kept, the default), first dropping one left by an earlier run. */
  void create(String name, ModelSpec model) throws InterruptedException {
    drop(name);
    client.createCollection(CreateCollectionRequest.newBuilder().setName(name).setModel(model)
        .setDescription("rollout benchmark").build());
  }

  /** Drops {@code name}, aborting its open rollout first; nothing when it does not exist. */
  void drop(String name) throws InterruptedException {
    try {
      abort(name);
      client.deleteCollection(name);
    } catch (JointspaceException e) {
      if (e.code() != Status.Code.NOT_FOUND) {
        throw e;
      }
    }
  }

  /**
   * {@code count} scenes of {@code scenes} as items, each made when the ingest takes it: the
   * next scene as a 64x64 PNG, id {@code prefix-<n>} from 0, metadata {caption, color, shape}.
   */
  static Iterator<Item> scenes(SceneGenerator scenes, String prefix, int count) {
    return IntStream.range(0, count).mapToObj(i -> {
      Scene s = scenes.next();
      return Item.newBuilder().setId(prefix + "-" + i)
          .setInput(Input.newBuilder().setImage(ByteString.copyFrom(Workload.png(scenes, s))))
          .setMetadata(Struct.newBuilder()
              .putFields("caption", Value.newBuilder().setStringValue(s.caption()).build())
              .putFields("color", Value.newBuilder().setStringValue(
                  s.combo().color().name().toLowerCase(Locale.ROOT)).build())
              .putFields("shape", Value.newBuilder().setStringValue(
                  s.combo().shape().name().toLowerCase(Locale.ROOT)).build()))
          .build();
    }).iterator();
  }

  Rollout start(String collection, ModelSpec target, double rateLimit) {
    return client.startRollout(StartRolloutRequest.newBuilder().setCollection(collection).setTarget(target)
        .setRateLimit(rateLimit).build());
  }

  /** The collection's open rollout, else its newest. */
  Rollout get(String collection) {
    return client.getRollout(collection);
  }

  /**
   * Aborts the collection's open rollout, if it has one that can be aborted. UNAVAILABLE (the
   * database busy: the abort waited too long for a table) is retried.
   */
  void abort(String collection) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        client.abort(collection);
        return;
      } catch (JointspaceException e) {
        Status.Code code = e.code();
        if (code == Status.Code.NOT_FOUND || code == Status.Code.FAILED_PRECONDITION) {
          return;
        }
        if (code != Status.Code.UNAVAILABLE || attempt == 10) {
          throw e;
        }
        RolloutSuite.log("abort of the rollout of %s: %s; again", collection, e.getMessage());
        Thread.sleep(200);
      }
    }
  }

  /**
   * Starts a rollout of {@code collection} and waits until its backfill has written items, so
   * that a measurement that follows runs beside a backfill in full swing.
   */
  Rollout startBackfill(String collection, ModelSpec target, double rateLimit) throws InterruptedException {
    start(collection, target, rateLimit);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (true) {
      Rollout r = get(collection);
      if (r.getState() == Rollout.State.BACKFILLING && r.getProgress().getDone() > 0) {
        return r;
      }
      if (SETTLED.contains(r.getState()) || System.nanoTime() > until) {
        throw new IllegalStateException("rollout of " + collection + " did not start backfilling: " + r.getState()
            + " " + r.getError());
      }
      Thread.sleep(50);
    }
  }
}
