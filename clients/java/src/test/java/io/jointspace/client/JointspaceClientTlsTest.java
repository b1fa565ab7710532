package io.jointspace.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.jointspace.client.cli.Cli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java client and the command line against the real server with mTLS on its gRPC port
 * ({@code --tls-cert --tls-key --tls-client-ca}), certificates made by the test.
 */
class JointspaceClientTlsTest {
  @TempDir static Path dir;
  static Path ca;
  static Path cert;
  static Path key;
  static Path strangerCert;
  static Path strangerKey;
  static LiveServer server;

  @BeforeAll
  static void start() throws Exception {
    TestPki.Issued authority = TestPki.ca("Jointspace test CA");
    ca = authority.writeCert(dir.resolve("ca.crt"));
    TestPki.Issued serverCert = TestPki.server(authority);
    TestPki.Issued client = TestPki.client(authority, "client");
    cert = client.writeCert(dir.resolve("client.crt"));
    key = client.writeKey(dir.resolve("client.key"));
    TestPki.Issued stranger = TestPki.client(TestPki.ca("Another CA"), "stranger");
    strangerCert = stranger.writeCert(dir.resolve("stranger.crt"));
    strangerKey = stranger.writeKey(dir.resolve("stranger.key"));
    int healthPort = LiveServer.freePort();
    server = LiveServer.start("tls", List.of(
        "--tls-cert", serverCert.writeCert(dir.resolve("server.crt")).toString(),
        "--tls-key", serverCert.writeKey(dir.resolve("server.key")).toString(),
        "--tls-client-ca", ca.toString(), "--health-port", Integer.toString(healthPort)), healthPort);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void client_withACertificateFromTheServersCa_embedsOverMtls() {
    try (JointspaceClient client = JointspaceClient.builder(server.address).tls(ca).clientCertificate(cert, key)
        .deadline(Duration.ofSeconds(60)).build()) {
      assertThat(client.listModels().getModelsList()).anySatisfy(m -> assertThat(m.getName()).isEqualTo("shapes-clip"));
      assertThat(client.embed(JointspaceClient.model("shapes-clip", 2), List.of(JointspaceClient.text("a red star"))))
          .singleElement().satisfies(v -> assertThat(v).hasSize(64));
    }
  }

  @Test
  void client_withoutACertificate_orPlaintext_orWithAStrangersCertificate_isRefused() {
    List<JointspaceClient.Builder> refused = List.of(
        JointspaceClient.builder(server.address).tls(ca),
        JointspaceClient.builder(server.address),
        JointspaceClient.builder(server.address).tls(ca).clientCertificate(strangerCert, strangerKey));
    for (JointspaceClient.Builder b : refused) {
      try (JointspaceClient client = b.maxAttempts(1).deadline(Duration.ofSeconds(20)).build()) {
        assertThatThrownBy(client::listModels).isInstanceOfSatisfying(JointspaceException.class,
            e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
      }
    }
  }

  record Run(int code, String out, String err) {}

  static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    List<String> all = new ArrayList<>(List.of("--address", server.address));
    all.addAll(List.of(args));
    int code = Cli.run(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(new String[0]));
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void commandLine_withTlsFlags_talksToTheServer() {
    Run r = cli("--tls-ca", ca.toString(), "--tls-cert", cert.toString(), "--tls-key", key.toString(), "models");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("shapes-clip");
    // the flags also work after the command
    r = cli("models", "--tls-ca", ca.toString(), "--tls-cert", cert.toString(), "--tls-key", key.toString());
    assertThat(r.code()).as(r.err()).isZero();
    r = cli("--tls-ca", ca.toString(), "models");
    assertThat(r.code()).isEqualTo(1);
    // the handshake's own reason, not just "ssl exception"
    assertThat(r.err()).contains("UNAVAILABLE").containsIgnoringCase("CERTIFICATE_REQUIRED");
  }

  @Test
  void commandLine_withABadTlsFile_exits2_namingIt() throws Exception {
    Path missing = dir.resolve("missing.crt");
    Run r = cli("--tls-ca", missing.toString(), "models");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains(missing.toString());
    Path notPem = Files.writeString(dir.resolve("notes.txt"), "not a certificate\n");
    r = cli("--tls-ca", notPem.toString(), "models");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains(notPem.toString());
    r = cli("--tls-ca", ca.toString(), "--tls-cert", cert.toString(), "models");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--tls-cert needs --tls-key");
  }
}
