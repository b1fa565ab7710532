package io.jointspace.server.api;

import io.grpc.Context;
import io.jointspace.server.auth.Grants;
import io.jointspace.server.auth.Scope;
import io.jointspace.server.errors.PermissionDeniedException;
import javax.annotation.Nullable;

/**
 * The API key of the call being served, as {@link AuthInterceptor} put it in the call's
 * context: what it may do and its id. Absent when the server runs without authentication.
 */
public final class Caller {
  static final Context.Key<Grants> KEY = Context.key("jointspace-caller");

  private Caller() {}

  /** The current call's grants; null without authentication or outside a call. */
  @Nullable
  static Grants current() {
    return KEY.get();
  }

  /**
   * Whether a list answer may show the model or collection {@code name} to the caller: always
   * without authentication; else when its key holds {@code scope} on that name.
   */
  static boolean sees(Scope scope, String name) {
    Grants g = current();
    return g == null || g.allows(scope, name);
  }

  /**
   * Refuses the call unless its key holds {@code scope} on {@code name}: for a model or
   * collection a request names beyond the one its method's scope is checked on (the model a
   * new collection embeds with, the version a rollout moves to). Passes without authentication.
   *
   * @throws PermissionDeniedException naming the scope and the name
   */
  static void require(Scope scope, String name) {
    Grants g = current();
    if (g != null && !g.allows(scope, name)) {
      throw new PermissionDeniedException("needs " + scope.text() + " on " + scope.target().noun() + " '" + name + "'");
    }
  }

  /** Who made a change, for the records: "key:&lt;id&gt;", or null without authentication. */
  @Nullable
  static String keyId() {
    Grants g = current();
    return g == null ? null : g.keyId();
  }
}
