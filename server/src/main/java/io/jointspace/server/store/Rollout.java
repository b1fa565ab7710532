package io.jointspace.server.store;

import java.time.Duration;
import java.time.Instant;
import javax.annotation.Nullable;

/**
 * A rollout as the catalog has it, with its progress counted when it was read.
 *
 * @param total items to re-embed when it started
 * @param backfilled items the backfill re-embedded (the rest of {@code total - remaining -
 *     failed} were written anew by clients)
 * @param remaining items still to re-embed
 * @param failed items given up after their retries
 * @param evaluationJson the last evaluation, as JSON, or null
 * @param finalizeAfter finalize by itself this long after the promote; null: only when asked
 * @param createdBy who started it: a client's address, or the label it follows
 */
public record Rollout(long id, String collection, VersionTable from, VersionTable to, RolloutState state,
    Unembeddable unembeddable, double rateLimit, long total, long backfilled, long remaining, long failed,
    long unembeddableCount, boolean indexBuilt, @Nullable String evaluationJson, String error,
    @Nullable Duration finalizeAfter, Instant createdAt, @Nullable Instant backfillStartedAt,
    @Nullable Instant readyAt, @Nullable Instant promotedAt, @Nullable Instant finishedAt, Instant readAt,
    String createdBy) {

  /** Items no longer waiting: re-embedded, or written anew by a client. */
  public long done() {
    return Math.max(0, total - remaining - failed);
  }

  /** Backfill rate since it started (0 before), items per second. */
  public double itemsPerSecond() {
    if (backfillStartedAt == null || backfilled == 0) {
      return 0;
    }
    Instant end = readyAt != null ? readyAt : readAt;
    double seconds = Duration.between(backfillStartedAt, end).toMillis() / 1000.0;
    return seconds <= 0 ? 0 : backfilled / seconds;
  }

  /** Time left at {@link #itemsPerSecond()}, or null while unknown. */
  @Nullable
  public Duration eta() {
    if (remaining == 0) {
      return Duration.ZERO;
    }
    double rate = itemsPerSecond();
    return rate <= 0 ? null : Duration.ofMillis((long) (remaining / rate * 1000));
  }
}
