package io.jointspace.server.http;

import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code GET /metrics}: the Prometheus text format. When the server requires API keys the
 * scrape needs one too ({@link HttpPort.MetricsAccess}), as the port may be open to more than this host.
 */
final class MetricsRoute implements HttpApi {
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final Supplier<String> scrape;
  private final HttpPort.MetricsAccess access;

  MetricsRoute(Supplier<String> scrape, HttpPort.MetricsAccess access) {
    this.scrape = scrape;
    this.access = access;
  }

  @Override
  public void register(Routes routes) {
    routes.add("GET", "/metrics", x -> {
      Status allowed = access.check(x.header("Authorization"));
      if (!allowed.isOk()) {
        throw allowed.asRuntimeException();
      }
      x.send(200, CONTENT_TYPE, scrape.get().getBytes(StandardCharsets.UTF_8), Map.of());
    });
  }
}
