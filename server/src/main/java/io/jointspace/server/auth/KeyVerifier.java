package io.jointspace.server.auth;

import io.jointspace.server.store.KeyStore;
import io.jointspace.server.store.StoreUnavailableException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks the key a call sends against every stored key, held in memory: the table is small,
 * and a check never queries the database, so a flood of made-up keys costs a hash and a map
 * lookup each and cannot reach the connection pool. The rows are read again whole on every
 * {@code NOTIFY jointspace_keys} (a key created or revoked by any server process), after the
 * listening connection (re)connects, and every {@link #RELOAD_EVERY} in case a notification
 * was missed; a key this process creates or revokes takes effect here at once
 * ({@link #apply}).
 *
 * <p>Each reload and each {@link #apply} takes a ticket from one counter when it starts; a
 * reload that finishes after a newer state was installed is dropped, so a read that began
 * before a revocation never brings the revoked key back.
 *
 * <p>{@code last_used_at} is written at most once a minute per key, off the calling thread.
 * Thread-safe; {@link #start()} with the server, {@link #close()} with it.
 */
public final class KeyVerifier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KeyVerifier.class);
  /** How often every key is read again without a notification. */
  static final Duration RELOAD_EVERY = Duration.ofSeconds(10);
  static final Duration TOUCH_EVERY = Duration.ofMinutes(1);

  /** Every stored key by id, and the ticket of the reload or change that made it. */
  private record Snapshot(Map<String, KeyStore.Stored> byId, long ticket) {}

  /** Where the keys are read, followed and touched: a {@link KeyStore}, or in tests one wrapped around it. */
  public interface Source {
    List<KeyStore.Stored> all();

    /** Calls {@code changed} on a thread of its own after each notification and (re)connection; interrupt it to stop. */
    Thread follow(Runnable changed);

    void touch(String id);

    static Source of(KeyStore store) {
      return new Source() {
        @Override
        public List<KeyStore.Stored> all() {
          return store.all();
        }

        @Override
        public Thread follow(Runnable changed) {
          return store.follow(changed);
        }

        @Override
        public void touch(String id) {
          store.touch(id);
        }
      };
    }
  }

  private final Source store;
  private final Clock clock;
  private final Object lock = new Object();
  @GuardedBy("lock") private long tickets;
  /** Null until the first reload succeeds. */
  @Nullable private volatile Snapshot snapshot;
  private final ConcurrentHashMap<String, Instant> touched = new ConcurrentHashMap<>();
  private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService background = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "api-keys");
    t.setDaemon(true);
    return t;
  });
  @Nullable private Thread listener;
  private volatile boolean warned;

  public KeyVerifier(KeyStore store, Clock clock) {
    this(Source.of(store), clock);
  }

  public KeyVerifier(Source store, Clock clock) {
    this.store = store;
    this.clock = clock;
  }

  /** Reads every key now (when the database answers), then follows changes from every server process. */
  public synchronized void start() {
    if (listener == null) {
      reloadQuietly();
      listener = store.follow(this::reloadQuietly);
      background.scheduleWithFixedDelay(this::reloadQuietly, RELOAD_EVERY.toMillis(), RELOAD_EVERY.toMillis(),
          TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Calls {@code changed} whenever keys may have changed (a reload, a revocation here), so that
   * calls still open under a key can {@link #verify} it again. Called on the thread that saw
   * the change; it must not block.
   */
  public void onChange(Runnable changed) {
    changeListeners.add(changed);
  }

  /**
   * What the key {@code key} may do, or why it is refused; never queries the database.
   *
   * @param key what followed "Bearer " in the call's metadata; null when the call sent none
   * @throws StoreUnavailableException when the keys could never be read yet
   */
  public Verdict verify(@Nullable String key) {
    if (key == null || key.isBlank()) {
      return new Verdict.Refused(Verdict.Reason.MISSING);
    }
    Optional<ApiKeySecret> parsed = ApiKeySecret.parse(key.strip());
    if (parsed.isEmpty()) {
      return new Verdict.Refused(Verdict.Reason.INVALID);
    }
    Snapshot s = snapshot;
    if (s == null) {
      throw new StoreUnavailableException("the API keys could not be read from the database yet", null);
    }
    ApiKeySecret secret = parsed.get();
    KeyStore.Stored k = s.byId().get(secret.id());
    if (k == null || !secret.matches(k.secretSha256())) {
      return new Verdict.Refused(Verdict.Reason.INVALID);
    }
    Instant now = clock.instant();
    Verdict.Reason unusable = unusable(k, now);
    if (unusable != null) {
      return new Verdict.Refused(unusable);
    }
    Grants grants;
    try {
      grants = Grants.parse(k.id(), k.scopes());
    } catch (IllegalArgumentException e) {
      // a row written by hand with a scope this version does not know: the key does nothing
      log.warn("API key {} has a scope this server does not know ({}); refusing it", k.id(), e.getMessage());
      return new Verdict.Refused(Verdict.Reason.INVALID);
    }
    touch(k.id(), now);
    return new Verdict.Accepted(grants, k.expiresAt());
  }

  /** Why {@code k} cannot be used at {@code now} (revoked, expired), or null when it can. */
  @Nullable
  private static Verdict.Reason unusable(KeyStore.Stored k, Instant now) {
    if (k.revokedAt() != null) {
      return Verdict.Reason.REVOKED;
    }
    return k.expiresAt() != null && !now.isBefore(k.expiresAt()) ? Verdict.Reason.EXPIRED : null;
  }

  /** Whether the keys read so far hold one that is neither revoked nor expired; true before any were read. */
  public boolean hasUsableKey() {
    Snapshot s = snapshot;
    Instant now = clock.instant();
    return s == null || s.byId().values().stream().anyMatch(k -> unusable(k, now) == null);
  }

  /**
   * A key this process just created or revoked, as stored after the change: it takes effect
   * here at once (the other processes read it on the notification the change sent).
   */
  public void apply(KeyStore.Stored row) {
    synchronized (lock) {
      Snapshot s = snapshot;
      if (s != null) {
        Map<String, KeyStore.Stored> byId = new HashMap<>(s.byId());
        byId.put(row.id(), row);
        snapshot = new Snapshot(Map.copyOf(byId), ++tickets);
      }
    }
    changed();
  }

  /** Reads every key again; a read that a newer state overtook is dropped. */
  void reload() {
    long ticket;
    synchronized (lock) {
      ticket = ++tickets;
    }
    List<KeyStore.Stored> rows = store.all();
    Map<String, KeyStore.Stored> byId = new HashMap<>();
    rows.forEach(k -> byId.put(k.id(), k));
    synchronized (lock) {
      Snapshot s = snapshot;
      if (s != null && s.ticket() > ticket) {
        return; // a change or a reload that started later is installed already
      }
      snapshot = new Snapshot(Map.copyOf(byId), ticket);
    }
    changed();
  }

  private void reloadQuietly() {
    try {
      reload();
      if (warned) {
        log.info("API keys are read from the database again");
        warned = false;
      }
    } catch (StoreUnavailableException e) {
      if (!warned) {
        warned = true;
        log.warn("Cannot read the API keys ({}); {}", e.getMessage(), snapshot == null
            ? "calls that need a key are refused UNAVAILABLE until the database answers"
            : "checking against the keys read last");
      }
    } catch (RuntimeException e) {
      log.warn("Reading the API keys failed", e);
    }
  }

  private void changed() {
    for (Runnable r : changeListeners) {
      try {
        r.run();
      } catch (RuntimeException e) {
        log.warn("A listener of API key changes failed", e);
      }
    }
  }

  private void touch(String id, Instant now) {
    Instant last = touched.get(id);
    if (last != null && Duration.between(last, now).compareTo(TOUCH_EVERY) < 0) {
      return;
    }
    touched.put(id, now); // only ids of stored keys get here: the map stays as small as the table
    try {
      background.execute(() -> {
        try {
          store.touch(id);
        } catch (RuntimeException e) {
          log.debug("Could not record the use of API key {}: {}", id, e.getMessage());
        }
      });
    } catch (RejectedExecutionException e) {
      // closing
    }
  }

  @Override
  public synchronized void close() {
    io.jointspace.server.store.Notifications.stop(listener);
    listener = null;
    background.shutdown();
  }
}
