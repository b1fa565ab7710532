package io.jointspace.server.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ServerInterceptor;
import io.jointspace.server.auth.Grants;
import io.jointspace.server.auth.Scope;
import io.jointspace.server.errors.PermissionDeniedException;
import javax.annotation.Nullable;

/**
 * Who makes the call being served, as the server's one authentication interceptor put it in
 * the call's context: with authentication on, the grants and id of its API key
 * ({@link AuthInterceptor}); with it off, a mark that no key is checked ({@link #unchecked()}).
 *
 * <p>Fails closed: a call with neither (an interceptor missing, or code running outside a
 * call) sees nothing in lists and passes no {@link #require} check.
 */
public final class Caller {
  static final Context.Key<Grants> KEY = Context.key("jointspace-caller");
  private static final Context.Key<Boolean> UNCHECKED = Context.key("jointspace-no-auth");

  private Caller() {}

  /**
   * For a server with authentication off: marks every call as one whose caller is not checked,
   * so that lists show everything and every name may be used.
   */
  public static ServerInterceptor unchecked() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, io.grpc.Metadata headers,
          io.grpc.ServerCallHandler<Q, R> next) {
        return Contexts.interceptCall(Context.current().withValue(UNCHECKED, Boolean.TRUE), call, headers, next);
      }
    };
  }

  /** The current call's grants; null without authentication or outside a call. */
  @Nullable
  static Grants current() {
    return KEY.get();
  }

  /** Whether the current call runs on a server with authentication off. */
  private static boolean isUnchecked() {
    return Boolean.TRUE.equals(UNCHECKED.get());
  }

  /**
   * Whether a list answer may show the model or collection {@code name} to the caller: when its
   * key holds {@code scope} on that name, or always with authentication off; never to a call
   * that has neither.
   */
  static boolean sees(Scope scope, String name) {
    Grants g = current();
    return g != null ? g.allows(scope, name) : isUnchecked();
  }

  /**
   * Refuses the call unless its key holds {@code scope} on {@code name}: for a model or
   * collection a request names beyond the one its method's scope is checked on (the model a
   * new collection embeds with, the version a rollout moves to). Passes with authentication
   * off; refuses a call that carries neither a key nor that mark.
   *
   * @throws PermissionDeniedException naming the scope and the name
   */
  static void require(Scope scope, String name) {
    Grants g = current();
    if (g != null ? !g.allows(scope, name) : !isUnchecked()) {
      throw new PermissionDeniedException("needs " + scope.text() + " on " + scope.target().noun() + " '" + name + "'");
    }
  }

  /** Who made a change, for the records: the id of the call's key, or null without authentication. */
  @Nullable
  static String keyId() {
    Grants g = current();
    return g == null ? null : g.keyId();
  }
}
