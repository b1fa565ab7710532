package io.jointspace.server.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Uploaded model versions in PostgreSQL ({@code jointspace.model_archives}): each version's zip
 * archive, and whether it was retired. Every change sends {@code NOTIFY jointspace_versions};
 * server processes follow with {@link #follow}.
 */
public final class ArchiveStore {
  static final String CHANNEL = "jointspace_versions";

  /** One stored version: retired when {@code deleted}. */
  public record Entry(String model, long version, boolean deleted) {}

  private final Database db;

  public ArchiveStore(Database db) {
    this.db = db;
  }

  /** Work done inside {@link #add}'s transaction, after the row is written. */
  public interface Step {
    void run() throws IOException;
  }

  /**
   * Stores a new version's archive and notifies the other processes, running {@code inside}
   * (the local rename into place) in the same transaction before it commits: when
   * {@code inside} fails, nothing is stored.
   *
   * @return false when the version is stored already (retired or not); {@code inside} did not run
   */
  public boolean add(String model, long version, Path archive, String uploadedBy, Step inside) {
    return db.inTransaction(c -> {
      try (PreparedStatement p = c.prepareStatement("INSERT INTO " + Database.SCHEMA + ".model_archives"
          + " (model, version, archive, uploaded_by) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING");
          InputStream in = Files.newInputStream(archive)) {
        p.setString(1, model);
        p.setLong(2, version);
        p.setBinaryStream(3, in, Files.size(archive));
        p.setString(4, uploadedBy);
        if (p.executeUpdate() == 0) {
          return false;
        }
        inside.run();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      notify(c);
      return true;
    });
  }

  /** Marks a version retired; false when it was not stored (or already retired). */
  public boolean retire(String model, long version) {
    return db.inTransaction(c -> {
      try (PreparedStatement p = c.prepareStatement("UPDATE " + Database.SCHEMA + ".model_archives"
          + " SET deleted_at = now() WHERE model = ? AND version = ? AND deleted_at IS NULL")) {
        p.setString(1, model);
        p.setLong(2, version);
        if (p.executeUpdate() == 0) {
          return false;
        }
      }
      notify(c);
      return true;
    });
  }

  /** Every stored version, retired ones included. */
  public List<Entry> all() {
    return db.read(c -> {
      List<Entry> out = new ArrayList<>();
      try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT model, version,"
          + " deleted_at IS NOT NULL FROM " + Database.SCHEMA + ".model_archives ORDER BY model, version")) {
        while (r.next()) {
          out.add(new Entry(r.getString(1), r.getLong(2), r.getBoolean(3)));
        }
      }
      return out;
    });
  }

  /** Writes a stored version's archive to {@code file}. */
  public void fetch(String model, long version, Path file) {
    db.read(c -> {
      try (PreparedStatement p = c.prepareStatement("SELECT archive FROM " + Database.SCHEMA
          + ".model_archives WHERE model = ? AND version = ?")) {
        p.setString(1, model);
        p.setLong(2, version);
        try (ResultSet r = p.executeQuery()) {
          if (!r.next()) {
            throw new IllegalStateException("no stored archive of " + model + "@" + version);
          }
          try (InputStream in = r.getBinaryStream(1)) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      }
      return null;
    });
  }

  /**
   * Calls {@code changed} after each change any process makes, after (re)connecting and every
   * 30 s, on a daemon thread of its own (interrupt it to stop).
   */
  public Thread follow(Runnable changed) {
    return Notifications.follow(db, CHANNEL, "version-sync", changed);
  }

  private static void notify(java.sql.Connection c) throws java.sql.SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("NOTIFY " + CHANNEL);
    }
  }
}
