package io.jointspace.server.api;

import io.jointspace.server.auth.Scope;
import com.google.inject.Inject;
import com.google.protobuf.Duration;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.EvaluateRolloutRequest;
import io.jointspace.api.v1.GetRolloutRequest;
import io.jointspace.api.v1.ItemFailure;
import io.jointspace.api.v1.LabeledQuery;
import io.jointspace.api.v1.ListRolloutsRequest;
import io.jointspace.api.v1.ListRolloutsResponse;
import io.jointspace.api.v1.RolloutProgress;
import io.jointspace.api.v1.RolloutRequest;
import io.jointspace.api.v1.RolloutServiceGrpc;
import io.jointspace.api.v1.ScoreDistribution;
import io.jointspace.api.v1.SetRolloutRateRequest;
import io.jointspace.api.v1.StartRolloutRequest;
import io.jointspace.api.v1.UnembeddablePolicy;
import io.jointspace.api.v1.VersionScores;
import io.jointspace.registry.ModelRequest;
import io.jointspace.registry.ServableId;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.rollout.Evaluation;
import io.jointspace.server.rollout.EvaluationRequest;
import io.jointspace.server.rollout.Rollouts;
import io.jointspace.server.runtime.Content;
import io.jointspace.server.store.Rollout;
import io.jointspace.server.store.RolloutState;
import io.jointspace.server.store.RolloutStore;
import io.jointspace.server.store.Unembeddable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.annotation.Nullable;

/** {@code jointspace.v1.RolloutService}: maps protos to {@link Rollouts} and back. */
@com.google.inject.Singleton
public final class RolloutServiceImpl extends RolloutServiceGrpc.RolloutServiceImplBase {
  /** How often a WatchRollout call looks at the rollout. */
  static final long WATCH_INTERVAL_MILLIS = 1000;

