package io.jointspace.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.server.store.Database;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.KeyStore;
import io.jointspace.server.store.TestDatabase;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The verifier's keys in memory against a real PostgreSQL, with reads of the table that the
 * test can hold after they return (as a slow read is): a read that began before a revocation
 * and ends after it never brings the revoked key back.
 */
class KeyVerifierTest {

  /**
   * The real store, whose reads on the thread named {@link #HELD} wait after reading until
   * {@link #release} (the verifier's own threads, listener and timer, read freely).
   */
  static class HeldReads implements KeyVerifier.Source {
    static final String HELD = "stale-reload";
    final KeyStore store;
    final CountDownLatch read = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    HeldReads(KeyStore store) {
      this.store = store;
    }

    @Override
    public List<KeyStore.Stored> all() {
      List<KeyStore.Stored> rows = store.all();
      if (Thread.currentThread().getName().equals(HELD)) {
        read.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return rows;
    }

    @Override
    public Thread follow(Runnable changed) {
      return store.follow(changed);
    }

    @Override
    public void touch(String id) {
      store.touch(id);
    }
  }

  @Test
  void aReadThatBeganBeforeARevocation_doesNotBringTheKeyBack() throws Exception {
    DatabaseUrl url = TestDatabase.fresh();
    try (Database db = new Database(url, 4, Duration.ofSeconds(5))) {
      KeyStore store = new KeyStore(db);
      ApiKeys keys = new ApiKeys(store);
      ApiKeys.Created key = keys.create("k", List.of("infer"), "test", null);
      HeldReads reads = new HeldReads(store);
      try (KeyVerifier verifier = new KeyVerifier(reads, Clock.systemUTC())) {
        verifier.start();
        assertThat(verifier.verify(key.key())).isInstanceOf(Verdict.Accepted.class);

        // a reload reads the key while it is valid, and is held before it installs what it read
        Thread stale = new Thread(verifier::reload, HeldReads.HELD);
        stale.start();
        assertThat(reads.read.await(10, TimeUnit.SECONDS)).isTrue();

        // revoked meanwhile: the notification makes the verifier read again, and it sees the revocation
        keys.revoke(key.stored().id());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (verifier.verify(key.key()) instanceof Verdict.Accepted && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        assertThat(verifier.verify(key.key())).isEqualTo(new Verdict.Refused(Verdict.Reason.REVOKED));

        // the stale read ends last, and is dropped
        reads.release.countDown();
        stale.join(10_000);
        assertThat(stale.isAlive()).isFalse();
        assertThat(verifier.verify(key.key())).isEqualTo(new Verdict.Refused(Verdict.Reason.REVOKED));
      }
    }
  }

  @Test
  void unknownIds_areRefused_withoutReadingTheDatabase_keysMadeElsewhereArriveByNotification() throws Exception {
    DatabaseUrl url = TestDatabase.fresh();
    try (Database db = new Database(url, 4, Duration.ofSeconds(5))) {
      KeyStore store = new KeyStore(db);
      ApiKeys keys = new ApiKeys(store);
      java.util.concurrent.atomic.AtomicInteger readsMade = new java.util.concurrent.atomic.AtomicInteger();
      KeyVerifier.Source counting = new HeldReads(store) {
        @Override
        public List<KeyStore.Stored> all() {
          readsMade.incrementAndGet();
          return super.all();
        }
      };
      try (KeyVerifier verifier = new KeyVerifier(counting, Clock.systemUTC())) {
        verifier.start();
        int before = readsMade.get();
        String secret = ApiKeySecret.generate().secret();
        java.util.Random random = new java.util.Random(1);
        for (int i = 0; i < 20_000; i++) {
          String unknown = "js_" + String.format("%016x", random.nextLong()) + "_" + secret;
          assertThat(verifier.verify(unknown)).isEqualTo(new Verdict.Refused(Verdict.Reason.INVALID));
        }
        assertThat(readsMade.get() - before).as("reads of the table during the flood").isLessThanOrEqualTo(2);

        ApiKeys.Created made = keys.create("made elsewhere", List.of("infer"), "test", null);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (!(verifier.verify(made.key()) instanceof Verdict.Accepted) && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        assertThat(verifier.verify(made.key())).isInstanceOf(Verdict.Accepted.class);
      }
    }
  }
}
