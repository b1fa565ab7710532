package io.jointspace.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * How long work waits for a pooled connection while the database cannot be reached: a call's
 * work at most three quarters of the time the call has left, so that it fails UNAVAILABLE
 * before its deadline; other work (and a call with time to spare) the pool's connection timeout.
 */
class ConnectionWaitTest {

  @Test
  void databaseUnreachable_callWithLittleTimeLeft_failsUnavailableWithinThatTime_notAtThePoolsTimeout()
      throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    DatabaseUrl nowhere = new DatabaseUrl("jdbc:postgresql://127.0.0.1:" + port + "/none", "postgres", "x");
    AtomicReference<Duration> callLeft = new AtomicReference<>();
    try (Database db = new Database(nowhere, 2, Duration.ofMillis(2000), callLeft::get)) {
      callLeft.set(Duration.ofMillis(600)); // a call with 600 ms left: fails within 450 ms
      assertThat(millisToFail(db)).isBetween(400L, 1500L);
      callLeft.set(Duration.ofSeconds(60)); // a call with time to spare: the pool's 2 s
      assertThat(millisToFail(db)).isBetween(1900L, 5000L);
      callLeft.set(null); // no call: the pool's 2 s
      assertThat(millisToFail(db)).isBetween(1900L, 5000L);
    }
  }

  /** Milliseconds until a read fails with StoreUnavailableException. */
  private static long millisToFail(Database db) {
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> db.read(c -> 1)).isInstanceOf(StoreUnavailableException.class);
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }
}
