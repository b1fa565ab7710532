package io.jointspace.server.uploads;

import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.errors.OverloadedException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A zip archive of one SavedModel version folder, checked whole and then unpacked next to the
 * model's versions under a hidden name, so that the repository never shows half a version;
 * {@link #moveInto} renames it into place in one step. The marker file {@link #MARKER} tells
 * versions added this way from the ones the repository had on its own.
 */
final class VersionArchive {
  /** In every uploaded version folder: who uploaded it. */
  static final String MARKER = ".jointspace-upload";
  /** Unpacked bytes allowed per archive byte (a zip bomb stops there). */
  static final int MAX_EXPANSION = 20;
  /** Files and folders allowed in one archive. */
  static final int MAX_ENTRIES = 100_000;

  private final Path unpacked;
  final int files;

  private VersionArchive(Path unpacked, int files) {
    this.unpacked = unpacked;
    this.files = files;
  }

  /**
   * Checks {@code archive} and unpacks it into a hidden folder of {@code modelDir}.
   *
   * @throws InvalidInputException not a zip, no SavedModel at its root, or a path that leaves its folder
   * @throws OverloadedException when it unpacks to more than {@link #MAX_EXPANSION} times its size
   */
  static VersionArchive unpack(Path archive, Path modelDir, String uploadedBy) throws IOException {
    long limit = Files.size(archive) * MAX_EXPANSION + (1 << 20);
    try (ZipFile zip = new ZipFile(archive.toFile())) {
      if (zip.size() > MAX_ENTRIES) {
        throw new InvalidInputException("the archive holds " + zip.size() + " entries; at most " + MAX_ENTRIES);
      }
      boolean savedModel = false;
      for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
        String name = e.nextElement().getName();
        checkName(name);
        savedModel |= name.equals("saved_model.pb") || name.equals("saved_model.pbtxt");
      }
      if (!savedModel) {
        throw new InvalidInputException("the archive has no saved_model.pb or saved_model.pbtxt at its root; zip the"
            + " contents of the version folder (saved_model.pb, variables/, ...), not the folder itself");
      }
      Files.createDirectories(modelDir);
      Path target = modelDir.resolve(".upload-" + UUID.randomUUID());
      int files = 0;
      long written = 0;
      try {
        for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
          ZipEntry entry = e.nextElement();
          Path out = target.resolve(entry.getName()).normalize();
          if (entry.isDirectory()) {
            Files.createDirectories(out);
            continue;
          }
          Files.createDirectories(out.getParent());
          try (InputStream in = zip.getInputStream(entry); OutputStream o = Files.newOutputStream(out)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
              written += n;
              if (written > limit) {
                throw new OverloadedException("the archive unpacks to more than " + limit + " bytes ("
                    + MAX_EXPANSION + " times its size); refused", "upload", 0, (int) Math.min(limit, Integer.MAX_VALUE),
                    (int) Math.min(written, Integer.MAX_VALUE), null);
              }
              o.write(buffer, 0, n);
            }
          }
          files++;
        }
        Files.writeString(target.resolve(MARKER), uploadedBy + "\n");
        return new VersionArchive(target, files);
      } catch (IOException | RuntimeException failed) {
        deleteTree(target);
        throw failed;
      }
    } catch (ZipException e) {
      throw new InvalidInputException("the archive is not a zip archive: " + e.getMessage(), e);
    }
  }

  private static void checkName(String name) {
    if (name.isEmpty() || name.startsWith("/") || name.contains("\\") || name.contains("\0")) {
      throw new InvalidInputException("archive entry '" + name + "' is not a relative path");
    }
    for (String part : name.split("/")) {
      if (part.equals("..")) {
        throw new InvalidInputException("archive entry '" + name + "' leaves its folder");
      }
    }
  }

  /**
   * Renames the unpacked folder to {@code versionDir} in one step.
   *
   * @throws java.nio.file.FileAlreadyExistsException when the version exists
   */
  void moveInto(Path versionDir) throws IOException {
    if (Files.exists(versionDir)) {
      discard();
      throw new FileAlreadyExistsException(versionDir.toString());
    }
    try {
      Files.move(unpacked, versionDir, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      discard();
      // a rename onto a folder that appeared meanwhile fails as "directory not empty"
      throw Files.exists(versionDir) ? new FileAlreadyExistsException(versionDir.toString()) : e;
    }
  }

  /** Removes the unpacked folder (a failed upload). */
  void discard() {
    deleteTree(unpacked);
  }

  /** Whether {@code versionDir} was added by an upload. */
  static boolean uploaded(Path versionDir) {
    return Files.isRegularFile(versionDir.resolve(MARKER));
  }

  /** Takes the version out of the repository in one rename, then deletes it. */
  static void remove(Path versionDir) throws IOException {
    Path gone = versionDir.resolveSibling(".deleted-" + versionDir.getFileName() + "-" + UUID.randomUUID());
    Files.move(versionDir, gone, StandardCopyOption.ATOMIC_MOVE);
    deleteTree(gone);
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: a hidden folder left behind is ignored by the repository scan
    }
  }
}
