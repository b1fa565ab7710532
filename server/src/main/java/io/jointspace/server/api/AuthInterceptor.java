package io.jointspace.server.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.jointspace.server.auth.Grants;
import io.jointspace.server.auth.KeyVerifier;
import io.jointspace.server.auth.Verdict;
import io.jointspace.server.store.StoreUnavailableException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.Optional;
import javax.annotation.Nullable;

/**
 * API keys on every call of the server (installed only when authentication is on). A call
 * sends its key as {@code authorization: Bearer <key>}; the method's {@link MethodScopes}
 * rule says what the key must hold. A call without a valid key ends UNAUTHENTICATED, one whose
 * key lacks the scope PERMISSION_DENIED naming the scope (never the key); each refusal counts
 * in {@code jointspace_auth_refusals_total{reason}}. The caller's grants go into the call's
 * context ({@link Caller}) for list answers and records of who changed what.
 *
 * <p>Where a limited scope ("collections:read=products") needs the name a request carries,
 * the method's handler is started only once the first request message has passed the check,
 * and each later message of a stream that names a model or collection is checked again; a
 * stream whose later message is refused is ended, and its handler sees a cancellation.
 */
public final class AuthInterceptor implements ServerInterceptor {
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  /** The refusals counter, by {@code reason}: missing, invalid, expired, revoked, scope, unavailable, unmapped. */
  public static final String REFUSALS = "jointspace.auth.refusals";

  private final KeyVerifier verifier;
  private final MeterRegistry meters;

  public AuthInterceptor(KeyVerifier verifier, MeterRegistry meters) {
    this.verifier = verifier;
    this.meters = meters;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    Optional<MethodScopes.Rule> found = MethodScopes.of(method);
    if (found.isEmpty()) {
      return refuse(call, Status.PERMISSION_DENIED.withDescription(method + " has no scope on this server"), "unmapped");
    }
    MethodScopes.Rule rule = found.get();
    if (rule instanceof MethodScopes.Open) {
      return next.startCall(call, headers);
    }
    Verdict verdict;
    try {
      verdict = verifier.verify(bearer(headers));
    } catch (StoreUnavailableException e) {
      return refuse(call, Status.UNAVAILABLE.withDescription("cannot check the API key: the database is unavailable"),
          "unavailable");
    }
    if (verdict instanceof Verdict.Refused refused) {
      return refuse(call, Status.UNAUTHENTICATED.withDescription(refused.reason().message()), refused.reason().tag());
    }
    Grants grants = ((Verdict.Accepted) verdict).grants();
    Context context = Context.current().withValue(Caller.KEY, grants);
    if (rule instanceof MethodScopes.Scoped scoped) {
      if (scoped.name() == null) {
        if (!grants.allows(scoped.scope(), null)) {
          return refuse(call, denied(scoped, null), "scope");
        }
      } else {
        return Contexts.interceptCall(context, call, headers, (c, h) -> new Checked<>(c, h, next, scoped, grants));
      }
    }
    return Contexts.interceptCall(context, call, headers, next);
  }

  /** What followed "Bearer " in the authorization metadata; the whole value when it is not a bearer token. */
  @Nullable
  private static String bearer(Metadata headers) {
    String value = headers.get(AUTHORIZATION);
    if (value == null) {
      return null;
    }
    String v = value.strip();
    return v.toLowerCase(Locale.ROOT).startsWith("bearer ") ? v.substring(7).strip() : v;
  }

  private static Status denied(MethodScopes.Scoped rule, @Nullable String name) {
    String noun = rule.scope().target().noun();
    if (name == null) {
      return Status.PERMISSION_DENIED.withDescription("needs " + rule.scope().text());
    }
    if (name.isEmpty()) {
      return Status.PERMISSION_DENIED.withDescription("needs " + rule.scope().text() + " on every " + noun
          + " (the request names no " + noun + ")");
    }
    return Status.PERMISSION_DENIED.withDescription("needs " + rule.scope().text() + " on " + noun + " '" + name + "'");
  }

  private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status, String reason) {
    count(reason);
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }

  private void count(String reason) {
    Counter.builder(REFUSALS)
        .description("Calls refused for their API key, by reason")
        .tag("reason", reason)
        .register(meters)
        .increment();
  }

  /**
   * Holds the method's handler back until the first request message is checked, then checks
   * each later message that names a model or collection.
   */
  private final class Checked<Q, R> extends ServerCall.Listener<Q> {
    private final Guarded<Q, R> call;
    private final Metadata headers;
    private final ServerCallHandler<Q, R> next;
    private final MethodScopes.Scoped rule;
    private final Grants grants;
    @Nullable private ServerCall.Listener<Q> delegate;
    private boolean refused;

    Checked(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next, MethodScopes.Scoped rule,
        Grants grants) {
      this.call = new Guarded<>(call);
      this.headers = headers;
      this.next = next;
      this.rule = rule;
      this.grants = grants;
      call.request(1); // the first message, to check before the handler starts
    }

    /** Null when the message may pass, else the refusal. */
    @Nullable
    private Status check(@Nullable String name) {
      if (name == null && rule.unnamedLists()) {
        return grants.allows(rule.scope(), null) ? null : denied(rule, null);
      }
      String n = name == null ? "" : name;
      return grants.allows(rule.scope(), n) ? null : denied(rule, n);
    }

    private void refuse(Status status) {
      refused = true;
      count("scope");
      call.closeByInterceptor(status);
      if (delegate != null) {
        delegate.onCancel();
      }
    }

    private boolean start(@Nullable String name) {
      Status no = check(name);
      if (no != null) {
        refuse(no);
        return false;
      }
      delegate = next.startCall(call, headers);
      if (call.isReady()) {
        delegate.onReady();
      }
      return true;
    }

    @Override
    public void onMessage(Q message) {
      if (refused) {
        return;
      }
      String name = rule.name().apply(message);
      if (delegate == null) {
        if (!start(name)) {
          return;
        }
      } else if (name != null) {
        Status no = check(name);
        if (no != null) {
          refuse(no);
          return;
        }
      }
      delegate.onMessage(message);
    }

    @Override
    public void onHalfClose() {
      if (refused) {
        return;
      }
      if (delegate == null && !start(null)) { // a stream without messages
        return;
      }
      delegate.onHalfClose();
    }

    @Override
    public void onCancel() {
      if (delegate != null && !refused) {
        delegate.onCancel();
      }
    }

    @Override
    public void onComplete() {
      if (delegate != null && !refused) {
        delegate.onComplete();
      }
    }

    @Override
    public void onReady() {
      if (delegate != null && !refused) {
        delegate.onReady();
      }
    }
  }

  /** A call that the interceptor may close, after which what the handler sends is dropped. */
  private static final class Guarded<Q, R> extends SimpleForwardingServerCall<Q, R> {
    private volatile boolean closed;

    Guarded(ServerCall<Q, R> call) {
      super(call);
    }

    synchronized void closeByInterceptor(Status status) {
      if (!closed) {
        closed = true;
        super.close(status, new Metadata());
      }
    }

    @Override
    public synchronized void sendHeaders(Metadata headers) {
      if (!closed) {
        super.sendHeaders(headers);
      }
    }

    @Override
    public synchronized void sendMessage(R message) {
      if (!closed) {
        super.sendMessage(message);
      }
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      if (!closed) {
        closed = true;
        super.close(status, trailers);
      }
    }

    @Override
    public boolean isReady() {
      return !closed && super.isReady();
    }
  }
}
