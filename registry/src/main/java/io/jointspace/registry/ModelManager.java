package io.jointspace.registry;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.annotation.concurrent.GuardedBy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model registry: keeps every model's versions through their lifecycle and hands out
 * {@link ModelHandle leases} on AVAILABLE ones.
 *
 * <p>A {@link VersionSource} reports the aspired versions of each model; the manager loads
 * the new ones on its load executor, and unloads the ones left out when its
 * {@link RolloutPolicy} allows (by default only once an aspired version is AVAILABLE, so a
 * model never goes dark during a rollout, nor when a new version fails to load). A version leaving with calls in flight turns
 * UNLOADING and is unloaded when its last handle closes.
 *
 * <p>Thread-safe: {@link #acquire} is called from request threads, the source's callback
 * from its poller, and loads complete on the load executor. No loader call runs while the
 * manager's lock is held.
 *
 * @param <T> what a loaded version is
 */
public final class ModelManager<T> implements VersionSource.Target, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelManager.class);

  private final ServableLoader<T> loader;
  private final ExecutorService loadExecutor;
  private final RolloutPolicy policy;
  private final Function<String, Map<String, LabelTarget>> labelsOf;
  private final Clock clock;
  private final List<Consumer<VersionStatus>> listeners = new CopyOnWriteArrayList<>();

  @GuardedBy("this")
  private final Map<String, Model> models = new TreeMap<>();

  @GuardedBy("this")
  private boolean closed;

  /**
   * @param loader loads and unloads versions
   * @param loadExecutor runs loads and unloads; owned by the caller, who shuts it down
   *     after {@link #close()}
   * @param labelsOf each model's labels (label to target), read on every request that names one
   */
  public ModelManager(
      ServableLoader<T> loader,
      ExecutorService loadExecutor,
      RolloutPolicy policy,
      Function<String, Map<String, LabelTarget>> labelsOf,
      Clock clock) {
    this.loader = loader;
    this.loadExecutor = loadExecutor;
    this.policy = policy;
    this.labelsOf = labelsOf;
    this.clock = clock;
  }

  /** Called with every state change, on the thread that made it, outside the manager's lock. */
  public void addListener(Consumer<VersionStatus> listener) {
    listeners.add(listener);
  }

  // ---------------------------------------------------------------- serving

  /**
   * Leases the version {@code request} resolves to.
   *
   * @throws ModelNotFoundException unknown model, version or label
   * @throws ModelUnavailableException the version exists but is not AVAILABLE
   */
  public ModelHandle<T> acquire(ModelRequest request) {
    synchronized (this) {
      Version v = resolve(request);
      v.refCount++;
      return new Handle(v);
    }
  }

  @GuardedBy("this")
  private Version resolve(ModelRequest request) {
    Model model = models.get(request.name());
    if (model == null || model.isGone()) {
      throw new ModelNotFoundException(
          "model '" + request.name() + "' is not known; known models: " + knownModelNames());
    }
    long wanted;
    if (request.version().isPresent()) {
      wanted = request.version().getAsLong();
    } else if (request.label() != null) {
      Map<String, LabelTarget> labels = labelsOf.apply(request.name());
      LabelTarget target = labels.get(request.label());
      if (target == null) {
        throw new ModelNotFoundException(
            "model '" + request.name() + "' has no label '" + request.label() + "'; labels: "
                + new TreeMap<>(labels));
      }
      if (target.fallback() != null && !allAvailable(model, target) && allAvailable(model, target.fallback())) {
        target = target.fallback(); // the label's new versions are not all AVAILABLE here: its old target serves
      }
      wanted = target.pick(request.routingKey());
    } else {
      return model.versions.descendingMap().values().stream()
          .filter(v -> v.state == ModelState.AVAILABLE)
          .findFirst()
          .orElseThrow(
              () ->
                  new ModelUnavailableException(
                      "model '" + request.name() + "' has no AVAILABLE version yet; versions: "
                          + model.describe()));
    }
    Version v = model.versions.get(wanted);
    if (v == null || v.state == ModelState.END) {
      throw new ModelNotFoundException(
          "model '" + request.name() + "' has no version " + wanted
              + (request.label() != null ? " (label '" + request.label() + "')" : "")
              + "; versions: " + model.describe());
    }
    if (v.state != ModelState.AVAILABLE) {
      throw new ModelUnavailableException(
          "version " + v.id + " is " + v.state + (v.lastError.isEmpty() ? "" : " (it failed to load)"), v.lastError);
    }
    return v;
  }

  /**
   * {@code error} with the folder that holds the version's model folder left out of its paths
   * ({@code /srv/models/clip/2/saved_model.pb} reads {@code clip/2/saved_model.pb}): the status
   * is shown to clients, which need not learn where the server keeps its files; the log line
   * of the failure has the full message.
   */
  static String withinRepository(String error, java.nio.file.Path versionDir) {
    java.nio.file.Path repository = versionDir.toAbsolutePath().getParent();
    repository = repository == null ? null : repository.getParent();
    if (repository == null || repository.getParent() == null) {
      return error;
    }
    return error.replace(repository + versionDir.getFileSystem().getSeparator(), "");
  }

  /** Whether every version of {@code target} is AVAILABLE. */
  @GuardedBy("this")
  private boolean allAvailable(Model model, LabelTarget target) {
    for (long version : target.weights().keySet()) {
      Version v = model.versions.get(version);
      if (v == null || v.state != ModelState.AVAILABLE) {
        return false;
      }
    }
    return true;
  }

  @GuardedBy("this")
  private List<String> knownModelNames() {
    return models.entrySet().stream()
        .filter(e -> !e.getValue().isGone())
        .map(Map.Entry::getKey)
        .toList();
  }

  // ---------------------------------------------------------------- status

  /** Names of the models in the repository, sorted. */
  public synchronized List<String> modelNames() {
    return knownModelNames();
  }

  /**
   * Every version of a model the manager tracks, newest first.
   *
   * @throws ModelNotFoundException unknown model
   */
  public synchronized List<VersionStatus> status(String modelName) {
    Model model = models.get(modelName);
    if (model == null || model.isGone()) {
      throw new ModelNotFoundException(
          "model '" + modelName + "' is not known; known models: " + knownModelNames());
    }
    return model.versions.descendingMap().values().stream().map(Version::status).toList();
  }

  /** The labels of a model, label to where it sends calls. */
  public Map<String, LabelTarget> labels(String modelName) {
    return labelsOf.apply(modelName);
  }

  /** Whether the model has at least one AVAILABLE version. */
  public synchronized boolean isAvailable(String modelName) {
    Model model = models.get(modelName);
    return model != null
        && model.versions.values().stream().anyMatch(v -> v.state == ModelState.AVAILABLE);
  }

  /**
   * Waits until the version reaches one of {@code states}; for start-up and tests.
   *
   * @throws TimeoutException when it does not within {@code timeout}
   */
  public synchronized VersionStatus awaitState(ServableId id, Duration timeout, ModelState... states)
      throws InterruptedException, TimeoutException {
    Set<ModelState> wanted = Set.of(states);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Model model = models.get(id.name());
      Version v = model == null ? null : model.versions.get(id.version());
      if (v != null && wanted.contains(v.state)) {
        return v.status();
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new TimeoutException(
            id + " did not reach " + wanted + " within " + timeout + "; now "
                + (v == null ? "unknown" : v.status()));
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  /** Waits until no version of any model is NEW, LOADING or UNLOADING. */
  public synchronized void awaitSettled(Duration timeout) throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (models.values().stream()
        .flatMap(m -> m.versions.values().stream())
        .anyMatch(v -> v.state == ModelState.NEW || v.state == ModelState.LOADING || v.state == ModelState.UNLOADING)) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new TimeoutException("model versions still changing after " + timeout);
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void setAspiredVersions(String modelName, List<AspiredVersion> aspired) {
    List<Runnable> work = new ArrayList<>();
    List<VersionStatus> changes = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      Model model = models.computeIfAbsent(modelName, Model::new);
      model.aspired = new HashMap<>();
      for (AspiredVersion a : aspired) {
        model.aspired.put(a.id().version(), a);
        Version existing = model.versions.get(a.id().version());
        boolean reload =
            existing == null
                || existing.state == ModelState.END
                || (existing.state == ModelState.ERROR && !existing.fingerprint.equals(a.fingerprint()));
        if (reload) {
          Version v = new Version(a);
          model.versions.put(a.id().version(), v);
          changes.add(v.status());
          work.add(() -> load(v));
        }
      }
      reconcile(model, work, changes);
    }
    publish(changes);
    work.forEach(loadExecutor::execute);
  }

  /** Decides unloads for one model after any change. Fills {@code work} with what to run. */
  @GuardedBy("this")
  private void reconcile(Model model, List<Runnable> work, List<VersionStatus> changes) {
    boolean aspiredAvailable =
        model.versions.values().stream()
            .anyMatch(v -> v.state == ModelState.AVAILABLE && model.aspired.containsKey(v.id.version()));
    for (Version v : model.versions.values()) {
      if (model.aspired.containsKey(v.id.version())) {
        continue;
      }
      switch (v.state) {
        case ERROR -> setState(v, ModelState.END, changes);
        case AVAILABLE -> {
          if (closed || policy.mayUnload(aspiredAvailable, !model.aspired.isEmpty())) {
            setState(v, ModelState.UNLOADING, changes);
            if (v.refCount == 0) {
              work.add(() -> unload(v));
            }
          }
        }
        default -> { // NEW and LOADING finish first; UNLOADING and END need nothing
        }
      }
    }
    if (model.isGone() && model.versions.values().stream().allMatch(v -> v.state == ModelState.END)) {
      models.remove(model.name);
    }
  }

  private void load(Version v) {
    List<VersionStatus> changes = new ArrayList<>();
    synchronized (this) {
      if (v.state != ModelState.NEW) {
        return;
      }
      setState(v, ModelState.LOADING, changes);
    }
    publish(changes);
    changes.clear();
    T servable = null;
    String error = "";
    long started = System.nanoTime();
    try {
      servable = loader.load(v.source);
      log.info("Loaded {} from {} in {} ms", v.id, v.source.path(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    } catch (Exception | LinkageError e) {
      error = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      log.warn("Failed to load {} from {}: {}", v.id, v.source.path(), error);
    }
    List<Runnable> work = new ArrayList<>();
    synchronized (this) {
      if (servable != null) {
        v.servable = servable;
        setState(v, ModelState.AVAILABLE, changes);
      } else {
        v.lastError = withinRepository(error, v.source.path());
        setState(v, ModelState.ERROR, changes);
      }
      Model model = models.get(v.id.name());
      if (model != null) {
        reconcile(model, work, changes);
      }
    }
    publish(changes);
    work.forEach(loadExecutor::execute);
  }

  private void unload(Version v) {
    T servable;
    synchronized (this) {
      if (v.state != ModelState.UNLOADING || v.servable == null) {
        return;
      }
      servable = v.servable;
      v.servable = null;
    }
    try {
      loader.unload(servable);
      log.info("Unloaded {}", v.id);
    } catch (RuntimeException e) {
      log.warn("Unloading {} failed", v.id, e);
    }
    List<VersionStatus> changes = new ArrayList<>();
    List<Runnable> work = new ArrayList<>();
    synchronized (this) {
      setState(v, ModelState.END, changes);
      Model model = models.get(v.id.name());
      if (model != null) {
        // Aspired again while it was unloading (a rollback during a rollout): load it again.
        AspiredVersion again = model.aspired.get(v.id.version());
        if (!closed && again != null && model.versions.get(v.id.version()) == v) {
          Version reloaded = new Version(again);
          model.versions.put(v.id.version(), reloaded);
          changes.add(reloaded.status());
          work.add(() -> load(reloaded));
        }
        reconcile(model, work, changes);
      }
    }
    publish(changes);
    work.forEach(loadExecutor::execute);
  }

  private void release(Version v) {
    boolean unloadNow;
    synchronized (this) {
      v.refCount--;
      unloadNow = v.refCount == 0 && v.state == ModelState.UNLOADING;
    }
    if (unloadNow) {
      loadExecutor.execute(() -> unload(v));
    }
  }

  @GuardedBy("this")
  private void setState(Version v, ModelState state, List<VersionStatus> changes) {
    v.state = state;
    v.since = clock.instant();
    changes.add(v.status());
    notifyAll();
  }

  private void publish(List<VersionStatus> changes) {
    for (VersionStatus s : changes) {
      for (Consumer<VersionStatus> l : listeners) {
        try {
          l.accept(s);
        } catch (RuntimeException e) {
          log.warn("Listener failed on {}", s, e);
        }
      }
    }
  }

  /**
   * Unloads every version: waits up to {@code timeout} for in-flight calls to close their
   * handles, then unloads what is left regardless.
   */
  public void close(Duration timeout) throws InterruptedException {
    List<Runnable> work = new ArrayList<>();
    List<VersionStatus> changes = new ArrayList<>();
    synchronized (this) {
      closed = true;
      for (Model m : new ArrayList<>(models.values())) {
        m.aspired = Map.of();
        reconcile(m, work, changes);
      }
    }
    publish(changes);
    work.forEach(loadExecutor::execute);
    try {
      awaitSettled(timeout);
    } catch (TimeoutException e) {
      List<Version> stuck;
      synchronized (this) {
        stuck = models.values().stream()
            .flatMap(m -> m.versions.values().stream())
            .filter(v -> v.state == ModelState.UNLOADING && v.servable != null)
            .toList();
      }
      log.warn("Unloading {} with calls still in flight after {}", stuck.stream().map(v -> v.id).toList(), timeout);
      stuck.forEach(this::unload);
    }
  }

  @Override
  public void close() throws InterruptedException {
    close(Duration.ofSeconds(10));
  }

  // ---------------------------------------------------------------- state

  private final class Model {
    final String name;
    final NavigableMap<Long, Version> versions = new TreeMap<>();
    Map<Long, AspiredVersion> aspired = Map.of();

    Model(String name) {
      this.name = name;
    }

    boolean isGone() {
      return aspired.isEmpty() && versions.values().stream().noneMatch(v -> v.state == ModelState.AVAILABLE);
    }

    String describe() {
      return versions.descendingMap().values().stream()
          .map(v -> v.id.version() + " " + v.state)
          .collect(Collectors.joining(", ", "[", "]"));
    }
  }

  private final class Version {
    final ServableId id;
    final AspiredVersion source;
    final String fingerprint;
    ModelState state = ModelState.NEW;
    Instant since = clock.instant();
    String lastError = "";
    int refCount;
    T servable;

    Version(AspiredVersion source) {
      this.id = source.id();
      this.source = source;
      this.fingerprint = source.fingerprint();
    }

    VersionStatus status() {
      return new VersionStatus(id, state, since, lastError);
    }
  }

  private final class Handle implements ModelHandle<T> {
    private final Version version;
    private final T servable;
    private final AtomicBoolean closed = new AtomicBoolean();

    Handle(Version version) {
      this.version = version;
      this.servable = version.servable;
    }

    @Override
    public ServableId id() {
      return version.id;
    }

    @Override
    public T get() {
      if (closed.get()) {
        throw new IllegalStateException("handle on " + version.id + " is closed");
      }
      return servable;
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        release(version);
      }
    }
  }

  /** For tests and status pages: every tracked version, sorted. */
  public synchronized List<VersionStatus> allVersions() {
    return models.values().stream()
        .flatMap(m -> m.versions.values().stream())
        .map(Version::status)
        .sorted(Comparator.comparing(VersionStatus::id))
        .toList();
  }

  /** The AVAILABLE versions of a model, newest first. */
  public synchronized List<Long> availableVersions(String modelName) {
    Model model = models.get(modelName);
    if (model == null) {
      return List.of();
    }
    List<Long> out = new ArrayList<>();
    model.versions.descendingMap().forEach((k, v) -> {
      if (v.state == ModelState.AVAILABLE) {
        out.add(k);
      }
    });
    return out;
  }

}
