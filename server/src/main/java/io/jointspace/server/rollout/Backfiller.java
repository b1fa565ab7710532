package io.jointspace.server.rollout;

import io.jointspace.registry.ModelHandle;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelRequest;
import io.jointspace.registry.ModelUnavailableException;
import io.jointspace.server.batching.DeadlineExceededException;
import io.jointspace.server.batching.QueueClosedException;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.errors.OverloadedException;
import io.jointspace.server.runtime.CallScope;
import io.jointspace.server.runtime.Content;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.store.Backfill;
import io.jointspace.server.store.Collection;
import io.jointspace.server.store.Rollout;
import io.jointspace.server.store.RolloutState;
import io.jointspace.server.store.Storage;
import io.jointspace.server.store.StoreUnavailableException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This server's share of every rollout's backfill: worker threads that claim items in the
 * database ({@link Backfill}), re-embed their stored sources with the target version through
 * its batch queues, and write them. Any server with the target version loaded takes part;
 * the one that finds the worklist empty builds the target's index, evaluates, and marks the
 * rollout READY. The same loop finalizes rollouts whose {@code finalize_after} has passed.
 *
 * <p>Live calls go first: before each chunk a worker waits (at most {@code maxYield}) until
 * no live call has run on this server for 50 ms; at most {@code threads} chunks of backfill
 * are in the queues at once. Under a load that never pauses, the backfill goes on at one
 * chunk per thread per {@code maxYield}.
 */
