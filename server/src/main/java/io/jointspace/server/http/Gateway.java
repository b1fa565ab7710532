package io.jointspace.server.http;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;

/**
 * Makes an HTTP request's gRPC call on the server's in-process channel, which reaches the
 * same services through the same interceptors as the gRPC port (API keys and scopes,
 * metrics, ParseGuard). The request's {@code Authorization} header goes along as the
 * {@code authorization} metadata; its deadline is the {@code grpc-timeout} header when it has
 * one (gRPC's form: a number and a unit, H M S m u n, such as {@code 30S} or {@code 500m}),
 * else {@link HttpPort.Options#defaultDeadline()}.
 *
 * <p>A failed call throws {@link io.grpc.StatusRuntimeException}, rendered by
 * {@link ErrorBody}.
 */
final class Gateway {
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final String TIMEOUT_HEADER = "grpc-timeout";
  /**
   * The HTTP client's address, for records of who changed what; read by the server's peer
   * interceptor only from in-process calls (api.PeerAddress.HTTP_PEER), so a network client
   * cannot set it.
   */
  static final Metadata.Key<String> HTTP_PEER = Metadata.Key.of("jointspace-http-peer",
      Metadata.ASCII_STRING_MARSHALLER);

  private final Channel channel;
  private final Duration defaultDeadline;

  Gateway(Channel channel, Duration defaultDeadline) {
    this.channel = channel;
    this.defaultDeadline = defaultDeadline;
  }

  /** Calls {@code method} with {@code request} as the HTTP request {@code exchange} asks. */
  <Q, R> R unary(Exchange exchange, MethodDescriptor<Q, R> method, Q request) {
    Metadata headers = new Metadata();
    headers.put(HTTP_PEER, exchange.peer());
    String authorization = exchange.header("Authorization");
    if (authorization != null) {
      headers.put(AUTHORIZATION, authorization);
    }
    long nanos = deadlineNanos(exchange.header(TIMEOUT_HEADER));
    Channel withHeaders = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
    return ClientCalls.blockingUnaryCall(withHeaders, method,
        CallOptions.DEFAULT.withDeadlineAfter(nanos, TimeUnit.NANOSECONDS), request);
  }

  private long deadlineNanos(@Nullable String header) {
    if (header == null || header.isBlank()) {
      return defaultDeadline.toNanos();
    }
    String h = header.strip();
    try {
      long value = Long.parseLong(h.substring(0, h.length() - 1));
      if (value <= 0 || h.length() > 9) {
        throw new NumberFormatException();
      }
      TimeUnit unit = switch (h.charAt(h.length() - 1)) {
        case 'H' -> TimeUnit.HOURS;
        case 'M' -> TimeUnit.MINUTES;
        case 'S' -> TimeUnit.SECONDS;
        case 'm' -> TimeUnit.MILLISECONDS;
        case 'u' -> TimeUnit.MICROSECONDS;
        case 'n' -> TimeUnit.NANOSECONDS;
        default -> throw new NumberFormatException();
      };
      return unit.toNanos(value);
    } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
      throw HttpError.badRequest(TIMEOUT_HEADER + " '" + header + "' is not a timeout: give 1 to 8 digits and a unit,"
          + " H (hours), M (minutes), S (seconds), m (milliseconds), u (microseconds) or n (nanoseconds), such as"
          + " 30S");
    }
  }
}
