package io.jointspace.server.auth;

import io.jointspace.server.store.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks the key a call sends against the stored keys, with a cache of the rows it read so that
 * most calls touch no database. A revocation made by any server process reaches every cache
 * within about a second: each verifier follows {@code NOTIFY jointspace_keys} and empties its
 * cache on every notification (revocations are rare); a row is also read again after
 * {@link #TTL} in case a notification was missed while the listening connection was down.
 * {@code last_used_at} is written at most once a minute per key, off the calling thread.
 *
 * <p>Thread-safe; {@link #start()} with the server, {@link #close()} with it.
 */
public final class KeyVerifier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KeyVerifier.class);
  /** How long a key's row is trusted without a notification. */
  static final Duration TTL = Duration.ofSeconds(10);
  static final Duration TOUCH_EVERY = Duration.ofMinutes(1);
  /** Past this many cached ids (unknown ones included) the cache starts over. */
  private static final int MAX_CACHED = 10_000;

  /** A row as read, or its absence, and when. */
  private record Cached(Optional<KeyStore.Stored> row, long readAtNanos) {}

  private final KeyStore store;
  private final Clock clock;
  private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Instant> touched = new ConcurrentHashMap<>();
  private final ExecutorService toucher = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "key-last-used");
    t.setDaemon(true);
    return t;
  });
  private final java.util.List<Runnable> changeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
  @Nullable private Thread listener;

  public KeyVerifier(KeyStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
  }

  /** Follows revocations from every server process. */
  public synchronized void start() {
    if (listener == null) {
      listener = store.follow(this::invalidate);
    }
  }

  /**
   * Calls {@code changed} whenever keys may have changed (a revocation here or on another
   * server, a reload), so that calls still open under a key can {@link #verify} it again.
   * Called on the thread that saw the change; it must not block.
   */
  public void onChange(Runnable changed) {
    changeListeners.add(changed);
  }

  /**
   * What the key {@code key} may do, or why it is refused.
   *
   * @param key what followed "Bearer " in the call's metadata; null when the call sent none
   * @throws io.jointspace.server.store.StoreUnavailableException when the key is not cached and
   *     the database cannot be reached
   */
  public Verdict verify(@Nullable String key) {
    if (key == null || key.isBlank()) {
      return new Verdict.Refused(Verdict.Reason.MISSING);
    }
    Optional<ApiKeySecret> parsed = ApiKeySecret.parse(key.strip());
    if (parsed.isEmpty()) {
      return new Verdict.Refused(Verdict.Reason.INVALID);
    }
    ApiKeySecret secret = parsed.get();
    Optional<KeyStore.Stored> row = row(secret.id());
    if (row.isEmpty() || !secret.matches(row.get().secretSha256())) {
      return new Verdict.Refused(Verdict.Reason.INVALID);
    }
    KeyStore.Stored k = row.get();
    Instant now = clock.instant();
    if (k.revokedAt() != null) {
      return new Verdict.Refused(Verdict.Reason.REVOKED);
    }
    if (k.expiresAt() != null && !now.isBefore(k.expiresAt())) {
      return new Verdict.Refused(Verdict.Reason.EXPIRED);
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

  /** Forgets every cached row (a revocation on this process takes effect at once). */
  public void invalidate() {
    cache.clear();
    for (Runnable r : changeListeners) {
      try {
        r.run();
      } catch (RuntimeException e) {
        log.warn("A listener of API key changes failed", e);
      }
    }
  }

  private Optional<KeyStore.Stored> row(String id) {
    long now = System.nanoTime();
    Cached c = cache.get(id);
    if (c != null && now - c.readAtNanos() < TTL.toNanos()) {
      return c.row();
    }
    Optional<KeyStore.Stored> row = store.find(id);
    if (cache.size() >= MAX_CACHED) {
      cache.clear();
    }
    cache.put(id, new Cached(row, now));
    return row;
  }

  private void touch(String id, Instant now) {
    Instant last = touched.get(id);
    if (last != null && Duration.between(last, now).compareTo(TOUCH_EVERY) < 0) {
      return;
    }
    if (touched.size() >= MAX_CACHED) {
      touched.clear();
    }
    touched.put(id, now);
    try {
      toucher.execute(() -> {
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
    toucher.shutdown();
  }
}
