package io.jointspace.server;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.DoublePredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a server's Prometheus endpoint, for tests that watch a gauge come back down. */
public final class Scrape {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final Pattern VALUE = Pattern.compile("\\s(\\S+)$");

  private Scrape() {}

  /** The text of {@code /metrics} on {@code port} of loopback. */
  public static String metrics(int port) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  /** The sum of every sample named {@code name} whose labels include each {@code label="value"} given; 0 for none. */
  public static double sum(String text, String name, String... labels) {
    double sum = 0;
    for (String line : text.lines().toList()) {
      if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) {
        continue;
      }
      boolean all = true;
      for (String label : labels) {
        all &= line.contains(label);
      }
      if (all) {
        Matcher m = VALUE.matcher(line);
        if (m.find()) {
          sum += Double.parseDouble(m.group(1));
        }
      }
    }
    return sum;
  }

  /** Calls in flight of {@code method} (its full name) by {@code jointspace_grpc_calls_in_flight}. */
  public static double callsInFlight(String text, String method) {
    return sum(text, "jointspace_grpc_calls_in_flight", "method=\"" + method + "\"");
  }

  /** Connections the server's pool has lent out now ({@code hikaricp_connections_active}); fails when not reported. */
  public static double activeConnections(String text) {
    if (text.lines().noneMatch(l -> l.startsWith("hikaricp_connections_active{") && l.contains("pool=\"jointspace-db\""))) {
      throw new AssertionError("no hikaricp_connections_active{pool=\"jointspace-db\"} in the metrics");
    }
    return sum(text, "hikaricp_connections_active", "pool=\"jointspace-db\"");
  }

  /**
   * Scrapes {@code port} until {@code value} of the text satisfies {@code wanted}, for up to
   * {@code seconds}; the last value read.
   */
  public static double await(int port, java.util.function.ToDoubleFunction<String> value, DoublePredicate wanted,
      long seconds) throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    double last;
    while (true) {
      last = value.applyAsDouble(metrics(port));
      if (wanted.test(last) || System.nanoTime() > until) {
        return last;
      }
      Thread.sleep(100);
    }
  }
}
