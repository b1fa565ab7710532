package io.jointspace.server.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.jointspace.server.auth.Grants;
import io.jointspace.server.auth.KeyVerifier;
import io.jointspace.server.auth.Scope;
import io.jointspace.server.auth.Verdict;
import io.jointspace.server.store.StoreUnavailableException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
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
 *
 * <p>A streaming call is not trusted for its whole life on the check made when it started:
 * when its key is revoked (here, or on another server: the verifier's change notice) or
 * expires, the call is ended UNAUTHENTICATED, idle or not, and its handler sees a cancellation.
 *
 * <p>{@link #close()} with the server.
 */
public final class AuthInterceptor implements ServerInterceptor, AutoCloseable {
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  /** The refusals counter, by {@code reason}: missing, invalid, expired, revoked, scope, unavailable, unmapped. */
  public static final String REFUSALS = "jointspace.auth.refusals";

  private final KeyVerifier verifier;
  private final MeterRegistry meters;
  /** One counter per reason, registered once: a flood of made-up keys must not build meters. */
  private final java.util.concurrent.ConcurrentMap<String, Counter> refusals = new java.util.concurrent.ConcurrentHashMap<>();
  private final KeyedStreams streams;

  public AuthInterceptor(KeyVerifier verifier, MeterRegistry meters, Clock clock) {
    this.verifier = verifier;
    this.meters = meters;
    this.streams = new KeyedStreams(clock);
    verifier.onChange(streams::recheckAll);
  }

  @Override
  public void close() {
    streams.close();
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
    String key = bearer(headers);
    Verdict verdict;
    try {
      verdict = verifier.verify(key);
    } catch (StoreUnavailableException e) {
      return refuse(call, UNAVAILABLE.status(), UNAVAILABLE.reason());
    }
    if (verdict instanceof Verdict.Refused refused) {
      Refusal r = Refusal.of(refused);
      return refuse(call, r.status(), r.reason());
    }
    Verdict.Accepted accepted = (Verdict.Accepted) verdict;
    Grants grants = accepted.grants();
    Context context = Context.current().withValue(Caller.KEY, grants);
    boolean streaming = call.getMethodDescriptor().getType() != MethodDescriptor.MethodType.UNARY;
    MethodScopes.Scoped named = null;
    if (rule instanceof MethodScopes.Scoped scoped) {
      if (scoped.name() == null) {
        if (!grants.allows(scoped.scope(), null)) {
          return refuse(call, denied(scoped, null), "scope");
        }
      } else {
        named = scoped;
      }
    }
    if (named == null && !streaming) {
      return Contexts.interceptCall(context, call, headers, next);
    }
    MethodScopes.Scoped checkNames = named;
    return Contexts.interceptCall(context, call, headers,
        (c, h) -> new Checked<>(c, h, next, checkNames, grants, streaming ? key : null, accepted.expiresAt()));
  }

  /** Why a key is refused: the call's status and the refusals counter's reason. */
  private record Refusal(Status status, String reason) {
    static Refusal of(Verdict.Refused refused) {
      return new Refusal(Status.UNAUTHENTICATED.withDescription(refused.reason().message()), refused.reason().tag());
    }
  }

  private static final Refusal UNAVAILABLE = new Refusal(
      Status.UNAVAILABLE.withDescription("cannot check the API key: the database is unavailable"), "unavailable");

  /** Null while {@code key} is valid, else why it no longer is. */
  @Nullable
  private Refusal recheck(@Nullable String key) {
    try {
      return verifier.verify(key) instanceof Verdict.Refused refused ? Refusal.of(refused) : null;
    } catch (StoreUnavailableException e) {
      return UNAVAILABLE;
    }
  }

  /**
   * What followed "Bearer " in the authorization metadata; the whole value when it is not a
   * bearer token; null when there is none, or nothing after "Bearer" (a key that is missing,
   * as a client sending an empty variable does).
   */
  @Nullable
  private static String bearer(Metadata headers) {
    String value = headers.get(AUTHORIZATION);
    if (value == null) {
      return null;
    }
    String v = value.strip();
    if (v.equalsIgnoreCase("bearer")) {
      return null;
    }
    return v.toLowerCase(Locale.ROOT).startsWith("bearer ") ? v.substring(7).strip() : v;
  }

  /**
   * The check of a request that is no gRPC call (the HTTP port's {@code /metrics}): OK when
   * the key in {@code authorization} ("Bearer KEY") holds {@code scope} on everything, else the
   * status a call would end with; refusals count as a call's do.
   */
  public Status check(@Nullable String authorization, Scope scope) {
    Metadata headers = new Metadata();
    if (authorization != null) {
      headers.put(AUTHORIZATION, authorization);
    }
    Verdict verdict;
    try {
      verdict = verifier.verify(bearer(headers));
    } catch (StoreUnavailableException e) {
      count(UNAVAILABLE.reason());
      return UNAVAILABLE.status();
    }
    if (verdict instanceof Verdict.Refused refused) {
      Refusal r = Refusal.of(refused);
      count(r.reason());
      return r.status();
    }
    if (!((Verdict.Accepted) verdict).grants().allows(scope, null)) {
      count("scope");
      return denied(new MethodScopes.Scoped(scope, null, false), null);
    }
    return Status.OK;
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
    refusals.computeIfAbsent(reason, r -> Counter.builder(REFUSALS)
        .description("Calls refused for their API key, by reason")
        .tag("reason", r)
        .register(meters)).increment();
  }

  /**
   * A call checked after it started. Where the rule names a model or collection, holds the
   * method's handler back until the first request message is checked, then checks each later
   * message that names one. A streaming call, while it is open, lets {@link KeyedStreams} end
   * it when its key stops being valid.
   *
   * <p>grpc calls the listener methods one at a time; {@link #recheck()} comes from other
   * threads, so it only closes the call: the handler's cancellation is then delivered from
   * {@link #onComplete()} or {@link #onCancel()}, which grpc calls once the call is closed.
   */
  private final class Checked<Q, R> extends ServerCall.Listener<Q> implements KeyedStreams.Stream {
    private final Guarded<Q, R> call;
    private final Metadata headers;
    private final ServerCallHandler<Q, R> next;
    @Nullable private final MethodScopes.Scoped rule;
    private final Grants grants;
    /** The key, verified again when the keys change; null for a unary call (checked as it started). */
    @Nullable private final String key;
    @Nullable private final KeyedStreams.Registration registration;
    @Nullable private ServerCall.Listener<Q> delegate;
    /** The handler was told of the cancellation (or never started): it hears nothing more. */
    private boolean ended;

    /**
     * @param rule the named rule to check each message against; null: only the key
     * @param key the key to verify again when the keys change or it expires; null: never
     */
    Checked(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next, @Nullable MethodScopes.Scoped rule,
        Grants grants, @Nullable String key, @Nullable java.time.Instant expiresAt) {
      this.call = new Guarded<>(call);
      this.headers = headers;
      this.next = next;
      this.rule = rule;
      this.grants = grants;
      this.key = key;
      if (rule != null) {
        call.request(1); // the first message, to check before the handler starts
      } else {
        delegate = next.startCall(this.call, headers);
      }
      this.registration = key == null ? null : streams.open(this, expiresAt);
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

    /** Ends the call from a listener method: closes it and tells the handler now. */
    private void refuse(Status status, String reason) {
      count(reason);
      call.closeByInterceptor(status);
      end();
    }

    private void end() {
      if (!ended) {
        ended = true;
        if (registration != null) {
          registration.close();
        }
        if (delegate != null) {
          delegate.onCancel();
        }
      }
    }

    private boolean start(@Nullable String name) {
      Status no = check(name);
      if (no != null) {
        refuse(no, "scope");
        return false;
      }
      delegate = next.startCall(call, headers);
      if (call.isReady()) {
        delegate.onReady();
      }
      return true;
    }

    /** From any thread: ends the call if its key is no longer valid. */
    @Override
    public void recheck() {
      if (call.isClosed()) {
        return;
      }
      Refusal no = AuthInterceptor.this.recheck(key);
      if (no != null && call.closeByInterceptor(no.status())) {
        count(no.reason());
      }
    }

    @Override
    public void onMessage(Q message) {
      if (ended || call.interrupted()) {
        return;
      }
      // the key itself is not checked again per message: KeyedStreams ends the call when it is
      // revoked (recheckAll on every change of the keys) or expires (a timer)
      if (rule != null) {
        String name = rule.name().apply(message);
        if (delegate == null) {
          if (!start(name)) {
            return;
          }
        } else if (name != null) {
          Status no = check(name);
          if (no != null) {
            refuse(no, "scope");
            return;
          }
        }
      }
      delegate.onMessage(message);
    }

    @Override
    public void onHalfClose() {
      if (ended || call.interrupted()) {
        return;
      }
      if (delegate == null && !start(null)) { // a stream without messages
        return;
      }
      delegate.onHalfClose();
    }

    @Override
    public void onCancel() {
      end();
    }

    @Override
    public void onComplete() {
      if (call.interrupted()) {
        end(); // closed by recheck(): the handler's call did not complete
        return;
      }
      if (registration != null) {
        registration.close();
      }
      if (delegate != null && !ended) {
        ended = true;
        delegate.onComplete();
      }
    }

    @Override
    public void onReady() {
      if (delegate != null && !ended && !call.interrupted()) {
        delegate.onReady();
      }
    }
  }

  /**
   * A call that the interceptor may close, from any thread, after which what the handler sends
   * is dropped. Its methods that the handler and the interceptor may call at once are
   * serialized.
   */
  private static final class Guarded<Q, R> extends SimpleForwardingServerCall<Q, R> {
    private volatile boolean closed;
    private volatile boolean interrupted;

    Guarded(ServerCall<Q, R> call) {
      super(call);
    }

    /** Closes the call unless it is closed already; true when this closed it. */
    synchronized boolean closeByInterceptor(Status status) {
      if (closed) {
        return false;
      }
      closed = true;
      interrupted = true;
      super.close(status, new Metadata());
      return true;
    }

    /** Whether the interceptor closed the call (the handler's work was cut short). */
    boolean interrupted() {
      return interrupted;
    }

    boolean isClosed() {
      return closed;
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
    public synchronized void request(int numMessages) {
      if (!closed) {
        super.request(numMessages);
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

    @Override
    public boolean isCancelled() {
      return interrupted || super.isCancelled();
    }
  }
}
