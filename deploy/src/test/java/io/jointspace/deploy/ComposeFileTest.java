package io.jointspace.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.server.ServeCommand;
import io.jointspace.server.Settings;
import io.jointspace.server.store.DatabaseUrl;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * deploy/compose.yaml, read with a YAML parser: attribute names from the Compose
 * specification only, the server's command through its own command line and config loader,
 * health checks that test what each service needs, and no password in the file.
 */
class ComposeFileTest {
  static final Path COMPOSE = Manifests.DEPLOY.resolve("compose.yaml");
  /** Top-level elements and service attributes of the Compose specification used or likely here. */
  static final Set<String> TOP_LEVEL = Set.of("name", "services", "networks", "volumes", "secrets", "configs", "include");
  static final Set<String> SERVICE = Set.of("image", "build", "command", "entrypoint", "environment", "env_file",
      "secrets", "configs", "volumes", "tmpfs", "read_only", "user", "ports", "expose", "healthcheck", "depends_on",
      "restart", "stop_grace_period", "stop_signal", "init", "networks", "labels", "logging", "deploy", "ulimits",
      "shm_size", "mem_limit", "cpus", "security_opt", "cap_drop", "cap_add", "working_dir", "profiles");
  static final Set<String> HEALTHCHECK = Set.of("test", "interval", "timeout", "retries", "start_period",
      "start_interval", "disable");

  static JsonNode compose;
  static JsonNode db;
  static JsonNode server;
  static Settings settings;
  static Map<String, String> serverEnv = new HashMap<>();

  @BeforeAll
  static void read() throws IOException {
    compose = Yaml.document(COMPOSE);
    db = compose.path("services").path("db");
    server = compose.path("services").path("jointspace");
    server.path("environment").properties().forEach(e -> serverEnv.put(e.getKey(), e.getValue().asString()));
    Map<String, Path> binds = new HashMap<>();
    for (JsonNode v : server.path("volumes")) {
      binds.put(v.path("target").asString(), Manifests.DEPLOY.resolve(v.path("source").asString()).normalize());
    }
    settings = ServeCommand.settings(Manifests.strings(server.path("command")), serverEnv, path -> {
      for (var b : binds.entrySet()) {
        if (path.startsWith(b.getKey())) {
          return b.getValue().resolve(Path.of(b.getKey()).relativize(path).toString());
        }
      }
      throw new AssertionError(path + " is on no bind mount of the jointspace service");
    });
  }

  @Test
  void everyAttribute_isOneOfComposes() {
    compose.propertyNames().forEach(k -> assertThat(TOP_LEVEL).as("top-level element").contains(k));
    assertThat(compose.path("services").propertyNames()).containsExactlyInAnyOrder("db", "jointspace");
    for (JsonNode s : List.of(db, server)) {
      s.propertyNames().forEach(k -> assertThat(SERVICE).as("service attribute").contains(k));
      s.path("healthcheck").propertyNames().forEach(k -> assertThat(HEALTHCHECK).as("healthcheck attribute").contains(k));
    }
  }

  @Test
  void server_runsTheBuildsImage_withRealFlagsAndVariables() throws IOException {
    assertThat(server.path("image").asString()).isEqualTo("jointspace:" + Manifests.version());
    assertThat(Manifests.strings(server.path("entrypoint"))).isEqualTo(KubernetesManifestsTest.LAUNCHER);
    Set<String> flags = ServeCommand.flags();
    for (String a : Manifests.strings(server.path("command")).subList(1, server.path("command").size())) {
      assertThat(flags).contains(a.contains("=") ? a.substring(0, a.indexOf('=')) : a);
    }
    Set<String> known = Manifests.environmentVariables();
    serverEnv.keySet().stream().filter(k -> k.startsWith("JOINTSPACE_"))
        .forEach(k -> assertThat(known).as("environment variable %s", k).contains(k));
    assertThat(settings.grpcAddress()).isEqualTo("0.0.0.0");
    assertThat(settings.authRequired()).isTrue();
    assertThat(settings.healthPort()).isPositive();
    assertThat(Manifests.strings(server.path("ports")))
        .anyMatch(p -> p.endsWith(":" + settings.grpcPort()))
        .anyMatch(p -> p.endsWith(":" + settings.httpPort()));
    assertThat(settings.metricsPort()).as("/metrics is on the HTTP port; the metrics port is deprecated").isNegative();
  }

  @Test
  void modelRepository_isMountedReadOnly_fromTheCheckout() {
    JsonNode models = null;
    for (JsonNode v : server.path("volumes")) {
      if (Path.of(v.path("target").asString()).equals(settings.repository())) {
        models = v;
      }
    }
    assertThat(models).as("a volume at the repository %s", settings.repository()).isNotNull();
    assertThat(models.path("type").asString()).isEqualTo("bind");
    assertThat(models.path("read_only").asBoolean()).isTrue();
    assertThat(Manifests.DEPLOY.resolve(models.path("source").asString()).normalize())
        .isEqualTo(Manifests.ROOT.resolve("models")).isDirectory();
    assertThat(server.path("read_only").asBoolean()).as("read-only root filesystem").isTrue();
    assertThat(Manifests.strings(server.path("tmpfs"))).contains("/tmp");
  }

