package io.jointspace.server.labels;

import io.jointspace.server.store.Notifications;

import io.jointspace.registry.LabelTarget;
import io.jointspace.registry.ModelNotFoundException;
import io.jointspace.registry.ModelState;
import io.jointspace.registry.VersionStatus;
import io.jointspace.server.errors.FailedPreconditionException;
import io.jointspace.server.store.LabelStore;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model labels a server resolves: the configuration's start values, with the changes made
 * at run time ({@link #set}, {@link #delete}) on top. With a {@link LabelStore}, changes are
 * stored in PostgreSQL and every server process sharing it follows them (it listens for the
 * store's notifications and reloads); without one, they live in this process's memory and end
 * with it. {@link #targets} is what the registry reads on every call that names a label: a
 * cached, immutable map per model. Thread-safe.
 */
public final class ModelLabels implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelLabels.class);

  /** One change of a label; {@code from}/{@code to} null when it did not exist / was deleted. */
  public record Change(String model, String label, @Nullable LabelTarget from, @Nullable LabelTarget to,
      Instant changedAt, String changedBy) {}

  /** A label as it stands, with the change that made it so (null: as configured). */
  public record Label(String name, LabelTarget target, @Nullable Change lastChange) {}

  /** A label's run-time state: its target (null: deleted) and the last change. */
  private record RunTimeLabel(@Nullable LabelTarget target, Change change) {}

  private final Function<String, Map<String, Long>> configured;
  @Nullable private final LabelStore store;
  private final Clock clock;
  private final Map<String, Map<String, LabelTarget>> cache = new ConcurrentHashMap<>();
  /** model -> label -> run-time state; replaced whole on each reload. */
  private volatile Map<String, Map<String, RunTimeLabel>> overrides = Map.of();
  @GuardedBy("this") private final List<Change> memoryHistory = new ArrayList<>();
  @Nullable private volatile Thread listener;

  /**
   * @param configured each model's labels from the configuration (label to version)
   * @param store where changes are kept and shared; null: in memory only
   */
  public ModelLabels(Function<String, Map<String, Long>> configured, @Nullable LabelStore store, Clock clock) {
    this.configured = configured;
    this.store = store;
    this.clock = clock;
  }

  /**
   * Loads the stored changes now (when the database answers) and follows other processes'
   * from then on; no-op without a store.
   */
  public synchronized void start() {
    if (store == null || listener != null) {
      return;
    }
    reloadQuietly();
    listener = store.follow(this::reloadQuietly);
  }

  /** Where each label of {@code model} sends calls now. */
  public Map<String, LabelTarget> targets(String model) {
    return cache.computeIfAbsent(model, this::compute);
  }

  private Map<String, LabelTarget> compute(String model) {
    Map<String, LabelTarget> out = new HashMap<>();
    configured.apply(model).forEach((label, version) -> out.put(label, LabelTarget.version(version)));
    overrides.getOrDefault(model, Map.of()).forEach((label, o) -> {
      if (o.target() == null) {
        out.remove(label);
      } else {
        out.put(label, o.target());
      }
    });
    return Collections.unmodifiableMap(out);
  }

  /** Every label of {@code model}, sorted, with its last change. */
  public List<Label> labels(String model) {
    Map<String, RunTimeLabel> o = overrides.getOrDefault(model, Map.of());
    List<Label> out = new ArrayList<>();
    new TreeMap<>(targets(model)).forEach((label, target) -> {
      RunTimeLabel change = o.get(label);
      out.add(new Label(label, target, change == null ? null : change.change()));
    });
    return out;
  }

  /**
   * Points {@code label} at {@code target}, after checking it against the model's versions as the
   * registry reports them: each must exist and be AVAILABLE, or NEW/LOADING with
   * {@code allowLoading}. The label remembers where it sent calls before (its fallback), so a
   * server whose copies of the new versions are not all AVAILABLE keeps serving those.
   *
   * @param versions every version of the model the registry tracks
   * @throws ModelNotFoundException for a version that is not there
   * @throws FailedPreconditionException for a version in ERROR, leaving, or loading without
   *     {@code allowLoading}
   */
  public Change set(String model, String label, LabelTarget target, boolean allowLoading,
      List<VersionStatus> versions, String changedBy) {
    Map<Long, VersionStatus> byVersion = new HashMap<>();
    versions.forEach(v -> byVersion.put(v.id().version(), v));
    for (long v : target.weights().keySet()) {
      VersionStatus status = byVersion.get(v);
      if (status == null) {
        throw new ModelNotFoundException("model '" + model + "' has no version " + v + "; versions: "
            + new TreeSet<>(byVersion.keySet()));
      }
      switch (status.state()) {
        case AVAILABLE -> { }
        case NEW, LOADING -> {
          if (!allowLoading) {
            throw new FailedPreconditionException("version " + status.id() + " is " + status.state()
                + "; set allow_loading to point '" + label + "' at it now (calls keep going to the label's"
                + " current target until it is AVAILABLE)");
          }
        }
        case ERROR -> throw new FailedPreconditionException("version " + status.id() + " is in ERROR ("
            + status.lastError() + "); a label cannot point at it");
        default -> throw new FailedPreconditionException("version " + status.id() + " is " + status.state()
            + " (no longer served); a label cannot point at it");
      }
    }
    LabelTarget current = targets(model).get(label);
    if (current != null) {
      // a label moved again before its last move took effect keeps the target that still serves
      boolean currentServes = current.weights().keySet().stream().allMatch(v -> byVersion.containsKey(v)
          && byVersion.get(v).state() == ModelState.AVAILABLE);
      target = target.withFallback(current.fallback() != null && !currentServes ? current.fallback()
          : current.withFallback(null));
    }
    return change(model, label, target, changedBy);
  }

  /**
   * Removes {@code label}; returns the change recorded.
   *
   * @throws ModelNotFoundException when the model has no such label
   */
  public Change delete(String model, String label, String changedBy) {
    if (!targets(model).containsKey(label)) {
      throw new ModelNotFoundException("model '" + model + "' has no label '" + label + "'; labels: "
          + new TreeSet<>(targets(model).keySet()));
    }
    return change(model, label, null, changedBy);
  }

  private Change change(String model, String label, @Nullable LabelTarget target, String changedBy) {
    Long configuredVersion = configured.apply(model).get(label);
    LabelTarget configuredTarget = configuredVersion == null ? null : LabelTarget.version(configuredVersion);
    if (store != null) {
      LabelStore.Change stored = store.change(model, label, target == null ? null : target.weights(),
          target == null || target.fallback() == null ? null : target.fallback().weights(),
          configuredTarget == null ? null : configuredTarget.weights(), changedBy);
      reloadQuietly(); // this process sees its own change at once; the others on their notification
      return change(stored);
    }
    synchronized (this) {
      LabelTarget from = targets(model).get(label);
      Change change = new Change(model, label, from, target, clock.instant(), changedBy);
      memoryHistory.add(change);
      Map<String, Map<String, RunTimeLabel>> next = new HashMap<>(overrides);
      Map<String, RunTimeLabel> forModel = new HashMap<>(next.getOrDefault(model, Map.of()));
      forModel.put(label, new RunTimeLabel(target, change));
      next.put(model, Map.copyOf(forModel));
      overrides = Map.copyOf(next);
      cache.clear();
      return change;
    }
  }

  /** The recorded changes of {@code model} (of one label when {@code label} is not empty), oldest first. */
  public List<Change> history(String model, String label) {
    if (store != null) {
      return store.history(model, label).stream().map(ModelLabels::change).toList();
    }
    synchronized (this) {
      return memoryHistory.stream()
          .filter(c -> c.model().equals(model) && (label.isEmpty() || c.label().equals(label)))
          .toList();
    }
  }

  private void reloadQuietly() {
    try {
      reload();
    } catch (RuntimeException e) {
      log.warn("Reloading the model labels failed; keeping the last ones: {}", e.getMessage());
    }
  }

  /** Reads every stored label and its last change. */
  private synchronized void reload() {
    Map<String, Change> last = new HashMap<>();
    for (LabelStore.Change c : store.lastChanges()) {
      last.put(c.model() + "\u0000" + c.label(), change(c));
    }
    Map<String, Map<String, RunTimeLabel>> next = new HashMap<>();
    for (LabelStore.Stored s : store.all()) {
      Change change = last.get(s.model() + "\u0000" + s.label());
      if (change == null) {
        change = new Change(s.model(), s.label(), null, target(s.target(), null), s.changedAt(), s.changedBy());
      }
      next.computeIfAbsent(s.model(), m -> new HashMap<>())
          .put(s.label(), new RunTimeLabel(target(s.target(), s.fallback()), change));
    }
    Map<String, Map<String, RunTimeLabel>> frozen = new HashMap<>();
    next.forEach((m, labels) -> frozen.put(m, Map.copyOf(labels)));
    overrides = Map.copyOf(frozen);
    cache.clear();
  }

  private static Change change(LabelStore.Change c) {
    return new Change(c.model(), c.label(), target(c.from(), null), target(c.to(), null), c.changedAt(), c.changedBy());
  }

  @Nullable
  private static LabelTarget target(@Nullable SortedMap<Long, Integer> weights,
      @Nullable SortedMap<Long, Integer> fallback) {
    if (weights == null) {
      return null;
    }
    return new LabelTarget(weights, fallback == null ? null : new LabelTarget(fallback, null));
  }

  /** Stops following the database; does not wait for a reload in progress. */
  @Override
  public void close() {
    Notifications.stop(listener);
    listener = null;
  }
}
