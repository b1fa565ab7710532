package io.jointspace.server.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL + pgvector for tests: the private cluster of {@code deploy/local/pg-cluster.sh}
 * under {@code server/target/pg-test} (started once per test JVM, stopped when it exits), or
 * the server named by {@code JOINTSPACE_TEST_DATABASE_URL}. Each {@link #fresh()} call makes a
 * new empty database, so test classes do not see each other's collections.
 */
public final class TestDatabase {
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static DatabaseUrl admin;
  private static PrivateCluster cluster;

  private TestDatabase() {}

  /** The maintenance database URL of the test server. */
  public static synchronized DatabaseUrl admin() {
    if (admin == null) {
      String url = System.getenv("JOINTSPACE_TEST_DATABASE_URL");
      if (url == null || url.isBlank()) {
        try {
          Path home = projectRoot();
          // a new cluster per test run: databases of earlier runs do not pile up
          cluster = PrivateCluster.start(home, emptyClusterDir("pg-test"));
          PrivateCluster started = cluster;
          Runtime.getRuntime().addShutdownHook(new Thread(started::close, "pg-test-stop"));
          admin = cluster.databaseUrl();
          return admin;
        } catch (Exception e) {
          throw new IllegalStateException("cannot start the test PostgreSQL cluster: " + e.getMessage(), e);
        }
      }
      admin = DatabaseUrl.parse(url);
    }
    return admin;
  }

  /** A new, empty database with the vector extension. */
  public static DatabaseUrl fresh() {
    DatabaseUrl base = admin();
    String name = "t" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet();
    try (Connection c = connect(base); Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name);
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create test database " + name + ": " + e.getMessage(), e);
    }
    DatabaseUrl url = new DatabaseUrl(base.jdbcUrl().replaceFirst("/[^/?]*(\\?|$)", "/" + name + "$1"), base.user(),
        base.password());
    try (Connection c = connect(url); Statement s = c.createStatement()) {
      s.execute("CREATE EXTENSION IF NOT EXISTS vector");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create the vector extension in " + name + ": " + e.getMessage(), e);
    }
    return url;
  }

  /**
   * {@code url} as one JDBC URL for a server's configuration or {@code --database-url}, its
   * user and password (the private cluster takes passwords only) as query parameters.
   */
  public static String configUrl(DatabaseUrl url) {
    StringBuilder s = new StringBuilder(url.jdbcUrl()).append(url.jdbcUrl().contains("?") ? '&' : '?');
    s.append("user=").append(java.net.URLEncoder.encode(url.user(), java.nio.charset.StandardCharsets.UTF_8));
    if (url.password() != null) {
      s.append("&password=").append(java.net.URLEncoder.encode(url.password(), java.nio.charset.StandardCharsets.UTF_8));
    }
    return s.toString();
  }

  public static Connection connect(DatabaseUrl url) throws SQLException {
    Properties p = new Properties();
    if (url.user() != null) {
      p.setProperty("user", url.user());
    }
    if (url.password() != null) {
      p.setProperty("password", url.password());
    }
    return DriverManager.getConnection(url.jdbcUrl(), p);
  }

  /**
   * An empty folder {@code server/target/NAME} for a test's own private cluster: a cluster
   * left there by an earlier run is stopped and its files removed.
   */
  public static Path emptyClusterDir(String name) throws Exception {
    Path home = projectRoot();
    Path dir = home.resolve("server/target").resolve(name);
    if (Files.exists(dir)) {
      new ProcessBuilder("bash", home.resolve("deploy/local/pg-cluster.sh").toString(), "stop", dir.toString())
          .inheritIO().start().waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
      try (var paths = Files.walk(dir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    return dir;
  }

  /** The folder with deploy/local/pg-cluster.sh (the repository root). */
  public static Path projectRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isRegularFile(p.resolve("deploy/local/pg-cluster.sh"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("deploy/local/pg-cluster.sh not found above " + Path.of("").toAbsolutePath());
    }
    return p;
  }
}
