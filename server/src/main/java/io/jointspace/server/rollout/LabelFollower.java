package io.jointspace.server.rollout;

import io.jointspace.registry.ModelNotFoundException;
import io.jointspace.registry.ModelRequest;
import io.jointspace.registry.ModelUnavailableException;
import io.jointspace.server.errors.FailedPreconditionException;
import io.jointspace.server.store.Collection;
import io.jointspace.server.store.CollectionChangedException;
import io.jointspace.server.store.Rollout;
import io.jointspace.server.store.RolloutExistsException;
import io.jointspace.server.store.RolloutState;
import io.jointspace.server.store.Storage;
import io.jointspace.server.store.StoreUnavailableException;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves collections that follow a model label: every few seconds it compares each such
 * collection's version with its label's, starts a rollout when the label has moved (unless
 * the collection's last rollout went to that version and was aborted), and promotes a READY rollout it
 * started when the collection's policy says so and the evaluation meets its thresholds.
 * Every server runs one; the database keeps them from doing anything twice.
 */
public final class LabelFollower implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LabelFollower.class);
  /** The {@code created_by} of rollouts a label started. */
  static final String BY_LABEL = "label ";

  /** The version a label points at: its only one, or its largest share for a split. */
  @FunctionalInterface
  public interface LabelVersions {
    OptionalLong version(String model, String label);
  }

  private final Storage storage;
  private final Rollouts rollouts;
  private final LabelVersions labels;
  private final Duration interval;
  private final Set<String> warned = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** When a collection last could not follow a version ("name@version"): retried a minute later. */
  private final java.util.Map<String, Long> refused = new java.util.concurrent.ConcurrentHashMap<>();
  private static final long RETRY_REFUSED_NANOS = TimeUnit.MINUTES.toNanos(1);
  private ScheduledExecutorService timer;

  public LabelFollower(Storage storage, Rollouts rollouts, LabelVersions labels, Duration interval) {
    this.storage = storage;
    this.rollouts = rollouts;
    this.labels = labels;
    this.interval = interval;
  }

  public synchronized void start() {
    if (timer != null || !storage.configured()) {
      return;
    }
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "label-follower");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::tickQuietly, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void tickQuietly() {
    try {
      tick();
    } catch (StoreUnavailableException e) {
      // the backfill's loop says so; try again at the next tick
    } catch (RuntimeException e) {
      log.warn("Following labels: {}", e.toString());
    }
  }

  /** One pass over the collections that follow a label; one that fails does not stop the others. */
  void tick() {
    for (Collection c : storage.catalog().following()) {
      try {
        LabelPolicy policy = LabelPolicy.fromJson(c.following().policyJson());
        if (c.rollout() == null) {
          follow(c, policy);
        } else if (c.rollout().state() == RolloutState.READY && policy.autoPromote()) {
          promoteIfGood(c, policy);
        }
      } catch (StoreUnavailableException e) {
        throw e;
      } catch (RuntimeException e) {
        if (warned.add(c.name() + ": " + e.getMessage())) {
          log.warn("Following label {} for collection '{}': {}", c.following().label(), c.name(), e.toString());
        }
      }
    }
  }

  private void follow(Collection c, LabelPolicy policy) {
    String model = c.spec().modelName();
    String label = c.following().label();
    OptionalLong version = labels.version(model, label);
    if (version.isEmpty() || version.getAsLong() == c.spec().modelVersion()) {
      return;
    }
    String key = c.name() + "@" + version.getAsLong();
    Long refusedAt = refused.get(key);
    if (refusedAt != null && System.nanoTime() - refusedAt < RETRY_REFUSED_NANOS) {
      return; // the collection could not follow this version a moment ago; no new scans yet
    }
    if (storage.rollouts().abortedLast(c.name(), model, version.getAsLong())) {
      return;
    }
    try {
      Rollouts.Started s = rollouts.start(c.name(), ModelRequest.version(model, version.getAsLong()),
          policy.unembeddable(), policy.rateLimit(), policy.finalizeAfter(), false, BY_LABEL + label);
      log.info("Label {} of {} moved to version {}: rollout {} of collection '{}' started", label, model,
          version.getAsLong(), s.rollout().id(), c.name());
    } catch (RolloutExistsException | CollectionChangedException | ModelUnavailableException
        | ModelNotFoundException e) {
      // another server started it, or the version is not loaded here: a server that has it will
    } catch (FailedPreconditionException | io.jointspace.server.store.StoreConflictException e) {
      refused.put(key, System.nanoTime());
      if (warned.add(key)) {
        log.warn("Label {} of {} moved to version {}, but collection '{}' cannot follow it: {}", label, model,
            version.getAsLong(), c.name(), e.getMessage());
      }
    }
  }

  private void promoteIfGood(Collection c, LabelPolicy policy) {
    long id = c.rollout().id();
    storage.backfill().exclusively(id, () -> {
      Rollout r = rollouts.get(c.name(), id);
      if (r.state() != RolloutState.READY || !r.error().isEmpty() || !r.createdBy().startsWith(BY_LABEL)) {
        return;
      }
      OptionalLong now = labels.version(c.spec().modelName(), c.following().label());
      if (now.isEmpty() || now.getAsLong() != r.to().version()) {
        storage.rollouts().note(id, "auto-promote held: label " + c.following().label() + " no longer points at "
            + r.to().label() + "; PromoteRollout promotes it anyway, AbortRollout drops it");
        return;
      }
      Evaluation e = rollouts.evaluate(c.name(), id, policy.evaluation());
      String hold = policy.holdReason(e);
      if (hold == null) {
        rollouts.promote(c.name(), id);
        log.info("Rollout {} of collection '{}' promoted by its label policy ({} -> {})", id, c.name(),
            r.from().label(), r.to().label());
      } else {
        storage.rollouts().note(id, "auto-promote held: " + hold + "; PromoteRollout promotes it anyway");
        log.info("Rollout {} of collection '{}' waits for PromoteRollout: {}", id, c.name(), hold);
      }
    });
  }

  @Override
  public synchronized void close() {
    if (timer != null) {
      timer.shutdownNow();
      timer = null;
    }
  }
}
