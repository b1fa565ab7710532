package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jointspace.config.v1.ServerConfig;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics endpoint listens on loopback unless {@code metrics_address} opens it wider. Where
 * this host has an address other than loopback, the test connects to it (the traffic stays
 * on this host); where it has none, the bound address shows the same.
 */
class MetricsAddressTest {
  @TempDir Path dir;

  /** An IPv4 address of this host's own that is not loopback (nor link-local), if it has one. */
  static Optional<InetAddress> ownNonLoopbackAddress() throws SocketException {
    return NetworkInterface.networkInterfaces()
        .filter(i -> {
          try {
            return i.isUp() && !i.isLoopback();
          } catch (SocketException e) {
            return false;
          }
        })
        .flatMap(NetworkInterface::inetAddresses)
        .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress())
        .findFirst();
  }

  static int get(String host, int port) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/metrics"))
        .GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void byDefault_metricsListenOnLoopbackOnly() throws Exception {
    try (ServerFixture f = ServerFixture.start(ServerConfig.newBuilder().setMetricsPort(ServerFixture.freePort()),
        Files.createDirectories(dir.resolve("models")))) {
      InetSocketAddress bound = f.server.metricsAddress();
      assertThat(bound.getAddress().isLoopbackAddress()).as("bound to %s", bound).isTrue();
      assertThat(get("127.0.0.1", bound.getPort())).isEqualTo(200);
      Optional<InetAddress> own = ownNonLoopbackAddress();
      if (own.isPresent()) {
        assertThatThrownBy(() -> {
          try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(own.get(), bound.getPort()), 2000);
          }
        }).as("connecting to %s:%d", own.get().getHostAddress(), bound.getPort()).isInstanceOf(ConnectException.class);
      }
    }
  }

  @Test
  void metricsAddress_everyInterface_opensItWider() throws Exception {
    try (ServerFixture f = ServerFixture.start(ServerConfig.newBuilder().setMetricsPort(ServerFixture.freePort())
        .setMetricsAddress("0.0.0.0"), Files.createDirectories(dir.resolve("models")))) {
      InetSocketAddress bound = f.server.metricsAddress();
      assertThat(bound.getAddress().isAnyLocalAddress()).as("bound to %s", bound).isTrue();
      assertThat(get("127.0.0.1", bound.getPort())).isEqualTo(200);
      Optional<InetAddress> own = ownNonLoopbackAddress();
      if (own.isPresent()) {
        assertThat(get(own.get().getHostAddress(), bound.getPort())).isEqualTo(200);
      }
    }
  }
}
