package io.jointspace.server.api;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streaming calls open under an API key, so that a key that stops being valid ends them
 * instead of letting them run for hours on the check made when they started: each is checked
 * again {@link #recheckAll() when keys change} (a revocation here or on another server) and
 * when its key expires.
 *
 * <p>Thread-safe. {@link Stream#recheck()} is called on the thread that saw the change or on
 * this registry's timer thread; it must not block. {@link #close()} with the server.
 */
final class KeyedStreams implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KeyedStreams.class);

  /** An open call that can check its key again, and end itself if the key is no longer valid. */
  interface Stream {
    void recheck();
  }

  /** One open call; {@link #close()} when the call ends. */
  final class Registration implements AutoCloseable {
    private final Stream stream;
    @Nullable private final ScheduledFuture<?> expiry;

    private Registration(Stream stream, @Nullable ScheduledFuture<?> expiry) {
      this.stream = stream;
      this.expiry = expiry;
    }

    @Override
    public void close() {
      open.remove(this);
      if (expiry != null) {
        expiry.cancel(false);
      }
    }
  }

  private final Clock clock;
  private final Set<Registration> open = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "key-expiry");
    t.setDaemon(true);
    return t;
  });

  KeyedStreams(Clock clock) {
    this.clock = clock;
  }

  /**
   * Follows {@code stream} until its registration is closed.
   *
   * @param expiresAt when its key expires (the stream is checked again then); null: never
   */
  Registration open(Stream stream, @Nullable Instant expiresAt) {
    ScheduledFuture<?> expiry = null;
    if (expiresAt != null) {
      // a moment after the expiry, so that the check sees the key expired
      long delay = Math.max(0, Duration.between(clock.instant(), expiresAt).toMillis()) + 5;
      try {
        expiry = timer.schedule(stream::recheck, delay, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        // closing: the server ends its calls anyway
      }
    }
    Registration r = new Registration(stream, expiry);
    open.add(r);
    return r;
  }

  /** Checks the key of every open stream again (keys changed). */
  void recheckAll() {
    for (Registration r : open) {
      try {
        r.stream.recheck();
      } catch (RuntimeException e) {
        log.warn("Checking the API key of an open call again failed", e);
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
