package io.jointspace.server.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.net.SocketAddress;
import javax.annotation.Nullable;

/**
 * The network address of the client of the call being served, for records of who changed
 * what (label history). {@link #interceptor()} puts it in each call's context.
 */
public final class PeerAddress {
  private static final Context.Key<SocketAddress> KEY = Context.key("jointspace-peer-address");
  /**
   * The HTTP port's client, as "ADDRESS:PORT": its calls reach the services in-process, so the
   * transport's peer is the server itself. Trusted only on in-process calls (http.Gateway sets it).
   */
  static final Metadata.Key<String> HTTP_PEER = Metadata.Key.of("jointspace-http-peer",
      Metadata.ASCII_STRING_MARSHALLER);

  private PeerAddress() {}

  /** The current call's client address; null outside a call or when the transport has none. */
  @Nullable
  static SocketAddress current() {
    return KEY.get();
  }

  /** "ADDRESS:PORT" (an IPv6 address in brackets) as a socket address; {@code otherwise} when it is not one. */
  private static SocketAddress httpPeer(String text, SocketAddress otherwise) {
    int colon = text.lastIndexOf(':');
    try {
      String host = text.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      if (host.matches("\\d{1,3}(\\.\\d{1,3}){3}") || host.matches("[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
        // a literal address: InetAddress parses it without a name lookup
        return new java.net.InetSocketAddress(java.net.InetAddress.getByName(host),
            Integer.parseInt(text.substring(colon + 1)));
      }
    } catch (RuntimeException | java.net.UnknownHostException e) {
      // not an address: keep the transport's
    }
    return otherwise;
  }

  public static ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        SocketAddress peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        String http = headers.get(HTTP_PEER);
        if (peer instanceof io.grpc.inprocess.InProcessSocketAddress && http != null) {
          peer = httpPeer(http, peer);
        }
        return Contexts.interceptCall(Context.current().withValue(KEY, peer), call, headers, next);
      }
    };
  }
}
