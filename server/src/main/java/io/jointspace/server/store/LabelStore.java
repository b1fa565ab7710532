package io.jointspace.server.store;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import javax.annotation.Nullable;

/**
 * Model labels changed at run time, in PostgreSQL: where each label points now
 * ({@code jointspace.model_labels}) and every change ({@code jointspace.model_label_changes}).
 * A change is one transaction that records it and sends {@code NOTIFY jointspace_labels}, so
 * every server process following them ({@link #follow}) reloads within about a second.
 * Targets are version -> weight maps; this class knows nothing of the registry's types.
 */
public final class LabelStore {
  static final String CHANNEL = "jointspace_labels";

  /** A label's row: where it points (null: deleted) and its fallback. */
  public record Stored(String model, String label, @Nullable SortedMap<Long, Integer> target,
      @Nullable SortedMap<Long, Integer> fallback, Instant changedAt, String changedBy) {}

  /** One recorded change; {@code from} or {@code to} null when the label did not exist or was deleted. */
  public record Change(long id, String model, String label, @Nullable SortedMap<Long, Integer> from,
      @Nullable SortedMap<Long, Integer> to, Instant changedAt, String changedBy) {}

  private final Database db;

  public LabelStore(Database db) {
    this.db = db;
  }

  /** Every stored label row, deleted ones included. */
  public List<Stored> all() {
    return db.read(c -> {
      List<Stored> out = new ArrayList<>();
      try (Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SELECT model, label, target::text, fallback::text, changed_at, changed_by"
              + " FROM " + Database.SCHEMA + ".model_labels ORDER BY model, label")) {
        while (r.next()) {
          out.add(new Stored(r.getString(1), r.getString(2), weights(r.getString(3)), weights(r.getString(4)),
              r.getTimestamp(5).toInstant(), r.getString(6)));
        }
      }
      return out;
    });
  }

  /**
   * Points {@code label} at {@code target} (null: deletes it) in one transaction that also
   * records the change and notifies every listener. {@code from} is read under the row's lock
   * (the row is made first when missing), so concurrent changes from several processes are
   * recorded in the order they commit.
   *
   * @param configured where the configuration points the label (null: not configured), the
   *     "from" of its first recorded change
   */
  public Change change(String model, String label, @Nullable SortedMap<Long, Integer> target,
      @Nullable SortedMap<Long, Integer> fallback, @Nullable SortedMap<Long, Integer> configured, String changedBy) {
    return db.inTransaction(c -> {
      // a first change makes the row (as the configuration has the label) so that concurrent ones
      // wait for each other on its lock, and each records what the one before it left
      try (PreparedStatement p = c.prepareStatement("INSERT INTO " + Database.SCHEMA + ".model_labels"
          + " (model, label, target) VALUES (?, ?, ?::jsonb) ON CONFLICT DO NOTHING")) {
        p.setString(1, model);
        p.setString(2, label);
        p.setString(3, json(configured));
        p.executeUpdate();
      }
      SortedMap<Long, Integer> from;
      try (PreparedStatement p = c.prepareStatement("SELECT target::text FROM " + Database.SCHEMA
          + ".model_labels WHERE model = ? AND label = ? FOR UPDATE")) {
        p.setString(1, model);
        p.setString(2, label);
        try (ResultSet r = p.executeQuery()) {
          r.next();
          from = weights(r.getString(1));
        }
      }
      try (PreparedStatement p = c.prepareStatement("INSERT INTO " + Database.SCHEMA + ".model_labels"
          + " (model, label, target, fallback, changed_at, changed_by) VALUES (?, ?, ?::jsonb, ?::jsonb, now(), ?)"
          + " ON CONFLICT (model, label) DO UPDATE SET target = excluded.target, fallback = excluded.fallback,"
          + " changed_at = excluded.changed_at, changed_by = excluded.changed_by")) {
        p.setString(1, model);
        p.setString(2, label);
        p.setString(3, json(target));
        p.setString(4, json(fallback));
        p.setString(5, changedBy);
        p.executeUpdate();
      }
      Change change;
      try (PreparedStatement p = c.prepareStatement("INSERT INTO " + Database.SCHEMA + ".model_label_changes"
          + " (model, label, from_target, to_target, changed_by) VALUES (?, ?, ?::jsonb, ?::jsonb, ?)"
          + " RETURNING id, changed_at")) {
        p.setString(1, model);
        p.setString(2, label);
        p.setString(3, json(from));
        p.setString(4, json(target));
        p.setString(5, changedBy);
        try (ResultSet r = p.executeQuery()) {
          r.next();
          change = new Change(r.getLong(1), model, label, from, target, r.getTimestamp(2).toInstant(), changedBy);
        }
      }
      try (PreparedStatement p = c.prepareStatement("SELECT pg_notify(?, ?)")) {
        p.setString(1, CHANNEL);
        p.setString(2, model);
        p.execute();
      }
      return change;
    });
  }

  /** The last recorded change of every label that has one. */
  public List<Change> lastChanges() {
    return db.read(c -> {
      List<Change> out = new ArrayList<>();
      try (Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SELECT DISTINCT ON (model, label) id, model, label, from_target::text,"
              + " to_target::text, changed_at, changed_by FROM " + Database.SCHEMA + ".model_label_changes"
              + " ORDER BY model, label, id DESC")) {
        while (r.next()) {
          out.add(new Change(r.getLong(1), r.getString(2), r.getString(3), weights(r.getString(4)),
              weights(r.getString(5)), r.getTimestamp(6).toInstant(), r.getString(7)));
        }
      }
      return out;
    });
  }

  /** The recorded changes of a model (of one label when {@code label} is not empty), oldest first. */
  public List<Change> history(String model, String label) {
    return db.read(c -> {
      List<Change> out = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement("SELECT id, label, from_target::text, to_target::text,"
          + " changed_at, changed_by FROM " + Database.SCHEMA + ".model_label_changes"
          + " WHERE model = ? AND (? = '' OR label = ?) ORDER BY id")) {
        p.setString(1, model);
        p.setString(2, label);
        p.setString(3, label);
        try (ResultSet r = p.executeQuery()) {
          while (r.next()) {
            out.add(new Change(r.getLong(1), model, r.getString(2), weights(r.getString(3)), weights(r.getString(4)),
                r.getTimestamp(5).toInstant(), r.getString(6)));
          }
        }
      }
      return out;
    });
  }

  /**
   * Calls {@code changed} after each change any process makes, after (re)connecting and every
   * 30 s, on a daemon thread of its own (interrupt it to stop).
   */
  public Thread follow(Runnable changed) {
    return Notifications.follow(db, CHANNEL, "label-listener", changed);
  }

  /** {"2": 90, "3": 10} as a sorted map; null for null. */
  @Nullable
  static SortedMap<Long, Integer> weights(@Nullable String json) {
    if (json == null) {
      return null;
    }
    SortedMap<Long, Integer> out = new TreeMap<>();
    JsonParser.parseString(json).getAsJsonObject().entrySet()
        .forEach(e -> out.put(Long.parseLong(e.getKey()), e.getValue().getAsInt()));
    return out;
  }

  @Nullable
  static String json(@Nullable Map<Long, Integer> weights) {
    if (weights == null) {
      return null;
    }
    JsonObject o = new JsonObject();
    weights.forEach((v, w) -> o.addProperty(Long.toString(v), w));
    return o.toString();
  }
}
