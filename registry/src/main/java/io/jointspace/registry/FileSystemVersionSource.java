package io.jointspace.registry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches a TF-Serving-style model repository ({@code <model>/<version>/saved_model.pb} or
 * {@code .pbtxt}) by polling, and reports each model's aspired versions after its
 * {@link VersionPolicy}. Folders whose names are not numbers are ignored. A numeric folder
 * is a version even before (or without) a SavedModel file in it: loading it then fails, the
 * version shows ERROR with the reason, and it is loaded again once its files change (a
 * version still being copied in recovers by itself).
 *
 * <p>Which models exist is asked of a supplier on every scan, so models may appear and
 * disappear while the server runs. A model whose folder disappears is reported with an
 * empty set, which unloads it. One daemon thread scans; {@link #scanNow()} scans on the
 * caller's thread (tests use it to avoid sleeps).
 */
public final class FileSystemVersionSource implements VersionSource {
  private static final Logger log = LoggerFactory.getLogger(FileSystemVersionSource.class);

  /** Where one model's versions live and which of them to serve. */
  public record ModelSource(String name, Path basePath, VersionPolicy policy) {}

  /** How often a warning about a state that lasts (an empty repository) is repeated. */
  static final Duration REPEAT_WARNINGS_EVERY = Duration.ofMinutes(1);

  private final Path repository;
  private final Supplier<List<ModelSource>> models;
  private final long pollIntervalMillis;
  private final Duration repeatWarningsEvery;
  private final Map<String, List<AspiredVersion>> lastReported = new HashMap<>();
  /** Warnings still true at the last scan, by subject, with when each was last logged (nanoTime). */
  private final Map<String, Long> warned = new HashMap<>();
  private ScheduledExecutorService scanner;
  private Target target;

  /**
   * @param repository the repository's folder, named in warnings
   * @param models the models to watch, asked again on each scan
   * @param pollIntervalMillis time between scans; 0 or less scans only at start
   */
  public FileSystemVersionSource(Path repository, Supplier<List<ModelSource>> models, long pollIntervalMillis) {
    this(repository, models, pollIntervalMillis, REPEAT_WARNINGS_EVERY);
  }

  FileSystemVersionSource(Path repository, Supplier<List<ModelSource>> models, long pollIntervalMillis,
      Duration repeatWarningsEvery) {
    this.repository = repository;
    this.models = models;
    this.pollIntervalMillis = pollIntervalMillis;
    this.repeatWarningsEvery = repeatWarningsEvery;
  }

  @Override
  public synchronized void start(Target target) {
    if (this.target != null) {
      throw new IllegalStateException("already started");
    }
    this.target = target;
    scanNow();
    if (pollIntervalMillis > 0) {
      scanner =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "model-repository-poller");
                t.setDaemon(true);
                return t;
              });
      scanner.scheduleWithFixedDelay(
          this::scanQuietly, pollIntervalMillis, pollIntervalMillis, TimeUnit.MILLISECONDS);
    }
  }

  private void scanQuietly() {
    try {
      scanNow();
    } catch (RuntimeException e) {
      log.warn("Model repository scan failed; trying again in {} ms", pollIntervalMillis, e);
    }
  }

  /** Scans the repository once and reports every model whose aspired set changed. */
  public synchronized void scanNow() {
    if (target == null) {
      throw new IllegalStateException("not started");
    }
    Map<String, List<AspiredVersion>> current = new TreeMap<>();
    Map<String, String> warnings = new TreeMap<>();
    for (ModelSource model : models.get()) {
      List<AspiredVersion> versions = aspiredVersions(model);
      current.put(model.name(), versions);
      String why = versions.isEmpty() ? whyNoVersion(model) : null;
      if (why != null) {
        warnings.put(model.name(), "Model " + model.name() + " has no version to serve: " + why);
      }
    }
    if (current.isEmpty()) {
      warnings.put("", "No models in the model repository " + repository
          + "; serving none until a folder <model>/<version>/ with a SavedModel appears");
    }
    warn(warnings);
    for (String gone : new ArrayList<>(lastReported.keySet())) {
      if (!current.containsKey(gone)) {
        target.setAspiredVersions(gone, List.of());
        lastReported.remove(gone);
      }
    }
    current.forEach(
        (name, versions) -> {
          if (!versions.equals(lastReported.get(name))) {
            target.setAspiredVersions(name, versions);
            lastReported.put(name, versions);
          }
        });
  }

  /** Logs each warning when it first holds, then again every {@link #repeatWarningsEvery} while it does. */
  private void warn(Map<String, String> warnings) {
    warned.keySet().retainAll(warnings.keySet());
    long now = System.nanoTime();
    warnings.forEach((subject, message) -> {
      Long last = warned.get(subject);
      if (last == null || now - last >= repeatWarningsEvery.toNanos()) {
        log.warn(message);
        warned.put(subject, now);
      }
    });
  }

  /**
   * What is wrong with a model that has no version to serve, or null when nothing looks wrong
   * (a folder that holds no SavedModel yet, or one that is not a model, such as a tool's).
   */
  private static String whyNoVersion(ModelSource model) {
    Path base = model.basePath();
    if (!Files.isDirectory(base)) {
      return "its folder " + base + " does not exist";
    }
    if (Files.exists(base.resolve("saved_model.pb")) || Files.exists(base.resolve("saved_model.pbtxt"))) {
      return base + " holds a SavedModel directly; move it into a numeric version folder such as "
          + base.resolve("1");
    }
    try (Stream<Path> children = Files.list(base)) {
      List<String> numeric = children.map(c -> c.getFileName().toString())
          .filter(n -> parseVersion(n).isPresent()).sorted().toList();
      return numeric.isEmpty() ? null
          : "its version policy chooses none of the version folders " + numeric + " under " + base;
    } catch (IOException | UncheckedIOException e) {
      return "its folder " + base + " cannot be listed: " + e.getMessage();
    }
  }

  private static List<AspiredVersion> aspiredVersions(ModelSource model) {
    TreeMap<Long, Path> present = new TreeMap<>();
    if (Files.isDirectory(model.basePath())) {
      try (Stream<Path> children = Files.list(model.basePath())) {
        children.forEach(
            child ->
                parseVersion(child.getFileName().toString())
                    .filter(v -> Files.isDirectory(child))
                    .ifPresent(v -> present.put(v, child)));
      } catch (IOException | UncheckedIOException e) {
        log.warn("Cannot list {}: {}", model.basePath(), e.toString());
        return List.of();
      }
    }
    List<AspiredVersion> aspired = new ArrayList<>();
    for (long version : model.policy().select(new TreeSet<>(present.keySet()))) {
      Path dir = present.get(version);
      aspired.add(new AspiredVersion(new ServableId(model.name(), version), dir, fingerprint(dir)));
    }
    return aspired;
  }

  static Optional<Long> parseVersion(String folderName) {
    if (folderName.isEmpty() || folderName.length() > 18 || !folderName.chars().allMatch(Character::isDigit)) {
      return Optional.empty();
    }
    return Optional.of(Long.parseLong(folderName));
  }

  /** Count, total size and newest modification time of the files under {@code dir}. */
  static String fingerprint(Path dir) {
    long[] acc = new long[3];
    try (Stream<Path> files = Files.walk(dir)) {
      files.forEach(
          f -> {
            try {
              BasicFileAttributes a =
                  Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
              acc[0]++;
              acc[1] += a.size();
              acc[2] = Math.max(acc[2], a.lastModifiedTime().toMillis());
            } catch (IOException e) {
              acc[0]--; // a file vanished while we looked: the fingerprint will differ next time
            }
          });
    } catch (IOException | UncheckedIOException e) {
      return "unreadable";
    }
    return acc[0] + ":" + acc[1] + ":" + acc[2];
  }

  @Override
  public synchronized void close() {
    if (scanner != null) {
      scanner.shutdownNow();
    }
  }
}
