package io.jointspace.server.uploads;

import io.jointspace.server.store.Notifications;

import io.jointspace.registry.ModelNotFoundException;
import io.jointspace.server.errors.FailedPreconditionException;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.store.ArchiveStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Versions added to and retired from the model repository over the API. An upload is checked
 * and unpacked beside the model's versions ({@link VersionArchive}), stored in the database when
 * there is one, and then renamed into place, where the repository scan loads it like any other
 * folder. With a database, every server process follows the stored versions: it writes the
 * ones it lacks and removes the retired ones ({@link #sync}), at start and whenever another
 * process changes them. Thread-safe.
 */
public final class VersionUploads implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(VersionUploads.class);

  /** What an upload added. */
  public record Added(String model, long version, long archiveBytes, int files) {}

  private final Function<String, Path> modelDir;
  private final long maxBytes;
  @Nullable private final ArchiveStore store;
  private final Runnable rescan;
  @Nullable private volatile Thread listener;

  /**
   * @param modelDir where a model's version folders live
   * @param maxBytes the largest archive taken
   * @param store where archives are shared with other processes; null: this process only
   * @param rescan asks the repository scan to look now
   */
  public VersionUploads(Function<String, Path> modelDir, long maxBytes, @Nullable ArchiveStore store,
      Runnable rescan) {
    this.modelDir = modelDir;
    this.maxBytes = maxBytes;
    this.store = store;
    this.rescan = rescan;
  }

  /** The largest archive taken ({@code max_upload_bytes}). */
  public long maxBytes() {
    return maxBytes;
  }

  /**
   * A model name that names a folder of the repository: letters, digits, '_', '-' and '.', not
   * starting with '.', at most 128 characters.
   *
   * @throws InvalidInputException naming {@code field}
   */
  public static String checkModelName(String name, String field) {
    if (name.isEmpty() || name.length() > 128 || name.startsWith(".") || !name.matches("[A-Za-z0-9_.-]+")) {
      throw new InvalidInputException(field + " '" + name + "' is not a model folder name (letters, digits, '_',"
          + " '-' and '.', not starting with '.', at most 128)");
    }
    return name;
  }

  /**
   * Adds {@code model} version {@code version} from the zip archive in {@code archive}.
   *
   * @throws InvalidInputException for a bad archive (nothing is written)
   * @throws VersionExistsException when the version exists (or was uploaded and retired)
   */
  public Added upload(String model, long version, Path archive, String uploadedBy) throws IOException {
    Path dir = modelDir.apply(model);
    Path versionDir = dir.resolve(Long.toString(version));
    if (Files.exists(versionDir)) {
      throw exists(model, version);
    }
    VersionArchive unpacked = VersionArchive.unpack(archive, dir, uploadedBy);
    boolean[] moved = {false};
    try {
      if (store == null) {
        unpacked.moveInto(versionDir);
      } else if (!store.add(model, version, archive, uploadedBy, () -> {
        unpacked.moveInto(versionDir); // inside the transaction: when it fails, nothing is stored
        moved[0] = true;
      })) {
        throw new VersionExistsException("model '" + model + "' version " + version
            + " was uploaded before (retired versions keep their number)");
      }
    } catch (FileAlreadyExistsException e) {
      throw exists(model, version);
    } catch (UncheckedIOException e) {
      undo(unpacked, versionDir, moved[0]);
      throw e.getCause() instanceof FileAlreadyExistsException ? exists(model, version) : e;
    } catch (IOException | RuntimeException e) {
      undo(unpacked, versionDir, moved[0]);
      throw e;
    }
    log.info("Uploaded {}@{} ({} files, {} bytes) by {}", model, version, unpacked.files, Files.size(archive),
        uploadedBy);
    rescan.run();
    return new Added(model, version, Files.size(archive), unpacked.files);
  }

  private static VersionExistsException exists(String model, long version) {
    return new VersionExistsException("model '" + model + "' has a version " + version + " already");
  }

  /** After a failed upload: the unpacked folder goes, and so does the version when it was renamed in
   * place before the database refused to commit. */
  private static void undo(VersionArchive unpacked, Path versionDir, boolean moved) throws IOException {
    unpacked.discard();
    if (moved) {
      VersionArchive.remove(versionDir);
    }
  }

  /**
   * Retires an uploaded version. Synchronized with {@link #sync()}: the notification of this
   * very retirement must not remove the folder under it.
   *
   * @throws ModelNotFoundException when there is no such version
   * @throws FailedPreconditionException for a version the repository had on its own
   */
  public synchronized void delete(String model, long version) throws IOException {
    Path versionDir = modelDir.apply(model).resolve(Long.toString(version));
    if (!Files.isDirectory(versionDir)) {
      throw new ModelNotFoundException("model '" + model + "' has no version folder " + version + " in the repository");
    }
    if (!VersionArchive.uploaded(versionDir)) {
      throw new FailedPreconditionException("model '" + model + "' version " + version
          + " was not uploaded; remove its folder " + versionDir + " to retire it");
    }
    if (store != null) {
      store.retire(model, version);
    }
    VersionArchive.remove(versionDir);
    log.info("Retired {}@{}", model, version);
    rescan.run();
  }

  /** Follows the stored versions, now and on every change (no-op without a database). */
  public synchronized void start() {
    if (store == null || listener != null) {
      return;
    }
    listener = store.follow(this::syncQuietly);
  }

  private void syncQuietly() {
    try {
      sync();
    } catch (RuntimeException e) {
      log.warn("Following the uploaded versions failed; trying again at the next change: {}", e.toString());
    }
  }

  /** Writes the stored versions this process lacks and removes the retired ones it has. */
  synchronized void sync() {
    boolean changed = false;
    for (ArchiveStore.Entry e : store.all()) {
      try {
        changed |= follow(e);
      } catch (IOException | RuntimeException failed) {
        log.warn("Following {}@{} failed; trying again at the next change: {}", e.model(), e.version(),
            failed.toString());
      }
    }
    if (changed) {
      rescan.run();
    }
  }

  /** Brings one stored version's folder in line; whether anything changed. */
  private boolean follow(ArchiveStore.Entry e) throws IOException {
    Path dir = modelDir.apply(e.model());
    Path versionDir = dir.resolve(Long.toString(e.version()));
    if (e.deleted()) {
      if (Files.isDirectory(versionDir) && VersionArchive.uploaded(versionDir)) {
        VersionArchive.remove(versionDir);
        log.info("Retired {}@{} (retired by another server)", e.model(), e.version());
        return true;
      }
      return false;
    }
    if (Files.exists(versionDir)) {
      return false;
    }
    Path archive = Files.createTempFile("jointspace-upload", ".zip");
    try {
      store.fetch(e.model(), e.version(), archive);
      VersionArchive.unpack(archive, dir, "database").moveInto(versionDir);
      log.info("Wrote {}@{} (uploaded to another server)", e.model(), e.version());
      return true;
    } catch (FileAlreadyExistsException raced) {
      return false; // written meanwhile
    } finally {
      Files.deleteIfExists(archive);
    }
  }

  /** Stops following the database; does not wait for a sync in progress. */
  @Override
  public void close() {
    Notifications.stop(listener);
    listener = null;
  }

  /** The version exists already; the server answers ALREADY_EXISTS. */
  public static final class VersionExistsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    VersionExistsException(String message) {
      super(message);
    }
  }
}
