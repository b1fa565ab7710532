package io.jointspace.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.DeleteCollectionRequest;
import io.jointspace.api.v1.GetRolloutRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.Rollout;
import io.jointspace.api.v1.RolloutRequest;
import io.jointspace.api.v1.RolloutServiceGrpc;
import io.jointspace.api.v1.StartRolloutRequest;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.trainer.Scene;
import io.jointspace.trainer.SceneGenerator;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** The gRPC side of the rollout benchmark: scene collections, and rollouts started, read and aborted. */
final class RolloutClient {
  /** States after which a rollout no longer backfills. */
  static final Set<Rollout.State> SETTLED = Set.of(Rollout.State.READY, Rollout.State.FAILED, Rollout.State.ABORTED,
      Rollout.State.PROMOTED, Rollout.State.FINALIZED, Rollout.State.ROLLED_BACK);

  private final ManagedChannel channel;

  RolloutClient(ManagedChannel channel) {
    this.channel = channel;
  }

  private CollectionServiceGrpc.CollectionServiceBlockingStub collections() {
    return CollectionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS);
  }

  private RolloutServiceGrpc.RolloutServiceBlockingStub rollouts() {
    return RolloutServiceGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS);
  }

  /** Creates {@code name} on {@code model} (sources kept, the default), first dropping one left by an earlier run. */
  void create(String name, ModelSpec model) throws InterruptedException {
    drop(name);
    collections().createCollection(CreateCollectionRequest.newBuilder().setName(name).setModel(model)
        .setDescription("rollout benchmark").build());
  }

  /** Drops {@code name}, aborting its open rollout first; nothing when it does not exist. */
  void drop(String name) throws InterruptedException {
    try {
      abort(name);
      collections().deleteCollection(DeleteCollectionRequest.newBuilder().setName(name).build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        throw e;
      }
    }
  }

  /**
   * Upsert message {@code m} of {@code count} scenes: the next {@code count} scenes of
   * {@code scenes} as 64x64 PNGs, ids {@code prefix-<n>} from {@code first}, metadata
   * {caption, color, shape}.
   */
  static UpsertStreamRequest scenes(String collection, SceneGenerator scenes, String prefix, int first, int count) {
    UpsertStreamRequest.Builder b = UpsertStreamRequest.newBuilder().setCollection(collection);
    for (int i = 0; i < count; i++) {
      Scene s = scenes.next();
      b.addItems(Item.newBuilder().setId(prefix + "-" + (first + i))
          .setInput(Input.newBuilder().setImage(ByteString.copyFrom(Workload.png(scenes, s))))
          .setMetadata(Struct.newBuilder()
              .putFields("caption", Value.newBuilder().setStringValue(s.caption()).build())
              .putFields("color", Value.newBuilder().setStringValue(
                  s.combo().color().name().toLowerCase(Locale.ROOT)).build())
              .putFields("shape", Value.newBuilder().setStringValue(
                  s.combo().shape().name().toLowerCase(Locale.ROOT)).build())));
    }
    return b.build();
  }

  Rollout start(String collection, ModelSpec target, double rateLimit) {
    return rollouts().startRollout(StartRolloutRequest.newBuilder().setCollection(collection).setTarget(target)
        .setRateLimit(rateLimit).build());
  }

  /** The collection's open rollout, else its newest. */
  Rollout get(String collection) {
    return rollouts().getRollout(GetRolloutRequest.newBuilder().setCollection(collection).build());
  }

  /**
   * Aborts the collection's open rollout, if it has one that can be aborted. UNAVAILABLE (the
   * database busy: the abort waited too long for a table) is retried.
   */
  void abort(String collection) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        rollouts().abortRollout(RolloutRequest.newBuilder().setCollection(collection).build());
        return;
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (code == Status.Code.NOT_FOUND || code == Status.Code.FAILED_PRECONDITION) {
          return;
        }
        if (code != Status.Code.UNAVAILABLE || attempt == 10) {
          throw e;
        }
        RolloutSuite.log("abort of the rollout of %s: %s; again", collection, e.getStatus().getDescription());
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
