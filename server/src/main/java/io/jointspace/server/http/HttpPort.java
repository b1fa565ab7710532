package io.jointspace.server.http;

import io.grpc.Channel;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import javax.annotation.Nullable;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/JSON port: Jetty (core handlers, HTTP/1.1) in front of the gRPC services. Every
 * route makes its work a call on {@code channel}, an in-process channel to the same services
 * with the same interceptors as the gRPC port, so API keys, scopes, metrics, deadlines and
 * error mapping are the gRPC port's; this layer only translates JSON and statuses
 * ({@link ErrorBody}). The APIs, one class each ({@link HttpApi}), are listed in
 * {@link #routes}.
 *
 * <p>With TLS, {@code ssl} is built from the gRPC port's key and trust managers, so a
 * certificate rotated on disk applies here too; {@code needClientAuth} requires client
 * certificates as the gRPC port does.
 *
 * <p>Owned by the server: {@link #start} after the in-process server is up, {@link #close}
 * before it stops.
 */
public final class HttpPort implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HttpPort.class);
  /** The deadline of a request without a {@code grpc-timeout} header. */
  public static final long DEFAULT_DEADLINE_SECONDS = 60;

  /**
   * @param address the host or IP address to listen on
   * @param port the port; 0 for any free one
   * @param maxBodyBytes largest request body (the gRPC port's max_inbound_message_bytes)
   * @param defaultDeadline the deadline of a call whose request has no {@code grpc-timeout}
   *     header
   * @param threads the most requests handled at once; more wait for a thread
   */
  public record Options(String address, int port, long maxBodyBytes, Duration defaultDeadline, int threads) {
    /** A browser or script that sends no timeout still gets an answer. */
    public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(DEFAULT_DEADLINE_SECONDS);
  }

  /** Whether a scrape of {@code /metrics} with this {@code Authorization} header may read it. */
  @FunctionalInterface
  public interface MetricsAccess {
    /** OK, or the status to refuse with (UNAUTHENTICATED, PERMISSION_DENIED, UNAVAILABLE). */
    Status check(@Nullable String authorization);

    MetricsAccess OPEN = authorization -> Status.OK;
  }

  private final Server jetty;
  private final ServerConnector connector;

  private HttpPort(Server jetty, ServerConnector connector) {
    this.jetty = jetty;
    this.connector = connector;
  }

  /**
   * Binds and starts serving.
   *
   * @param services the gRPC services the server registered (their method descriptors name
   *     the JSON routes of jointspace.v1)
   * @param scrape the Prometheus text of the server's meters, fresh per call
   * @throws java.net.BindException when the port is taken
   */
  public static HttpPort start(Options options, Channel channel, List<ServerServiceDefinition> services,
      Supplier<String> scrape, MetricsAccess metricsAccess, @Nullable SSLContext ssl, boolean needClientAuth)
      throws IOException {
    Gateway gateway = new Gateway(channel, options.defaultDeadline());
    Routes routes = routes(gateway, services, scrape, metricsAccess);
    QueuedThreadPool threads = new QueuedThreadPool(Math.max(8, options.threads()), 2);
    threads.setName("http");
    threads.setDaemon(true);
    Server jetty = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendDateHeader(false);
    ServerConnector connector;
    if (ssl == null) {
      connector = new ServerConnector(jetty, new HttpConnectionFactory(http));
    } else {
      SslContextFactory.Server tls = new SslContextFactory.Server();
      tls.setSslContext(ssl);
      tls.setNeedClientAuth(needClientAuth);
      tls.setIncludeProtocols("TLSv1.3", "TLSv1.2");
      connector = new ServerConnector(jetty, new SslConnectionFactory(tls, "http/1.1"), new HttpConnectionFactory(http));
    }
    connector.setHost(options.address());
    connector.setPort(options.port());
    connector.setReuseAddress(true);
    jetty.addConnector(connector);
    jetty.setHandler(new Root(routes, options.maxBodyBytes()));
    jetty.setErrorHandler(new JsonErrors());
    try {
      jetty.start();
    } catch (IOException e) {
      stopQuietly(jetty);
      throw e;
    } catch (Exception e) {
      stopQuietly(jetty);
      throw new IOException("cannot start the HTTP port " + options.port() + ": " + e.getMessage(), e);
    }
    return new HttpPort(jetty, connector);
  }

  /**
   * The route table: one {@link HttpApi} per API; their paths do not overlap
   * ({@code /v2}, {@code /v1/models}, {@code /v1/jointspace}, {@code /metrics}).
   */
  private static Routes routes(Gateway gateway, List<ServerServiceDefinition> services, Supplier<String> scrape,
      MetricsAccess metricsAccess) {
    Routes routes = new Routes();
    List<HttpApi> apis = List.of(
        new KServeRest(gateway),
        new TfServingRest(gateway),
        new JointspaceJson(gateway, services),
        new MetricsRoute(scrape, metricsAccess));
    apis.forEach(api -> api.register(routes));
    return routes;
  }

  private static void stopQuietly(Server jetty) {
    try {
      jetty.stop();
    } catch (Exception ignored) {
      // failed to start: nothing to keep
    }
  }

  /** The bound port (useful when configured as 0). */
  public int port() {
    return connector.getLocalPort();
  }

  public InetSocketAddress address() {
    return new InetSocketAddress(connector.getHost(), port());
  }

  /** Stops accepting, lets requests in flight finish for a few seconds, then closes. */
  @Override
  public void close() {
    try {
      jetty.setStopTimeout(5000);
      jetty.stop();
    } catch (Exception e) {
      log.warn("Stopping the HTTP port: {}", e.toString());
    }
  }

  /** Finds the route, runs it, and answers its failure as JSON. */
  private static final class Root extends Handler.Abstract {
    private final Routes routes;
    private final long maxBodyBytes;

    Root(Routes routes, long maxBodyBytes) {
      super(InvocationType.BLOCKING);
      this.routes = routes;
      this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      String path = Request.getPathInContext(request);
      Routes.Match match = routes.find(request.getMethod(), path);
      Exchange x = new Exchange(request, response, callback, maxBodyBytes, match.params());
      try {
        if (match.handler() != null) {
          match.handler().handle(x);
        } else if (!match.allowed().isEmpty()) {
          String allow = String.join(", ", match.allowed());
          fail(x, 405, ErrorBody.of("UNIMPLEMENTED", request.getMethod() + " is not allowed on " + path + "; use "
              + allow), Map.of("Allow", allow));
        } else {
          fail(x, 404, ErrorBody.of("NOT_FOUND", "no route " + path + " (see docs/http.md: /v1/models/..., /v2/..., "
              + JointspaceJson.PREFIX + "/{Service}/{Method}, /metrics)"), Map.of());
        }
      } catch (HttpError e) {
        fail(x, e.status(), ErrorBody.of(e.code(), e.getMessage()), Map.of());
      } catch (StatusRuntimeException e) {
        fail(x, ErrorBody.httpStatus(e.getStatus().getCode()), ErrorBody.of(e.getStatus()), Map.of());
      } catch (Exception | StackOverflowError e) {
        String id = UUID.randomUUID().toString();
        log.error("HTTP {} {} failed [{}]", request.getMethod(), path, id, e);
        fail(x, 500, ErrorBody.of("INTERNAL", "internal error; the server log has it as " + id), Map.of());
      }
      return true;
    }

    private static void fail(Exchange x, int status, com.google.gson.JsonObject body, Map<String, String> headers) {
      if (x.answered()) {
        return; // the answer is on its way; its failure is the connection's
      }
      x.send(status, Exchange.JSON, Exchange.GSON.toJson(body).getBytes(StandardCharsets.UTF_8), headers);
    }
  }

  /** Jetty's own refusals (a malformed request line, headers too large) as the same JSON. */
  private static final class JsonErrors extends ErrorHandler {
    JsonErrors() {
      setShowStacks(false);
      setShowCauses(false);
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
        Callback callback) {
      String text = message == null || message.isBlank() ? org.eclipse.jetty.http.HttpStatus.getMessage(code) : message;
      byte[] body = Exchange.GSON.toJson(ErrorBody.of(code == 404 ? "NOT_FOUND" : code >= 500 ? "INTERNAL"
          : "INVALID_ARGUMENT", text)).getBytes(StandardCharsets.UTF_8);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, Exchange.JSON);
      response.write(true, ByteBuffer.wrap(body), callback);
    }
  }
}
