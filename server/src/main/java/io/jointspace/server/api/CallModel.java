package io.jointspace.server.api;

import io.grpc.Context;
import io.jointspace.registry.ModelHandle;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelRequest;
import io.jointspace.registry.ServableId;
import javax.annotation.Nullable;

/**
 * The model version a gRPC call was served by, for {@link MetricsInterceptor}'s per-version
 * counts: handlers acquire versions through {@link #acquire}, which notes the version in the
 * call's context. A call that never got a version (an unknown model, a bad request) is
 * counted only by method.
 */
final class CallModel {
  static final Context.Key<CallModel> KEY = Context.key("jointspace-call-model");

  @Nullable private volatile ServableId id;
  private volatile String label = "";

  /** The version noted for the call, if any (the last one, for a stream that used several). */
  @Nullable
  ServableId id() {
    return id;
  }

  /** The label the call named for that version; empty when it named none. */
  String label() {
    return label;
  }

  /** {@code registry.acquire(wanted)}, noting the version it gave (and the label asked for) in the current call. */
  static <M> ModelHandle<M> acquire(ModelManager<M> registry, ModelRequest wanted) {
    ModelHandle<M> handle = registry.acquire(wanted);
    CallModel call = KEY.get();
    if (call != null) {
      call.id = handle.id();
      call.label = wanted.label() == null ? "" : wanted.label();
    }
    return handle;
  }
}
