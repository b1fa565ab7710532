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

  private PeerAddress() {}

  /** The current call's client address; null outside a call or when the transport has none. */
  @Nullable
  static SocketAddress current() {
    return KEY.get();
  }

  public static ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        SocketAddress peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        return Contexts.interceptCall(Context.current().withValue(KEY, peer), call, headers, next);
      }
    };
  }
}
