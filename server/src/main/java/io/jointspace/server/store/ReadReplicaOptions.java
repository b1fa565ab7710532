package io.jointspace.server.store;

import java.time.Duration;

/**
 * How reads use streaming replicas.
 *
 * @param maxWait longest a read with a consistency token waits for its replica to replay it
 *     before it reads from the primary (never longer than half of the time its call has left);
 *     default 1 s ({@code storage.replica_wait_ms}); zero: no wait
 * @param recheck how often every replica is checked (reachable, a standby, how far it has
 *     replayed); a replica marked down is used again after the first check that passes;
 *     default 5 s
 */
public record ReadReplicaOptions(Duration maxWait, Duration recheck) {
  public static final ReadReplicaOptions DEFAULT = new ReadReplicaOptions(Duration.ofSeconds(1), Duration.ofSeconds(5));

  public ReadReplicaOptions {
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("the replica wait must not be negative, is " + maxWait);
    }
    if (recheck.toMillis() < 10) {
      throw new IllegalArgumentException("the replica check interval must be at least 10 ms, is " + recheck);
    }
  }

  public ReadReplicaOptions withMaxWait(Duration maxWait) {
    return new ReadReplicaOptions(maxWait, recheck);
  }

  public ReadReplicaOptions withRecheck(Duration recheck) {
    return new ReadReplicaOptions(maxWait, recheck);
  }
}
