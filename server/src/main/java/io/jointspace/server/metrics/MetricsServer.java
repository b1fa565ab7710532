package io.jointspace.server.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Serves {@code GET /metrics} in the Prometheus text format with the JDK's HTTP server; every
 * other path is 404.
 */
public final class MetricsServer implements AutoCloseable {
  private final HttpServer http;
  private final ExecutorService executor;

  private MetricsServer(HttpServer http, ExecutorService executor) {
    this.http = http;
    this.executor = executor;
  }

  /**
   * Binds {@code port} (0: any free port) on {@code address} ("127.0.0.1": loopback only,
   * "0.0.0.0": every interface) and starts serving.
   */
  public static MetricsServer start(String address, int port, PrometheusMeterRegistry registry, Runnable beforeScrape)
      throws IOException {
    HttpServer http = HttpServer.create(new InetSocketAddress(address, port), 0);
    http.createContext("/", exchange -> {
      try (exchange) {
        if (!exchange.getRequestURI().getPath().equals("/metrics")) {
          send(exchange, 404, "text/plain; charset=utf-8", "Not found; try /metrics\n");
          return;
        }
        if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
          exchange.getResponseHeaders().set("Allow", "GET, HEAD");
          send(exchange, 405, "text/plain; charset=utf-8", "Method not allowed\n");
          return;
        }
        beforeScrape.run();
        send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
      }
    });
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "metrics-http");
      t.setDaemon(true);
      return t;
    });
    http.setExecutor(executor);
    http.start();
    return new MetricsServer(http, executor);
  }

  private static void send(HttpExchange exchange, int code, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(code, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  public int port() {
    return http.getAddress().getPort();
  }

  /** The bound address and port. */
  public InetSocketAddress address() {
    return http.getAddress();
  }

  @Override
  public void close() {
    http.stop(0);
    executor.shutdownNow();
  }
}
