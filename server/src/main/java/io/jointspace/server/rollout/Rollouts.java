package io.jointspace.server.rollout;

import io.jointspace.registry.ModelHandle;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelRequest;
import io.jointspace.server.errors.FailedPreconditionException;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.Encoder;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.store.Collection;
import io.jointspace.server.store.Rollout;
import io.jointspace.server.store.RolloutStore;
import io.jointspace.server.store.Storage;
import io.jointspace.server.store.Unembeddable;
import io.jointspace.server.store.VersionTable;
import java.time.Duration;
import java.util.List;
import javax.annotation.Nullable;

/**
 * Rollouts of collections from one model version to another: what RolloutService calls. It
 * checks a start against the target version loaded here and what the collection stores,
 * then leaves the work to the {@link Backfiller}s of every server on the database; the state
 * changes are single transactions in {@link RolloutStore}.
 */
public final class Rollouts {
  private final Storage storage;
  private final ModelManager<ModelVersion> registry;
  private final Backfiller backfiller;
  private final Evaluator evaluator;

  public Rollouts(Storage storage, ModelManager<ModelVersion> registry, Backfiller backfiller, Evaluator evaluator) {
    this.storage = storage;
    this.registry = registry;
    this.backfiller = backfiller;
    this.evaluator = evaluator;
  }

  /**
   * What a start would do.
   *
   * @param unembeddable items without a source, left to the policy
   */
  public record Plan(Collection collection, VersionTable target, long total, long unembeddable) {}

  /**
   * Checks a rollout of {@code collection} to {@code target} and, unless {@code dryRun},
   * starts it.
   *
   * @param unembeddable null when the request named no policy
   * @return the plan; with the started rollout unless {@code dryRun}
   * @throws FailedPreconditionException when the target cannot re-embed what the collection
   *     stores, or items cannot be re-embedded and no policy says what to do with them
   */
  public Started start(String collection, ModelRequest target, @Nullable Unembeddable unembeddable,
      double rateLimit, @Nullable Duration finalizeAfter, boolean dryRun, String by) {
    checkRate(rateLimit, "rate_limit");
    if (finalizeAfter != null && finalizeAfter.isNegative()) {
      throw new InvalidInputException("finalize_after must not be negative, got " + finalizeAfter);
    }
    Collection c = storage.catalog().get(collection);
    if (c.rollout() != null && !dryRun) {
      throw new io.jointspace.server.store.RolloutExistsException("collection '" + collection + "' has an open"
          + " rollout (id " + c.rollout().id() + ", " + c.rollout().state() + "); finalize or abort it first");
    }
    if (!c.spec().keepSources()) {
      throw new FailedPreconditionException("collection '" + collection + "' keeps no sources (created with"
          + " keep_sources false), so there is nothing to re-embed; create a new collection on the new version");
    }
    VersionTable to;
    boolean texts;
    boolean images;
    try (ModelHandle<ModelVersion> handle = registry.acquire(target)) {
      Encoder encoder = handle.get().encoder().orElseThrow(() -> new FailedPreconditionException("target: "
          + handle.id() + " has no encoder spec, so it cannot embed the collection's sources"));
      to = new VersionTable(handle.id().name(), handle.id().version(), c.name() + "_v" + handle.id().version(),
          encoder.dimension());
      texts = encoder.encodesText();
      images = encoder.encodesImages();
    }
    if (to.modelName().equals(c.spec().modelName()) && to.version() == c.spec().modelVersion()) {
      throw new FailedPreconditionException("target: collection '" + collection + "' is already on " + to.label());
    }
    if (to.dimension() < 1 || to.dimension() > c.spec().vectorType().maxIndexedDimension()) {
      throw new FailedPreconditionException("target: " + to.label() + " embeds in " + to.dimension()
          + " dimensions; collection '" + collection + "' stores " + c.spec().vectorType().sqlName()
          + ", which HNSW indexes up to " + c.spec().vectorType().maxIndexedDimension());
    }
    if (!to.modelName().equals(c.spec().modelName()) && !to.modelName().matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new InvalidInputException("target.name '" + to.modelName() + "' cannot name a collection's model");
    }
    java.util.function.Consumer<RolloutStore.Sources> check = s -> {
      if (s.texts() > 0 && !texts) {
        throw new FailedPreconditionException("target: " + to.label() + " embeds no text, and collection '"
            + collection + "' holds " + s.texts() + " item(s) stored from text");
      }
      if (s.images() > 0 && !images) {
        throw new FailedPreconditionException("target: " + to.label() + " embeds no images, and collection '"
            + collection + "' holds " + s.images() + " item(s) stored from images");
      }
      if (s.none() > 0 && (unembeddable == null || unembeddable == Unembeddable.FAIL)) {
        throw new FailedPreconditionException("collection '" + collection + "' holds " + s.none() + " item(s)"
            + " without a source (written as vectors), which " + to.label() + " cannot re-embed; set unembeddable"
            + " to UNEMBEDDABLE_DROP (leave them out of the new version) or UNEMBEDDABLE_KEEP_IN_OLD (leave them"
            + " out, and keep the old version's table at finalize)");
      }
    };
    RolloutStore.Sources sources = storage.rollouts().sources(c);
    check.accept(sources);
    Plan plan = new Plan(c, to, sources.texts() + sources.images(), sources.none());
    if (dryRun) {
      return new Started(plan, null);
    }
    Rollout r = storage.rollouts().start(c, to, unembeddable == null ? Unembeddable.FAIL : unembeddable, rateLimit,
        finalizeAfter, by, check);
    backfiller.nudge();
    return new Started(new Plan(c, to, r.total(), r.unembeddableCount()), r);
  }

