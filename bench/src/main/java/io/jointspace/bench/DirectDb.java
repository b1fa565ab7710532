package io.jointspace.bench;

import io.jointspace.server.store.DatabaseUrl;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.postgresql.PGConnection;

/**
 * A plain JDBC connection to the benchmark's database, beside the server: the binary COPY
 * baseline, VACUUM ANALYZE after loading, and the versions the report names.
 */
final class DirectDb implements AutoCloseable {
  private static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0};

  private final Connection connection;

  DirectDb(String url) throws SQLException {
    DatabaseUrl parsed = DatabaseUrl.parse(url);
    Properties props = new Properties();
    if (parsed.user() != null) {
      props.setProperty("user", parsed.user());
    }
    if (parsed.password() != null) {
      props.setProperty("password", parsed.password());
    }
    props.setProperty("ApplicationName", "jointspace-bench");
    this.connection = DriverManager.getConnection(parsed.jdbcUrl(), props);
  }

  /** The schema-qualified, quoted item table a collection uses now. */
  String tableOf(String collection) throws SQLException {
    try (PreparedStatement p = connection.prepareStatement(
        "SELECT active_table FROM jointspace.collections WHERE name = ?")) {
      p.setString(1, collection);
      try (ResultSet r = p.executeQuery()) {
        if (!r.next()) {
          throw new IllegalStateException("no collection " + collection + " in jointspace.collections");
        }
        return "jointspace.\"" + r.getString(1).replace("\"", "\"\"") + "\"";
      }
    }
  }

  /**
   * Items {@code from..to} in PostgreSQL's binary COPY format for the columns
   * {@code (id text, embedding vector, metadata jsonb)}, with the metadata the gRPC path sends.
   */
  static byte[] copyPayload(VectorData data, int from, int to) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream((to - from) * (data.dimension * 4 + 96));
    DataOutputStream out = new DataOutputStream(bytes);
    out.write(SIGNATURE);
    out.writeInt(0);
    out.writeInt(0);
    for (int i = from; i < to; i++) {
      out.writeShort(3);
      byte[] id = VectorData.id(i).getBytes(StandardCharsets.UTF_8);
      out.writeInt(id.length);
      out.write(id);
      float[] v = data.vectors[i];
      out.writeInt(4 + 4 * v.length);
      out.writeShort(v.length);
      out.writeShort(0);
      for (float x : v) {
        out.writeFloat(x);
      }
      byte[] json = ("{\"n\": " + i + ", \"group\": \"g" + data.group[i] + "\", \"shard\": " + data.shard[i] + "}")
          .getBytes(StandardCharsets.UTF_8);
      out.writeInt(json.length + 1);
      out.writeByte(1);
      out.write(json);
    }
    out.writeShort(-1);
    out.flush();
    return bytes.toByteArray();
  }

  /** One binary COPY of {@code payload} into {@code table} in one transaction; seconds to commit. */
  double copy(String table, byte[] payload) throws SQLException, IOException {
    connection.setAutoCommit(false);
    try {
      long t0 = System.nanoTime();
      connection.unwrap(PGConnection.class).getCopyAPI().copyIn(
          "COPY " + table + " (id, embedding, metadata) FROM STDIN (FORMAT binary)",
          new ByteArrayInputStream(payload), 1 << 16);
      connection.commit();
      return (System.nanoTime() - t0) / 1e9;
    } catch (SQLException | IOException | RuntimeException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(true);
    }
  }

  /** The name and {@code CREATE INDEX} statement of {@code table}'s HNSW index. */
  String[] hnswIndex(String collection) throws SQLException {
    try (PreparedStatement p = connection.prepareStatement("SELECT i.indexname, i.indexdef FROM pg_indexes i"
        + " JOIN jointspace.collections c ON c.active_table = i.tablename"
        + " WHERE c.name = ? AND i.schemaname = 'jointspace' AND i.indexdef LIKE '%USING hnsw%'")) {
      p.setString(1, collection);
      try (ResultSet r = p.executeQuery()) {
        if (!r.next()) {
          throw new IllegalStateException("collection " + collection + " has no HNSW index");
        }
        return new String[] {r.getString(1), r.getString(2)};
      }
    }
  }

  void dropIndex(String name) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute("DROP INDEX jointspace.\"" + name.replace("\"", "\"\"") + "\"");
    }
  }

  /** Runs {@code createIndex} with {@code maintenance_work_mem} set for this session; seconds. */
  double createIndex(String createIndex, String maintenanceWorkMem) throws SQLException {
    long t0 = System.nanoTime();
    try (Statement s = connection.createStatement()) {
      s.execute("SET maintenance_work_mem = '" + maintenanceWorkMem.replace("'", "''") + "'");
      s.execute(createIndex);
      s.execute("RESET maintenance_work_mem");
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  /** VACUUM ANALYZE {@code table}; seconds. */
  double vacuumAnalyze(String table) throws SQLException {
    long t0 = System.nanoTime();
    try (Statement s = connection.createStatement()) {
      s.execute("VACUUM ANALYZE " + table);
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  /** Runs {@code sql}, a statement without results (outside a transaction block: CREATE DATABASE works). */
  void execute(String sql) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute(sql);
    }
  }

  /** The vectors of {@code table}'s {@code count} items {@code item-0..item-<count-1>}, indexed by number. */
  float[][] vectors(String table, int count) throws SQLException {
    float[][] out = new float[count][];
    try (Statement s = connection.createStatement();
        ResultSet r = s.executeQuery("SELECT id, embedding::text FROM " + table)) {
      while (r.next()) {
        out[Integer.parseInt(r.getString(1).substring("item-".length()))] =
            new com.pgvector.PGvector(r.getString(2)).toArray();
      }
    }
    return out;
  }

  /** {@code metadata ->> key} of the {@code count} items "item-0".. of {@code table}, by item number. */
  String[] metadataText(String table, String key, int count) throws SQLException {
    String[] out = new String[count];
    try (java.sql.PreparedStatement s = connection.prepareStatement("SELECT id, metadata ->> ? FROM " + table)) {
      s.setString(1, key);
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          out[Integer.parseInt(r.getString(1).substring("item-".length()))] = r.getString(2);
        }
      }
    }
    return out;
  }

  /** The first column of the first row of {@code sql}, as text. */
  String scalar(String sql) throws SQLException {
    try (Statement s = connection.createStatement(); ResultSet r = s.executeQuery(sql)) {
      return r.next() ? r.getString(1) : null;
    }
  }

  @Override
  public void close() throws SQLException {
    connection.close();
  }
}