public final class Backfiller implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Backfiller.class);
  private static final Set<RolloutState> BACKFILLING = Set.of(RolloutState.PENDING, RolloutState.BACKFILLING);

  /**
   * @param threads worker threads on this server
   * @param chunk items claimed and embedded together
   * @param lease how long a claim holds items before another server may take them
   * @param poll how often an idle worker looks for work
   * @param maxAttempts tries per item before it is listed as failed
   * @param retryBackoff first wait before an item is retried (doubled each time)
   * @param maxYield longest a worker waits for live calls before it embeds a chunk anyway
   */
  public record Options(int threads, int chunk, Duration lease, Duration poll, int maxAttempts,
      Duration retryBackoff, Duration maxYield) {
    public static final Options DEFAULT = new Options(3, 64, Duration.ofSeconds(15), Duration.ofMillis(500), 4,
        Duration.ofSeconds(1), Duration.ofSeconds(10));
  }

  private final Storage storage;
  private final ModelManager<ModelVersion> registry;
  private final Evaluator evaluator;
  private final Options options;
  private final String worker;
  private final List<Thread> threads = new ArrayList<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wake = lock.newCondition();
  private final Map<String, Counter> backfilled = new ConcurrentHashMap<>();
  private final MeterRegistry meters;
  /** Whether no live gRPC call (Embed, collections, KServe) ran on this server for a moment. */
  private final java.util.function.BooleanSupplier liveQuiet;
  private final RolloutMetrics progress;
  private volatile boolean running;
  private volatile boolean outage;
  private volatile long lastFinalizeCheck;
  private volatile long lastMetrics;

  public Backfiller(Storage storage, ModelManager<ModelVersion> registry, Evaluator evaluator, Options options,
      MeterRegistry meters, java.util.function.BooleanSupplier liveQuiet) {
    this.storage = storage;
    this.registry = registry;
    this.evaluator = evaluator;
    this.options = options;
    this.meters = meters;
    this.liveQuiet = liveQuiet;
    this.progress = new RolloutMetrics(meters);
    this.worker = ManagementFactory.getRuntimeMXBean().getName() + "/" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Starts the workers; a server without a database has none. */
  public synchronized void start() {
    if (running || !storage.configured()) {
      return;
    }
    running = true;
    for (int i = 0; i < options.threads(); i++) {
      Thread t = new Thread(this::loop, "rollout-backfill-" + (i + 1));
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** Wakes idle workers now (a rollout started or resumed on this server). */
  public void nudge() {
    lock.lock();
    try {
      wake.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** This worker's name in the database's leases. */
  public String worker() {
    return worker;
  }

  private void loop() {
    while (running) {
      boolean worked = false;
      try {
        for (Rollout r : storage.rollouts().inStates(BACKFILLING, false)) {
          worked |= step(r);
        }
        finalizeDue();
        refreshMetrics();
        if (outage) {
          outage = false;
          log.info("Rollout backfill: the database is back");
        }
      } catch (StoreUnavailableException e) {
        if (!outage) {
          outage = true;
          log.warn("Rollout backfill waits for the database: {}", e.getMessage());
        }
      } catch (RuntimeException e) {
        log.warn("Rollout backfill: {}", e.toString());
      }
      if (!worked) {
        sleep(options.poll());
      }
    }
  }

  /**
   * Chunks of one rollout, one after another for up to {@link #TURN} (the catalog looked up
   * once for all of them); whether there was work.
   */
  private boolean step(Rollout r) {
    Backfill backfill = storage.backfill();
    ModelHandle<ModelVersion> target;
    try {
      target = registry.acquire(ModelRequest.version(r.to().modelName(), r.to().version()));
    } catch (RuntimeException e) {
      return false; // not loaded here: servers that have it do the work
    }
    try (target) {
      if (r.state() == RolloutState.PENDING && backfill.begin(r.id())) {
        log.info("Rollout {} of collection '{}': backfilling {} items with {}", r.id(), r.collection(), r.total(),
            r.to().label());
      }
      Collection collection = storage.catalog().get(r.collection());
      Collection into = collection.at(r.to());
      long until = System.nanoTime() + TURN.toNanos();
      boolean worked = false;
      while (running && chunk(r, backfill, target.get(), collection, into)) {
        worked = true;
        if (System.nanoTime() > until) {
          break;
        }
      }
      return worked;
    }
  }

  /** How long a worker stays with one rollout before it looks at the others again. */
  private static final Duration TURN = Duration.ofSeconds(1);

  /**
   * Claims, embeds and writes one chunk (after yielding to live calls and to the rate limit);
   * false when there was nothing to claim (then finishes the rollout if its worklist is empty).
   */
  private boolean chunk(Rollout r, Backfill backfill, ModelVersion target, Collection collection, Collection into) {
    yieldToLiveCalls();
    int chunk = r.rateLimit() > 0 ? (int) Math.max(1, Math.min(options.chunk(), r.rateLimit())) : options.chunk();
    if (r.rateLimit() > 0) {
      Duration wait = backfill.reserve(r.id(), chunk);
      if (!wait.isZero()) {
        sleep(wait);
      }
    }
    List<Backfill.Claimed> claimed = backfill.claim(r, worker, chunk, options.lease());
    if (claimed.isEmpty()) {
      finishIfDone(r, collection, into);
      return false;
    }
    Map<String, String> errors = new LinkedHashMap<>();
    List<Backfill.Claimed> ok = new ArrayList<>();
    List<float[]> vectors = new ArrayList<>();
    try {
      List<float[]> all = embed(target, claimed);
      for (int i = 0; i < claimed.size(); i++) {
        keep(claimed.get(i), all.get(i), into, ok, vectors, errors);
      }
    } catch (InvalidInputException e) {
      // one bad source fails its batch: embed them one at a time to find it
      for (Backfill.Claimed item : claimed) {
        try {
          keep(item, embed(target, List.of(item)).get(0), into, ok, vectors, errors);
        } catch (InvalidInputException one) {
          errors.put(item.id(), one.getMessage());
        }
      }
    } catch (RuntimeException e) {
      if (busy(e)) {
        // the queue is full, the version is going, the chunk waited too long: the items
        // are fine, try again shortly
        backfill.release(r, worker, claimed.stream().map(Backfill.Claimed::id).toList(), options.retryBackoff());
        log.debug("Rollout {}: chunk given back: {}", r.id(), e.toString());
        return false;
      }
      // anything else counts as a try for each item: retried with backoff, then listed
      for (Backfill.Claimed item : claimed) {
        errors.put(item.id(), e.toString());
      }
    }
    int written = backfill.complete(r, into, worker, ok, vectors);
    counter(r.collection()).increment(written);
    if (!errors.isEmpty()) {
      backfill.failed(r, worker, errors, options.retryBackoff(), options.maxAttempts());
      log.warn("Rollout {} of collection '{}': {} item(s) failed to embed, e.g. {}", r.id(), r.collection(),
          errors.size(), errors.entrySet().iterator().next());
    }
    return true;
  }

  /** Keeps {@code vector} for {@code item} when the target table can store it, else notes why not. */
  private static void keep(Backfill.Claimed item, float[] vector, Collection into, List<Backfill.Claimed> ok,
      List<float[]> vectors, Map<String, String> errors) {
    try {
      into.checkVector(vector, "the vector of item '" + item.id() + "'");
      ok.add(item);
      vectors.add(vector);
    } catch (InvalidInputException e) {
      errors.put(item.id(), e.getMessage());
    }
  }

  /** Failures that say nothing about the items: a full queue, a version going away, a chunk that waited too long. */
  private static boolean busy(RuntimeException e) {
    return e instanceof OverloadedException || e instanceof ModelUnavailableException
        || e instanceof DeadlineExceededException || e instanceof QueueClosedException;
  }

  private List<float[]> embed(ModelVersion version, List<Backfill.Claimed> items) {
    List<Content> contents = new ArrayList<>(items.size());
    for (Backfill.Claimed item : items) {
      contents.add(item.sourceText() != null ? new Content.Text(item.sourceText())
          : new Content.Image(item.sourceImage()));
    }
    // done well within the lease, so no other server takes the chunk over while it runs
    return version.encode(contents, i -> "item '" + items.get(i).id() + "'",
        CallScope.withTimeout(options.lease().multipliedBy(2).dividedBy(3)));
  }

  /** Waits, at most {@code maxYield}, until no live call has run on this server for a moment. */
  private void yieldToLiveCalls() {
    long until = System.nanoTime() + options.maxYield().toNanos();
    while (System.nanoTime() < until && !liveQuiet.getAsBoolean()) {
      sleep(Duration.ofMillis(5));
    }
  }

  /** Index, evaluate and mark READY once the worklist is empty (one server does it). */
  private void finishIfDone(Rollout r, Collection collection, Collection into) {
    Backfill.Finish f = storage.backfill().finish(r, into);
    if (f == Backfill.Finish.FAILED) {
      log.warn("Rollout {} of collection '{}' FAILED: items could not be embedded (GetRollout lists them)", r.id(),
          r.collection());
    }
    if (f != Backfill.Finish.INDEXED) {
      return;
    }
    storage.backfill().exclusively(r.id(), () -> {
      Rollout now = storage.rollouts().get(r.collection(), r.id());
      if (now.state() != RolloutState.BACKFILLING) {
        return;
      }
      if (now.evaluationJson() == null) {
        try {
          Evaluation e = evaluator.evaluate(collection, now.from(), now.to(), EvaluationRequest.AUTOMATIC);
          storage.rollouts().saveEvaluation(now.id(), e.toJson());
        } catch (StoreUnavailableException e) {
          throw e;
        } catch (RuntimeException e) {
          log.warn("Rollout {}: the evaluation failed ({}); EvaluateRollout can run it again", now.id(), e.toString());
        }
      }
      if (storage.backfill().ready(now.id())) {
        log.info("Rollout {} of collection '{}' is READY: {} -> {}; promote with PromoteRollout", now.id(),
            now.collection(), now.from().label(), now.to().label());
      }
    });
  }

  private void finalizeDue() {
    long now = System.currentTimeMillis();
    if (now - lastFinalizeCheck < 10_000) {
      return;
    }
    lastFinalizeCheck = now;
    for (Rollout r : storage.rollouts().dueForFinalize()) {
      try {
        storage.rollouts().finalize(r.collection(), r.id());
        log.info("Rollout {} of collection '{}' finalized ({} after the promote)", r.id(), r.collection(),
            r.finalizeAfter());
      } catch (RuntimeException e) {
        log.debug("Rollout {}: finalize skipped: {}", r.id(), e.toString());
      }
    }
  }

  /** Every 5 s, the open rollouts' progress on the metrics endpoint. */
  private void refreshMetrics() {
    long now = System.currentTimeMillis();
    if (now - lastMetrics < 5_000) {
      return;
    }
    lastMetrics = now;
    progress.update(storage.rollouts().inStates(OPEN));
  }

  private static final Set<RolloutState> OPEN = java.util.EnumSet.of(RolloutState.PENDING, RolloutState.BACKFILLING,
      RolloutState.PAUSED, RolloutState.READY, RolloutState.PROMOTED, RolloutState.ROLLED_BACK, RolloutState.FAILED);

  private Counter counter(String collection) {
    return backfilled.computeIfAbsent(collection, c -> Counter.builder("jointspace.rollout.backfilled.items")
        .description("Items this server re-embedded for rollouts").tag("collection", c).register(meters));
  }

  private void sleep(Duration d) {
    lock.lock();
    try {
      wake.await(d.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    running = false;
    nudge();
    for (Thread t : threads) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(70));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