  /**
   * Checks a backfill rate limit (items per second; 0: none).
   *
   * @throws InvalidInputException naming {@code field}
   */
  public static void checkRate(double rateLimit, String field) {
    if (!(rateLimit >= 0) || Double.isInfinite(rateLimit)) {
      throw new InvalidInputException(field + " must be a finite number >= 0, got " + rateLimit);
    }
  }

  /** A start's plan, and the rollout (null for a dry run). */
  public record Started(Plan plan, @Nullable Rollout rollout) {}

  public Rollout get(String collection, long id) {
    return storage.rollouts().get(collection, id);
  }

  public List<Rollout> list(@Nullable String collection) {
    return storage.rollouts().list(collection);
  }

  public List<io.jointspace.server.store.RolloutStore.Failure> failures(Rollout r) {
    return storage.rollouts().failures(r.id(), 100);
  }

  public Rollout pause(String collection, long id) {
    return storage.rollouts().pause(collection, id);
  }

  public Rollout resume(String collection, long id) {
    Rollout r = storage.rollouts().resume(collection, id);
    backfiller.nudge();
    return r;
  }

  public Rollout setRate(String collection, long id, double rateLimit) {
    checkRate(rateLimit, "rate_limit");
    return storage.rollouts().setRate(collection, id, rateLimit);
  }

  public Rollout promote(String collection, long id) {
    return storage.rollouts().promote(collection, id);
  }

  public Rollout rollback(String collection, long id) {
    return storage.rollouts().rollback(collection, id);
  }

  public Rollout finalizeRollout(String collection, long id) {
    return storage.rollouts().finalize(collection, id);
  }

  public Rollout abort(String collection, long id) {
    return storage.rollouts().abort(collection, id);
  }

  /**
   * Compares the rollout's two versions now and keeps the result on the rollout.
   *
   * @throws FailedPreconditionException while the backfill is not done
   */
  public Evaluation evaluate(String collection, long id, EvaluationRequest request) {
    Rollout r = get(collection, id);
    if (!r.state().open()) {
      throw new FailedPreconditionException("rollout " + r.id() + " is " + r.state() + ": one of its versions is gone");
    }
    if (r.remaining() > 0 || r.failed() > 0) {
      throw new FailedPreconditionException("rollout " + r.id() + " has " + r.remaining() + " item(s) still to"
          + " re-embed and " + r.failed() + " failed; evaluate once the backfill is done (state READY)");
    }
    Collection c = storage.catalog().get(collection);
    Evaluation e = evaluator.evaluate(c, r.from(), r.to(), request);
    storage.rollouts().saveEvaluation(r.id(), e.toJson());
    return e;
  }
}