  private final Rollouts rollouts;
  private final ScheduledExecutorService watches = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "rollout-watch");
    t.setDaemon(true);
    return t;
  });

  @Inject
  RolloutServiceImpl(Rollouts rollouts) {
    this.rollouts = rollouts;
  }

  @Override
  public void startRollout(StartRolloutRequest request, StreamObserver<io.jointspace.api.v1.Rollout> observer) {
    StatusMapper.answer(observer, () -> {
      String collection = ProtoMapper.collectionName(request.getCollection(), "collection");
      if (!request.hasTarget() || request.getTarget().getName().isEmpty()) {
        throw new InvalidInputException("target.name is empty; name the model version to move to");
      }
      ModelRequest target = ProtoMapper.modelRequest(request.getTarget(), "target");
      // the target re-embeds the collection and then serves it: choosing it is running it
      Caller.require(Scope.INFER, request.getTarget().getName());
      java.time.Duration finalizeAfter = request.hasFinalizeAfter()
          ? java.time.Duration.ofSeconds(request.getFinalizeAfter().getSeconds(), request.getFinalizeAfter().getNanos())
          : null;
      Rollouts.Started started = rollouts.start(collection, target, unembeddable(request.getUnembeddable(), "unembeddable"),
          request.getRateLimit(), finalizeAfter, request.getDryRun(), ModelServiceImpl.changedBy(""));
      if (started.rollout() != null) {
        return rollout(started.rollout(), List.of());
      }
      Rollouts.Plan plan = started.plan();
      return io.jointspace.api.v1.Rollout.newBuilder()
          .setCollection(collection)
          .setFrom(spec(plan.collection().spec().modelName(), plan.collection().spec().modelVersion()))
          .setTo(spec(plan.target().modelName(), plan.target().version()))
          .setToDimension(plan.target().dimension())
          .setUnembeddable(request.getUnembeddable())
          .setRateLimit(request.getRateLimit())
          .setProgress(RolloutProgress.newBuilder().setTotal(plan.total()).setRemaining(plan.total())
              .setUnembeddable(plan.unembeddable()))
          .build();
    });
  }

  @Nullable
  static Unembeddable unembeddable(UnembeddablePolicy p, String field) {
    return switch (p) {
      case UNEMBEDDABLE_UNSPECIFIED -> null;
      case UNEMBEDDABLE_FAIL -> Unembeddable.FAIL;
      case UNEMBEDDABLE_DROP -> Unembeddable.DROP;
      case UNEMBEDDABLE_KEEP_IN_OLD -> Unembeddable.KEEP_IN_OLD;
      case UNRECOGNIZED -> throw new InvalidInputException(field + ": unknown value " + p.getNumber());
    };
  }

  static UnembeddablePolicy unembeddable(@Nullable Unembeddable u) {
    return u == null ? UnembeddablePolicy.UNEMBEDDABLE_UNSPECIFIED : switch (u) {
      case FAIL -> UnembeddablePolicy.UNEMBEDDABLE_FAIL;
      case DROP -> UnembeddablePolicy.UNEMBEDDABLE_DROP;
      case KEEP_IN_OLD -> UnembeddablePolicy.UNEMBEDDABLE_KEEP_IN_OLD;
    };
  }

  @Override
  public void getRollout(GetRolloutRequest request, StreamObserver<io.jointspace.api.v1.Rollout> observer) {
    StatusMapper.answer(observer, () -> withFailures(rollouts.get(ProtoMapper.collectionName(request.getCollection(), "collection"),
        request.getRolloutId())));
  }

  @Override
  public void listRollouts(ListRolloutsRequest request, StreamObserver<ListRolloutsResponse> observer) {
    StatusMapper.answer(observer, () -> {
      ListRolloutsResponse.Builder out = ListRolloutsResponse.newBuilder();
      for (Rollout r : rollouts.list(request.getCollection().isEmpty() ? null : request.getCollection())) {
        if (!Caller.sees(Scope.COLLECTIONS_READ, r.collection())) {
          continue; // a key limited to other collections
        }
        out.addRollouts(rollout(r, List.of()));
      }
      return out.build();
    });
  }

  @Override
  public void watchRollout(GetRolloutRequest request, StreamObserver<io.jointspace.api.v1.Rollout> observer) {
    String collection;
    io.jointspace.api.v1.Rollout first;
    try {
      collection = ProtoMapper.collectionName(request.getCollection(), "collection");
      first = withFailures(rollouts.get(collection, request.getRolloutId()));
    } catch (RuntimeException e) {
      observer.onError(StatusMapper.toStatus(e));
      return;
    }
    long id = first.getId();
    ServerCallStreamObserver<io.jointspace.api.v1.Rollout> call =
        (ServerCallStreamObserver<io.jointspace.api.v1.Rollout>) observer;
    AtomicReference<io.jointspace.api.v1.Rollout> last = new AtomicReference<>(first);
    AtomicReference<ScheduledFuture<?>> task = new AtomicReference<>();
    call.onNext(first);
    if (terminal(first)) {
      call.onCompleted();
      return;
    }
    task.set(watches.scheduleWithFixedDelay(() -> {
      if (call.isCancelled()) {
        task.get().cancel(false);
        return;
      }
      try {
        io.jointspace.api.v1.Rollout now = withFailures(rollouts.get(collection, id));
        if (!now.equals(last.get())) {
          if (!terminal(now) && !call.isReady()) {
            // the watcher is not reading: it gets the newest state once it reads, not a backlog
            return;
          }
          last.set(now);
          call.onNext(now);
        }
        if (terminal(now)) {
          task.get().cancel(false);
          call.onCompleted();
        }
      } catch (io.jointspace.server.store.StoreUnavailableException e) {
        // keep watching: the database comes back
      } catch (RuntimeException e) {
        task.get().cancel(false);
        call.onError(StatusMapper.toStatus(e));
      }
    }, WATCH_INTERVAL_MILLIS, WATCH_INTERVAL_MILLIS, TimeUnit.MILLISECONDS));
    call.setOnCancelHandler(() -> task.get().cancel(false));
  }

  private static boolean terminal(io.jointspace.api.v1.Rollout r) {
    return r.getState() == io.jointspace.api.v1.Rollout.State.FINALIZED
        || r.getState() == io.jointspace.api.v1.Rollout.State.ABORTED;
  }

  @Override
  public void pauseRollout(RolloutRequest request, StreamObserver<io.jointspace.api.v1.Rollout> observer) {
    StatusMapper.answer(observer, () -> withFailures(rollouts.pause(ProtoMapper.collectionName(request.getCollection(), "collection"),
        request.getRolloutId())));
  }

  @Override
  public void resumeRollout(RolloutRequest request, StreamObserver<io.jointspace.api.v1.Rollout> observer) {
    StatusMapper.answer(observer, () -> withFailures(rollouts.resume(ProtoMapper.collectionName(request.getCollection(), "collection"),
        request.getRolloutId())));
  }

  @Override
  public void setRolloutRate(SetRolloutRateRequest request, StreamObserver<io.jointspace.api.v1.Rollout> observer) {
    StatusMapper.answer(observer, () -> withFailures(rollouts.setRate(ProtoMapper.collectionName(request.getCollection(), "collection"),
        request.getRolloutId(), request.getRateLimit())));
  }

  @Override
  public void promoteRollout(RolloutRequest request, StreamObserver<io.jointspace.api.v1.Rollout> observer) {
    StatusMapper.answer(observer, () -> withFailures(rollouts.promote(ProtoMapper.collectionName(request.getCollection(), "collection"),
        request.getRolloutId())));
  }

  @Override
  public void rollbackRollout(RolloutRequest request, StreamObserver<io.jointspace.api.v1.Rollout> observer) {
    StatusMapper.answer(observer, () -> withFailures(rollouts.rollback(
        ProtoMapper.collectionName(request.getCollection(), "collection"), request.getRolloutId())));
  }

  @Override
  public void finalizeRollout(RolloutRequest request, StreamObserver<io.jointspace.api.v1.Rollout> observer) {
    StatusMapper.answer(observer, () -> withFailures(rollouts.finalizeRollout(
        ProtoMapper.collectionName(request.getCollection(), "collection"), request.getRolloutId())));
  }

  @Override
  public void abortRollout(RolloutRequest request, StreamObserver<io.jointspace.api.v1.Rollout> observer) {
    StatusMapper.answer(observer, () -> withFailures(rollouts.abort(ProtoMapper.collectionName(request.getCollection(), "collection"),
        request.getRolloutId())));
  }

  @Override
  public void evaluateRollout(EvaluateRolloutRequest request,
      StreamObserver<io.jointspace.api.v1.Evaluation> observer) {
    StatusMapper.answer(observer, () -> {
      String collection = ProtoMapper.collectionName(request.getCollection(), "collection");
      int sample = request.getSampleSize() == 0 ? EvaluationRequest.DEFAULT_SAMPLE : request.getSampleSize();
      if (sample < 1 || sample > EvaluationRequest.MAX_SAMPLE) {
        throw new InvalidInputException("sample_size must be within 1.." + EvaluationRequest.MAX_SAMPLE + ", got "
            + request.getSampleSize());
      }
      int k = request.getK() == 0 ? EvaluationRequest.DEFAULT_K : request.getK();
      if (k < 1 || k > EvaluationRequest.MAX_K) {
        throw new InvalidInputException("k must be within 1.." + EvaluationRequest.MAX_K + ", got " + request.getK());
      }
      if (request.getQueriesCount() > EvaluationRequest.MAX_QUERIES) {
        throw new io.jointspace.server.store.LimitExceededException("queries has " + request.getQueriesCount()
            + " entries, over the limit of " + EvaluationRequest.MAX_QUERIES);
      }
      List<EvaluationRequest.LabeledQuery> queries = new ArrayList<>();
      for (int i = 0; i < request.getQueriesCount(); i++) {
        LabeledQuery q = request.getQueries(i);
        String at = "queries[" + i + "].query";
        Content content = switch (q.getQuery().getContentCase()) {
          case TEXT -> new Content.Text(q.getQuery().getText());
          case IMAGE -> new Content.Image(q.getQuery().getImage().toByteArray());
          case TENSOR -> throw new InvalidInputException(at + ".tensor: give the query as text or an image");
          case CONTENT_NOT_SET -> throw new InvalidInputException(at + " has no content; set text or image");
        };
        if (q.getExpectedIdsCount() == 0) {
          throw new InvalidInputException("queries[" + i + "].expected_ids is empty");
        }
        queries.add(new EvaluationRequest.LabeledQuery(content, new HashSet<>(q.getExpectedIdsList())));
      }
      String template = request.getClassTemplate().isEmpty() ? "{}" : request.getClassTemplate();
      if (!template.contains("{}")) {
        throw new InvalidInputException("class_template '" + template + "' has no {} for the class name");
      }
      Evaluation e = rollouts.evaluate(collection, request.getRolloutId(),
          new EvaluationRequest(sample, k, queries, request.getClassKey(), template));
      return evaluation(e);
    });
  }

  private io.jointspace.api.v1.Rollout withFailures(Rollout r) {
    return rollout(r, r.failed() > 0 ? rollouts.failures(r) : List.of());
  }

  static io.jointspace.api.v1.Rollout rollout(Rollout r, List<RolloutStore.Failure> failures) {
    RolloutProgress.Builder progress = RolloutProgress.newBuilder()
        .setTotal(r.total())
        .setDone(r.done())
        .setRemaining(r.remaining())
        .setFailed(r.failed())
        .setUnembeddable(r.unembeddableCount())
        .setItemsPerSecond(Math.round(r.itemsPerSecond() * 10) / 10.0)
        .setIndexBuilt(r.indexBuilt());
    if (r.eta() != null && (r.state() == RolloutState.BACKFILLING || r.state() == RolloutState.PENDING)) {
      progress.setEta(duration(r.eta()));
    }
    io.jointspace.api.v1.Rollout.Builder b = io.jointspace.api.v1.Rollout.newBuilder()
        .setId(r.id())
        .setCollection(r.collection())
        .setFrom(spec(r.from().modelName(), r.from().version()))
        .setTo(spec(r.to().modelName(), r.to().version()))
        .setState(io.jointspace.api.v1.Rollout.State.valueOf(r.state().name()))
        .setToDimension(r.to().dimension())
        .setUnembeddable(unembeddable(r.unembeddable()))
        .setRateLimit(r.rateLimit())
        .setProgress(progress)
        .setError(r.error())
        .setCreatedBy(r.createdBy())
        .setCreatedAt(ProtoMapper.timestamp(r.createdAt()));
    for (RolloutStore.Failure f : failures) {
      b.addFailures(ItemFailure.newBuilder().setId(f.id()).setError(f.error()).setAttempts(f.attempts()));
    }
    if (r.evaluationJson() != null) {
      b.setEvaluation(evaluation(Evaluation.fromJson(r.evaluationJson())));
    }
    if (r.finalizeAfter() != null) {
      b.setFinalizeAfter(duration(r.finalizeAfter()));
    }
    if (r.readyAt() != null) {
      b.setReadyAt(ProtoMapper.timestamp(r.readyAt()));
    }
    if (r.promotedAt() != null) {
      b.setPromotedAt(ProtoMapper.timestamp(r.promotedAt()));
    }
    if (r.finishedAt() != null) {
      b.setFinishedAt(ProtoMapper.timestamp(r.finishedAt()));
    }
    return b.build();
  }

  static io.jointspace.api.v1.Evaluation evaluation(Evaluation e) {
    return io.jointspace.api.v1.Evaluation.newBuilder()
        .setNeighbourAgreement(e.neighbourAgreement())
        .setK(e.k())
        .setSampledItems(e.sampledItems())
        .setFrom(scores(e.from()))
        .setTo(scores(e.to()))
        .setEvaluatedAt(ProtoMapper.timestamp(Instant.ofEpochMilli(e.evaluatedAtMillis())))
        .addAllNotes(e.notes())
        .build();
  }

  private static VersionScores scores(Evaluation.VersionScores s) {
    VersionScores.Builder b = VersionScores.newBuilder()
        .setModel(spec(s.model(), s.version()))
        .setRank1(distribution(s.rank1()))
        .setRankK(distribution(s.rankK()));
    if (s.recallAtK() != null) {
      b.setRecallAtK(s.recallAtK());
    }
    if (s.zeroShotAccuracy() != null) {
      b.setZeroShotAccuracy(s.zeroShotAccuracy());
    }
    if (s.classPrecisionAtK() != null) {
      b.setClassPrecisionAtK(s.classPrecisionAtK());
    }
    return b.build();
  }

  private static ScoreDistribution distribution(Evaluation.Distribution d) {
    return ScoreDistribution.newBuilder().setMedian(d.median()).setP10(d.p10()).setMean(d.mean()).build();
  }

  private static io.jointspace.api.v1.ModelSpec spec(String model, long version) {
    return ProtoMapper.resolved(new ServableId(model, version), "");
  }

  private static Duration duration(java.time.Duration d) {
    return Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  /** Stops the watch timer (server shutdown). */
  public void close() {
    watches.shutdownNow();
  }
}
