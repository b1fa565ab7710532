package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jointspace.config.v1.ServerConfig;
import io.jointspace.config.v1.TlsConfig;
import io.jointspace.server.http.HttpClientForTests;
import java.io.IOException;
import java.math.BigInteger;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.annotation.Nullable;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP port with the gRPC port's TLS: the same certificate, client certificates, rotation. */
class HttpTlsTest {
  @TempDir static Path dir;
  static TestPki.Issued ca;
  static TestPki.Issued serverCert;
  static TestPki.Issued clientCert;
  static TestPki.Issued stranger;
  static ServerFixture mtls;

  @BeforeAll
  static void start() throws Exception {
    ca = TestPki.ca("Jointspace test CA");
    serverCert = TestPki.server(ca);
    clientCert = TestPki.client(ca, "client");
    stranger = TestPki.client(TestPki.ca("Another CA"), "stranger");
    Path cert = serverCert.write(dir.resolve("server.crt"), dir.resolve("server.key"));
    Path caFile = ca.writeCert(dir.resolve("ca.crt"));
    Files.createDirectories(dir.resolve("repo"));
    mtls = ServerFixture.start(ServerConfig.newBuilder().setHttpPort(ServerFixture.freePort())
        .setTls(TlsConfig.newBuilder().setCertFile(cert.toString()).setKeyFile(dir.resolve("server.key").toString())
            .setClientCaFile(caFile.toString())), dir.resolve("repo"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (mtls != null) {
      mtls.close();
    }
  }

  /** A client trusting the test CA, presenting {@code identity} when not null; new connections each. */
  static HttpClientForTests client(ServerFixture f, @Nullable TestPki.Issued identity) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca.cert());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (identity != null) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("me", identity.keys().getPrivate(), new char[0], new Certificate[] {identity.cert()});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, new char[0]);
    }
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    HttpClient client = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
    return new HttpClientForTests(client, "https://localhost:" + f.server.httpPort());
  }

  static BigInteger servedSerial(HttpResponse<String> r) throws Exception {
    return ((X509Certificate) r.sslSession().orElseThrow().getPeerCertificates()[0]).getSerialNumber();
  }

  @Test
  void withAClientCertificate_theHttpPortAnswers_withTheGrpcPortsCertificate() throws Exception {
    HttpResponse<String> r = client(mtls, clientCert).get("/v2/health/ready");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.uri().getScheme()).isEqualTo("https");
    assertThat(servedSerial(r)).isEqualTo(serverCert.serial());
  }

  @Test
  void withoutAClientCertificate_orWithAStrangersOne_orInPlaintext_thereIsNoAnswer() throws Exception {
    assertThatThrownBy(() -> client(mtls, null).get("/v2/health/live")).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> client(mtls, stranger).get("/v2/health/live")).isInstanceOf(IOException.class);
    HttpClientForTests plain = new HttpClientForTests("http://127.0.0.1:" + mtls.server.httpPort());
    assertThatThrownBy(() -> plain.get("/v2/health/live")).isInstanceOf(IOException.class);
  }

  @Test
  void aRotatedCertificate_isServedOnTheHttpPortToo_withoutARestart() throws Exception {
    Path rotating = Files.createDirectories(dir.resolve("rotating"));
    Path cert = rotating.resolve("server.crt");
    Path key = rotating.resolve("server.key");
    serverCert.write(cert, key);
    try (ServerFixture server = ServerFixture.start(ServerConfig.newBuilder().setHttpPort(ServerFixture.freePort())
        .setTls(TlsConfig.newBuilder().setCertFile(cert.toString()).setKeyFile(key.toString())), dir.resolve("repo"))) {
      assertThat(servedSerial(client(server, null).get("/v2/health/live"))).isEqualTo(serverCert.serial());
      TestPki.Issued next = TestPki.server(ca);
      next.write(cert, key);
      long deadline = System.nanoTime() + ServerTls.RELOAD_PERIOD.plusSeconds(20).toNanos();
      BigInteger served;
      do {
        Thread.sleep(1000);
        served = servedSerial(client(server, null).get("/v2/health/live"));
      } while (!served.equals(next.serial()) && System.nanoTime() < deadline);
      assertThat(served).isEqualTo(next.serial());
    }
  }
}
