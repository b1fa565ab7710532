package io.jointspace.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.jointspace.api.v1.ApiKey;
import io.jointspace.client.cli.Cli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The client and the command line against a real server that requires API keys
 * ({@code serve --auth on}), with the first admin key made by {@code keys bootstrap} in the
 * server's private database.
 */
class ApiKeyClientTest {
  static LiveServer server;
  static String admin;

  @BeforeAll
  static void start() throws Exception {
    server = LiveServer.start("keys", "--auth", "on");
    Path data = LiveServer.dataDir("keys");
    Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "-Djointspace.home=" + LiveServer.ROOT,
        "io.jointspace.server.Main", "keys", "bootstrap", "--data-dir", data.toString(), "--name", "test admin"))
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    admin = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    assertThat(admin).startsWith("js_");
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  record Run(int code, String out, String err) {}

  static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Cli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void clientWithoutKey_isRefused_withKey_works() {
    try (JointspaceClient anonymous = JointspaceClient.builder(server.address).maxAttempts(1).build()) {
      assertThatThrownBy(anonymous::listModels).isInstanceOfSatisfying(JointspaceException.class,
          e -> assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED));
    }
    try (JointspaceClient c = JointspaceClient.builder(server.address).apiKey(admin).build()) {
      assertThat(c.listModels().getModelsList()).isNotEmpty();
      String reader = c.createKey("reader", List.of("models:read=shapes-clip"), null).getKey();
      try (JointspaceClient r = JointspaceClient.builder(server.address).apiKey(reader).maxAttempts(1).build()) {
        assertThat(r.listModels().getModelsList()).extracting(m -> m.getName()).containsExactly("shapes-clip");
        assertThatThrownBy(r::listKeys).isInstanceOfSatisfying(JointspaceException.class, e -> {
          assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getMessage()).contains("needs admin");
        });
      }
    }
  }

  @Test
  void cli_keysCreateListRevoke_withApiKeyFlag() {
    Run made = cli("--address", server.address, "--api-key", admin, "keys", "create", "ci", "--scope", "infer",
        "--scope", "collections:read=products", "--expires-in", "30d");
    assertThat(made.code()).as(made.err()).isZero();
    String key = made.out().strip();
    assertThat(key).startsWith("js_");
    String id = key.substring(3, 19);
    Run list = cli("--address", server.address, "--api-key", admin, "keys", "list");
    assertThat(list.code()).isZero();
    assertThat(list.out()).contains(id).contains("infer collections:read=products").contains("expires")
        .doesNotContain(key.substring(20));
    Run models = cli("--address", server.address, "--api-key", key, "models");
    assertThat(models.code()).isEqualTo(1);
    assertThat(models.err()).contains("PERMISSION_DENIED").contains("needs models:read");
    Run revoked = cli("--address", server.address, "--api-key", admin, "keys", "revoke", id);
    assertThat(revoked.code()).as(revoked.err()).isZero();
    assertThat(revoked.out()).contains("revoked " + id);
    Run after = cli("--address", server.address, "--api-key", key, "models");
    assertThat(after.code()).isEqualTo(1);
    assertThat(after.err()).contains("UNAUTHENTICATED");
    Run none = cli("--address", server.address, "models");
    assertThat(none.err()).contains("UNAUTHENTICATED");
    List<ApiKey> all;
    try (JointspaceClient c = JointspaceClient.builder(server.address).apiKey(admin).build()) {
      all = c.listKeys();
    }
    assertThat(all).filteredOn(k -> k.getId().equals(id)).singleElement().satisfies(k -> assertThat(k.hasRevokedAt()).isTrue());
  }
}
