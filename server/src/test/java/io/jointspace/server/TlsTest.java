package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolConfig;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolNames;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.ServerReadyRequest;
import io.jointspace.config.v1.ServerConfig;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS and mTLS on the gRPC port against real servers on loopback, with real grpc-java
 * client channels and certificates made by the test: what is accepted and refused, the
 * protocol versions, certificate rotation without a restart, and the plaintext health port.
 */
class TlsTest {
  @TempDir static Path dir;
  static Path repo;
  static TestPki.Issued ca;
  static TestPki.Issued otherCa;
  static TestPki.Issued serverCert;
  static Path caFile;
  static Path otherCaFile;
  static Path certFile;
  static Path keyFile;
  static Path clientCert;
  static Path clientKey;
  static Path strangerCert;
  static Path strangerKey;
  /** TLS, no client certificates. */
  static ServerFixture tls;
  /** mTLS, with a health port. */
  static ServerFixture mtls;

  @BeforeAll
  static void start() throws Exception {
    repo = Files.createDirectories(dir.resolve("models"));
    ca = TestPki.ca("Jointspace test CA");
    otherCa = TestPki.ca("Another CA");
    caFile = ca.writeCert(dir.resolve("ca.crt"));
    otherCaFile = otherCa.writeCert(dir.resolve("other-ca.crt"));
    serverCert = TestPki.server(ca);
    certFile = serverCert.write(dir.resolve("server.crt"), keyFile = dir.resolve("server.key"));
    clientCert = TestPki.client(ca, "client").write(dir.resolve("client.crt"), clientKey = dir.resolve("client.key"));
    strangerCert = TestPki.client(otherCa, "stranger")
        .write(dir.resolve("stranger.crt"), strangerKey = dir.resolve("stranger.key"));
    tls = ServerFixture.start(ServerConfig.newBuilder().setTls(io.jointspace.config.v1.TlsConfig.newBuilder()
        .setCertFile(certFile.toString()).setKeyFile(keyFile.toString())), repo);
    mtls = ServerFixture.start(ServerConfig.newBuilder().setHealthPort(ServerFixture.freePort())
        .setTls(io.jointspace.config.v1.TlsConfig.newBuilder().setCertFile(certFile.toString())
            .setKeyFile(keyFile.toString()).setClientCaFile(caFile.toString())), repo);
  }

  @AfterAll
  static void stop() throws Exception {
    for (ServerFixture f : new ServerFixture[] {tls, mtls}) {
      if (f != null) {
        f.close();
      }
    }
  }

  static ChannelCredentials trusting(Path caPem) throws Exception {
    return TlsChannelCredentials.newBuilder().trustManager(caPem.toFile()).build();
  }

  static ChannelCredentials withCertificate(Path caPem, Path cert, Path key) throws Exception {
    return TlsChannelCredentials.newBuilder().trustManager(caPem.toFile()).keyManager(cert.toFile(), key.toFile())
        .build();
  }

  /** A health check over a new channel (a new connection); the certificate the server showed. */
  static X509Certificate check(int port, ChannelCredentials credentials) throws Exception {
    return (X509Certificate) session(port, credentials).getPeerCertificates()[0];
  }