  @Test
  void healthChecks_askPostgresAndTheServersHealthService_andTheServerWaitsForTheDatabase() {
    List<String> pg = Manifests.strings(db.path("healthcheck").path("test"));
    assertThat(pg).startsWith("CMD", "pg_isready")
        .contains("--username=" + db.path("environment").path("POSTGRES_USER").asString(),
            "--dbname=" + db.path("environment").path("POSTGRES_DB").asString());
    List<String> hc = Manifests.strings(server.path("healthcheck").path("test"));
    assertThat(hc).hasSize(4);
    assertThat(hc.subList(0, 2)).containsExactly("CMD", "bash");
    assertThat(hc.get(3)).isEqualTo(Integer.toString(settings.healthPort()));
    JsonNode script = null;
    for (JsonNode v : server.path("volumes")) {
      if (v.path("target").asString().equals(hc.get(2))) {
        script = v;
      }
    }
    assertThat(script).as("the health check script %s is mounted", hc.get(2)).isNotNull();
    assertThat(Manifests.DEPLOY.resolve(script.path("source").asString()))
        .isEqualTo(Manifests.DEPLOY.resolve("./healthcheck/grpc-health.sh")).isRegularFile();
    // loading the models may take up to 10 minutes before the health service turns SERVING
    assertThat(duration(server.path("healthcheck").path("start_period").asString())).isGreaterThanOrEqualTo(Duration.ofMinutes(10));
    assertThat(server.path("depends_on").path("db").path("condition").asString()).isEqualTo("service_healthy");
    // calls in flight get the grace period, then the models unload
    assertThat(duration(server.path("stop_grace_period").asString()))
        .isGreaterThan(Duration.ofMillis(settings.shutdownGraceMillis()).plusSeconds(5));
  }

  @Test
  void database_keepsItsDataInANamedVolume_andThePasswordOnlyInSecretFilesOutOfGit() throws IOException {
    String data = null;
    for (String v : Manifests.strings(db.path("volumes"))) {
      if (v.endsWith(":/var/lib/postgresql/data")) {
        data = v.substring(0, v.indexOf(':'));
      }
    }
    assertThat(data).as("a volume for /var/lib/postgresql/data").isNotNull();
    assertThat(compose.path("volumes").has(data)).as("named volume %s declared", data).isTrue();

    for (JsonNode s : List.of(db, server)) {
      s.path("environment").properties().forEach(e -> assertThat(e.getKey().contains("PASSWORD") && !e.getKey().endsWith("_FILE"))
          .as("%s holds a password in the file", e.getKey()).isFalse());
    }
    assertThat(db.path("environment").path("POSTGRES_PASSWORD_FILE").asString())
        .isEqualTo("/run/secrets/" + db.path("secrets").get(0).asString());
    DatabaseUrl url = DatabaseUrl.parse(serverEnv.get("JOINTSPACE_DATABASE_URL"));
    assertThat(url.password()).as("no password in the URL").isNull();
    assertThat(url.jdbcUrl()).contains("//db:5432/" + db.path("environment").path("POSTGRES_DB").asString());
    assertThat(url.user()).isEqualTo(db.path("environment").path("POSTGRES_USER").asString());
    assertThat(serverEnv.get("PGPASSFILE")).isEqualTo("/run/secrets/" + server.path("secrets").get(0).asString());

    String ignore = Files.readString(Manifests.DEPLOY.resolve("secrets/.gitignore"), StandardCharsets.UTF_8);
    assertThat(ignore.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).toList()).containsExactly("*", "!.gitignore");
    compose.path("secrets").properties().forEach(e -> assertThat(e.getValue().path("file").asString())
        .as("secret %s", e.getKey()).startsWith("./secrets/"));
  }

  /** A Compose duration: 1m30s, 10s, 10m, 1h. */
  static Duration duration(String text) {
    Matcher m = Pattern.compile("(\\d+)(h|ms|m|s|us)").matcher(text);
    Duration d = Duration.ZERO;
    int end = 0;
    while (m.find() && m.start() == end) {
      long n = Long.parseLong(m.group(1));
      d = d.plus(switch (m.group(2)) {
        case "h" -> Duration.ofHours(n);
        case "m" -> Duration.ofMinutes(n);
        case "s" -> Duration.ofSeconds(n);
        case "ms" -> Duration.ofMillis(n);
        default -> Duration.ofNanos(n * 1000);
      });
      end = m.end();
    }
    assertThat(end).as("a Compose duration: '%s'", text).isEqualTo(text.length()).isPositive();
    return d;
  }
}
