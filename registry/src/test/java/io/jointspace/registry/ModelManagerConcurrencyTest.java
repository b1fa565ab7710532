package io.jointspace.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ModelManagerConcurrencyTest {
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final long RUN_NANOS = TimeUnit.SECONDS.toNanos(2);
  private static final String M = "clip";
  private static final ServableId V1 = new ServableId(M, 1);
  private static final ServableId V2 = new ServableId(M, 2);

  private final FakeLoader loader = new FakeLoader();
  private final ExecutorService executor = Executors.newFixedThreadPool(3);
  private final ModelManager<FakeLoader.Servable> manager =
      new ModelManager<>(
          loader, executor, RolloutPolicy.availabilityPreserving(), name -> Map.of(), Clock.systemUTC());

  @AfterEach
  void tearDown() throws InterruptedException {
    manager.close(Duration.ofSeconds(1));
    executor.shutdownNow();
    assertThat(executor.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
  }

  private void aspire(ServableId id) {
    manager.setAspiredVersions(
        M, List.of(new AspiredVersion(id, Path.of("/models/clip/" + id.version()), "fp")));
  }

  @Test
  void acquiringLatest_neverFails_whileVersionsAreSwapped_andEachServableIsUnloadedOnceAfterItsLastUse()
      throws Exception {
    aspire(V1);
    manager.awaitState(V1, WAIT, ModelState.AVAILABLE);

    AtomicBoolean stop = new AtomicBoolean();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    Set<ServableId> served = ConcurrentHashMap.newKeySet();
    AtomicLong calls = new AtomicLong();
    List<Thread> workers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Thread t =
          new Thread(
              () -> {
                while (!stop.get()) {
                  try (ModelHandle<FakeLoader.Servable> h = manager.acquire(ModelRequest.latest(M))) {
                    FakeLoader.Servable s = h.get();
                    if (!s.id.equals(h.id())) {
                      throw new AssertionError("handle on " + h.id() + " gave " + s.id);
                    }
                    s.use();
                    Thread.yield(); // hold the lease a little, as a real call would
                    s.use();
                    served.add(h.id());
                    calls.incrementAndGet();
                  } catch (Throwable e) {
                    failures.add(e);
                    return;
                  }
                }
              },
              "caller-" + i);
      t.start();
      workers.add(t);
    }

    int swaps = 0;
    ServableId next = V2;
    long deadline = System.nanoTime() + RUN_NANOS;
    try {
      while (System.nanoTime() < deadline && failures.isEmpty()) {
        aspire(next);
        if (swaps % 3 != 2) { // mostly complete each rollout; sometimes change course mid-way
          manager.awaitState(next, WAIT, ModelState.AVAILABLE);
        }
        next = next.equals(V1) ? V2 : V1;
        swaps++;
      }
    } finally {
      stop.set(true);
      for (Thread t : workers) {
        t.join(TimeUnit.SECONDS.toMillis(5));
      }
    }

    assertThat(failures).isEmpty();
    assertThat(workers).noneMatch(Thread::isAlive);
    assertThat(swaps).isGreaterThan(10);
    assertThat(calls.get()).isPositive();
    assertThat(served).containsExactlyInAnyOrder(V1, V2);

    manager.awaitSettled(WAIT);
    manager.close(WAIT);

    assertThat(loader.usedAfterUnload).hasValue(0);
    assertThat(loader.unloadedTwice).hasValue(0);
    assertThat(loader.created).hasSameSizeAs(loader.loads);
    assertThat(loader.created).allSatisfy(s -> assertThat(s.unloads).as(s.id.toString()).hasValue(1));
    assertThat(loader.unloaded).hasSameSizeAs(loader.created);
  }
}
