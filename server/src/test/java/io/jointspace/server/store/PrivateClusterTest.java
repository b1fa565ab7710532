package io.jointspace.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The private cluster of {@code deploy/local/pg-cluster.sh} takes passwords only, kept in a 0600 file. */
class PrivateClusterTest {

  @Test
  void cluster_refusesConnectionsWithoutThePassword_acceptsTheFilesOne() throws Exception {
    Path dir = TestDatabase.emptyClusterDir("pg-auth");
    try (PrivateCluster cluster = PrivateCluster.start(TestDatabase.projectRoot(), dir)) {
      Path password = dir.resolve("password");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(password))).isEqualTo("rw-------");
      assertThat(Files.getOwner(password).getName()).isEqualTo(System.getProperty("user.name"));
      assertThat(cluster.url()).doesNotContain(Files.readString(password).strip());
      assertNoTrust(dir);

      DatabaseUrl withPassword = cluster.databaseUrl();
      assertThat(withPassword.password()).isEqualTo(Files.readString(password).strip());
      assertThat(withPassword.toString()).doesNotContain(withPassword.password());
      try (Connection c = TestDatabase.connect(withPassword); Statement s = c.createStatement()) {
        assertThat(s.execute("SELECT 1")).isTrue();
      }
      DatabaseUrl noPassword = new DatabaseUrl(withPassword.jdbcUrl(), "postgres", null);
      assertThatThrownBy(() -> TestDatabase.connect(noPassword).close()).isInstanceOf(SQLException.class);
      DatabaseUrl wrong = new DatabaseUrl(withPassword.jdbcUrl(), "postgres", "not-the-password");
      assertThatThrownBy(() -> TestDatabase.connect(wrong).close()).isInstanceOf(SQLException.class)
          .hasMessageContaining("password authentication failed");
    }
  }

  @Test
  void clusterOfTheOldScript_withTrust_isUpgradedAtTheNextStart() throws Exception {
    Path dir = TestDatabase.emptyClusterDir("pg-upgrade");
    try {
      script("start", dir);
      script("stop", dir);
      // what the old script wrote: trust for everyone, no password file
      Files.writeString(dir.resolve("data/pg_hba.conf"),
          "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n");
      Files.delete(dir.resolve("password"));
      script("start", dir);
      assertNoTrust(dir);
      try (PrivateCluster cluster = PrivateCluster.start(TestDatabase.projectRoot(), dir);
          Connection c = TestDatabase.connect(cluster.databaseUrl())) {
        assertThat(c.isValid(5)).isTrue();
        DatabaseUrl noPassword = new DatabaseUrl(cluster.databaseUrl().jdbcUrl(), "postgres", null);
        assertThatThrownBy(() -> TestDatabase.connect(noPassword).close()).isInstanceOf(SQLException.class);
      }
    } finally {
      script("stop", dir);
    }
  }

  @Test
  void script_refusesALocationFileNamingAnotherFolder_andLinks() throws Exception {
    Path dir = TestDatabase.emptyClusterDir("pg-links");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("location"), "/etc\n");
    assertThat(script("start", dir)).isNotZero();
    Files.delete(dir.resolve("location"));
    Files.createSymbolicLink(dir.resolve("port"), Path.of("/etc/hostname"));
    assertThat(script("start", dir)).isNotZero();
    assertThat(Files.exists(dir.resolve("data"))).isFalse();
  }

  @Test
  void aPortTakenBetweenTheCheckAndTheStart_startsOnAnother_belowTheEphemeralPorts() throws Exception {
    Path dir = TestDatabase.emptyClusterDir("pg-port");
    try {
      assertThat(script("start", dir)).isZero();
      assertThat(script("stop", dir)).isZero();
      int port = Integer.parseInt(Files.readString(dir.resolve("port")).strip());
      // bound, not listening: the script's check sees a free port, PostgreSQL cannot bind it
      try (java.nio.channels.SocketChannel taken = java.nio.channels.SocketChannel.open()) {
        taken.bind(new java.net.InetSocketAddress("127.0.0.1", port));
        assertThat(script("start", dir)).isZero();
      }
      int now = Integer.parseInt(Files.readString(dir.resolve("port")).strip());
      assertThat(now).isNotEqualTo(port);
      int ephemeral;
      try (var range = Files.newBufferedReader(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
        ephemeral = Integer.parseInt(range.readLine().strip().split("\\s+")[0]);
      }
      assertThat(now).isBetween(20000, ephemeral - 1);
      try (PrivateCluster cluster = PrivateCluster.start(TestDatabase.projectRoot(), dir);
          Connection c = TestDatabase.connect(cluster.databaseUrl())) {
        assertThat(c.isValid(5)).isTrue();
      }
    } finally {
      script("stop", dir);
    }
  }

  private static void assertNoTrust(Path dir) throws Exception {
    Path data = dir.resolve("data");
    if (Files.isRegularFile(dir.resolve("location"))) {
      data = Path.of(Files.readString(dir.resolve("location")).strip(), "data");
    }
    String hba = Files.readString(data.resolve("pg_hba.conf"));
    assertThat(hba).doesNotContain("trust").contains("scram-sha-256");
  }

  private static int script(String command, Path dir) throws Exception {
    Process p = new ProcessBuilder("bash", TestDatabase.projectRoot().resolve("deploy/local/pg-cluster.sh").toString(),
        command, dir.toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return p.exitValue();
  }
}
