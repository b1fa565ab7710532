package io.jointspace.server.store;

import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.annotation.Nullable;

/**
 * API keys in PostgreSQL ({@code jointspace.api_keys}): each key's id, name, grants and the
 * SHA-256 of its secret, never the secret. A creation or a revocation sends
 * {@code NOTIFY jointspace_keys} (the key's id as payload), so every server process following
 * them ({@link #follow}) reads the keys again within about a second.
 */
public final class KeyStore {
  static final String CHANNEL = "jointspace_keys";

  /** A stored key. {@code scopes} are the grants as given ("collections:read=a,b"). */
  public record Stored(String id, String name, byte[] secretSha256, List<String> scopes, Instant createdAt,
      String createdBy, @Nullable Instant expiresAt, @Nullable Instant revokedAt, @Nullable Instant lastUsedAt) {}

  private final Database db;

  public KeyStore(Database db) {
    this.db = db;
  }

  /** Stores a new key (its id must be new) and notifies every server. */
  public Stored create(String id, String name, byte[] secretSha256, List<String> scopes, String createdBy,
      @Nullable Instant expiresAt) {
    return db.inTransaction(c -> {
      try (PreparedStatement p = c.prepareStatement("INSERT INTO " + Database.SCHEMA + ".api_keys"
          + " (id, name, secret_sha256, scopes, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?)"
          + " RETURNING " + COLUMNS)) {
        p.setString(1, id);
        p.setString(2, name);
        p.setBytes(3, secretSha256);
        p.setArray(4, c.createArrayOf("text", scopes.toArray()));
        p.setString(5, createdBy);
        p.setTimestamp(6, expiresAt == null ? null : Timestamp.from(expiresAt));
        Stored made;
        try (ResultSet r = p.executeQuery()) {
          r.next();
          made = row(r);
        }
        notify(c, id);
        return made;
      }
    });
  }

  /** Every key, newest first. */
  public List<Stored> all() {
    return db.read(c -> {
      List<Stored> out = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS + " FROM " + Database.SCHEMA
          + ".api_keys ORDER BY created_at DESC, id");
          ResultSet r = p.executeQuery()) {
        while (r.next()) {
          out.add(row(r));
        }
      }
      return out;
    });
  }

  /**
   * Revokes a key (a revoked one keeps its first revocation time) and notifies every server.
   *
   * @return the key as stored after the change; empty for an unknown id
   */
  public Optional<Stored> revoke(String id) {
    return db.inTransaction(c -> {
      Optional<Stored> out;
      try (PreparedStatement p = c.prepareStatement("UPDATE " + Database.SCHEMA + ".api_keys"
          + " SET revoked_at = coalesce(revoked_at, now()) WHERE id = ? RETURNING " + COLUMNS)) {
        p.setString(1, id);
        try (ResultSet r = p.executeQuery()) {
          out = r.next() ? Optional.of(row(r)) : Optional.empty();
        }
      }
      if (out.isPresent()) {
        notify(c, id);
      }
      return out;
    });
  }

  /** Tells every server following the keys that key {@code id} changed; sent when {@code c} commits. */
  private static void notify(java.sql.Connection c, String id) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT pg_notify(?, ?)")) {
      p.setString(1, CHANNEL);
      p.setString(2, id);
      p.execute();
    }
  }

  /** Records that a key was used now. */
  public void touch(String id) {
    db.read(c -> {
      try (PreparedStatement p = c.prepareStatement("UPDATE " + Database.SCHEMA + ".api_keys"
          + " SET last_used_at = now() WHERE id = ?")) {
        p.setString(1, id);
        return p.executeUpdate();
      }
    });
  }

  /**
   * Calls {@code changed} after each creation or revocation any process makes, after (re)connecting and
   * every 30 s, on a daemon thread of its own (interrupt it to stop).
   */
  public Thread follow(Runnable changed) {
    return Notifications.follow(db, CHANNEL, "key-listener", changed);
  }

  private static final String COLUMNS =
      "id, name, secret_sha256, scopes, created_at, created_by, expires_at, revoked_at, last_used_at";

  private static Stored row(ResultSet r) throws SQLException {
    Array scopes = r.getArray(4);
    return new Stored(r.getString(1), r.getString(2), r.getBytes(3),
        List.copyOf(Arrays.asList((String[]) scopes.getArray())), r.getTimestamp(5).toInstant(), r.getString(6),
        instant(r.getTimestamp(7)), instant(r.getTimestamp(8)), instant(r.getTimestamp(9)));
  }

  @Nullable
  private static Instant instant(@Nullable Timestamp t) {
    return t == null ? null : t.toInstant();
  }
}