  static SSLSession session(int port, ChannelCredentials credentials) throws Exception {
    ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port, credentials).build();
    try {
      return session(channel);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** A health check; the TLS session it ran in. */
  static SSLSession session(ManagedChannel channel) throws Exception {
    AtomicReference<SSLSession> session = new AtomicReference<>();
    ClientInterceptor capture = new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        ClientCall<Q, R> call = next.newCall(method, options);
        return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onHeaders(Metadata h) {
                session.set(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
                super.onHeaders(h);
              }
            }, headers);
          }
        };
      }
    };
    ServingStatus status = HealthGrpc.newBlockingStub(ClientInterceptors.intercept(channel, capture))
        .withDeadlineAfter(20, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance()).getStatus();
    assertThat(status).isEqualTo(ServingStatus.SERVING);
    assertThat(session.get()).as("a TLS session").isNotNull();
    return session.get();
  }

  static void assertRefused(int port, ChannelCredentials credentials) {
    assertThatThrownBy(() -> check(port, credentials))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void tlsPort_answersAClientThatTrustsItsCa_withItsCertificate() throws Exception {
    X509Certificate peer = check(tls.server.port(), trusting(caFile));
    assertThat(peer.getSerialNumber()).isEqualTo(serverCert.serial());
  }

  @Test
  void tlsPort_refusesAPlaintextClient() {
    assertRefused(tls.server.port(), InsecureChannelCredentials.create());
  }

  @Test
  void tlsPort_refusesAClientThatTrustsAnotherCa() throws Exception {
    assertRefused(tls.server.port(), trusting(otherCaFile));
  }

  /** A client held to one protocol version (BoringSSL still speaks TLS 1.0 and 1.1 when asked). */
  static String checkWith(String protocol, List<String> ciphers) throws Exception {
    SslContext context = SslContextBuilder.forClient().sslProvider(SslProvider.OPENSSL)
        .protocols(protocol).ciphers(ciphers)
        .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2))
        .trustManager(caFile.toFile())
        .build();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", tls.server.port()).sslContext(context).build();
    try {
      return session(channel).getProtocol();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void tlsPort_speaksTls12And13Only() throws Exception {
    assertThat(checkWith("TLSv1.3", List.of("TLS_AES_128_GCM_SHA256"))).isEqualTo("TLSv1.3");
    assertThat(checkWith("TLSv1.2", List.of("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"))).isEqualTo("TLSv1.2");
    // suites TLS 1.0 and 1.1 can use, so that only the protocol version stands in the way
    List<String> legacy = List.of("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA");
    for (String old : new String[] {"TLSv1.1", "TLSv1"}) {
      assertThatThrownBy(() -> checkWith(old, legacy)).as(old)
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            // the server's alert, not a failure of the client's own
            assertThat(e.getCause()).hasMessageContaining("ALERT_PROTOCOL_VERSION");
          });
    }
  }

  @Test
  void mtlsPort_refusesAClientWithoutACertificate() throws Exception {
    assertRefused(mtls.server.port(), trusting(caFile));
  }

  @Test
  void mtlsPort_refusesAClientCertificateFromAnotherCa() throws Exception {
    assertRefused(mtls.server.port(), withCertificate(caFile, strangerCert, strangerKey));
  }

  @Test
  void mtlsPort_answersAClientCertificateFromItsCa() throws Exception {
    X509Certificate peer = check(mtls.server.port(), withCertificate(caFile, clientCert, clientKey));
    assertThat(peer.getSerialNumber()).isEqualTo(serverCert.serial());
  }

  @Test
  void healthPort_answersProbesInPlaintext_whileTheGrpcPortRequiresClientCertificates() throws Exception {
    assertRefused(mtls.server.port(), InsecureChannelCredentials.create());
    ManagedChannel probe = Grpc.newChannelBuilderForAddress("127.0.0.1", mtls.server.healthPort(),
        InsecureChannelCredentials.create()).build();
    try {
      assertThat(HealthGrpc.newBlockingStub(probe).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(ServingStatus.SERVING);
      assertThat(GRPCInferenceServiceGrpc.newBlockingStub(probe).withDeadlineAfter(10, TimeUnit.SECONDS)
          .serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
    } finally {
      probe.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** {@code serve} with these TLS flags must stop at once, before the database, with one line naming {@code flag}. */
  static void assertStartupError(String flag, String message, String... tlsFlags) {
    Path dataDir = dir.resolve("pg-never");
    List<String> args = new java.util.ArrayList<>(List.of("serve", "--models", repo.toString(), "--grpc-port", "0",
        "--http-port", "-1", "--data-dir", dataDir.toString()));
    args.addAll(List.of(tlsFlags));
    MainTest.Run r = MainTest.run(args.toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip().lines()).as("one line, no stack trace").singleElement(org.assertj.core.api.Assertions.as(
        org.assertj.core.api.InstanceOfAssertFactories.STRING)).startsWith("jointspace: ").contains(flag).contains(message);
    assertThat(dataDir).as("no private cluster was started").doesNotExist();
  }

  @Test
  void startupErrors_areOneLineNamingTheFlag() throws Exception {
    Path missing = dir.resolve("missing.pem");
    String cert = certFile.toString();
    String key = keyFile.toString();
    assertStartupError("--tls-cert", missing + " does not exist", "--tls-cert", missing.toString(), "--tls-key", key);
    assertStartupError("--tls-key", missing + " does not exist", "--tls-cert", cert, "--tls-key", missing.toString());
    assertStartupError("--tls-client-ca", missing + " does not exist",
        "--tls-cert", cert, "--tls-key", key, "--tls-client-ca", missing.toString());
    Path text = Files.writeString(dir.resolve("notes.txt"), "not a certificate\n");
    assertStartupError("--tls-cert", "holds no PEM certificate", "--tls-cert", text.toString(), "--tls-key", key);
    Path broken = Files.writeString(dir.resolve("broken.crt"),
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    assertStartupError("--tls-cert", "is not a readable PEM certificate", "--tls-cert", broken.toString(),
        "--tls-key", key);
    assertStartupError("--tls-key", "holds no PEM private key", "--tls-cert", cert, "--tls-key", cert);
    Path otherKey = dir.resolve("other.key");
    TestPki.server(ca).write(dir.resolve("other.crt"), otherKey);
    assertStartupError("--tls-key", "does not belong to the certificate in --tls-cert " + cert,
        "--tls-cert", cert, "--tls-key", otherKey.toString());
    Path traditional = Files.writeString(dir.resolve("traditional.key"), serverCert.traditionalKeyPem());
    assertStartupError("--tls-key", "PKCS#8", "--tls-cert", cert, "--tls-key", traditional.toString());
    assertStartupError("--tls-cert", "needs --tls-key", "--tls-cert", cert);
    assertStartupError("--tls-key", "needs --tls-cert", "--tls-key", key);
    assertStartupError("--tls-client-ca", "needs --tls-cert", "--tls-client-ca", caFile.toString());
  }

  @Test
  void rotatedCertificateAndKey_areServedToNewConnectionsWithinTheReloadPeriod_withoutARestart() throws Exception {
    Path rotating = Files.createDirectories(dir.resolve("rotating"));
    Path cert = rotating.resolve("server.crt");
    Path key = rotating.resolve("server.key");
    TestPki.server(ca).write(cert, key);
    try (ServerFixture server = ServerFixture.start(ServerConfig.newBuilder().setTls(
        io.jointspace.config.v1.TlsConfig.newBuilder().setCertFile(cert.toString()).setKeyFile(key.toString())), repo)) {
      long started = System.nanoTime();
      int port = server.server.port();
      BigInteger first = check(port, trusting(caFile)).getSerialNumber();
      TestPki.Issued next = TestPki.server(ca);
      next.write(cert, key);
      assertThat(next.serial()).isNotEqualTo(first);
      long deadline = started + ServerTls.RELOAD_PERIOD.plusSeconds(20).toNanos();
      BigInteger seen = first;
      while (!seen.equals(next.serial()) && System.nanoTime() < deadline) {
        Thread.sleep(1000);
        seen = check(port, trusting(caFile)).getSerialNumber();
      }
      assertThat(seen).as("the serial a new connection sees").isEqualTo(next.serial());
    }
  }
}
