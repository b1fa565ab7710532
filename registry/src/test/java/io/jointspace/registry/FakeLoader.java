package io.jointspace.registry;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link ServableLoader} for tests. It records every load and unload, fails the versions it
 * is told to, holds a load on a latch so LOADING can be observed, and checks that each
 * servable is unloaded once and never used after.
 */
final class FakeLoader implements ServableLoader<FakeLoader.Servable> {

  /** What the fake loads. {@link #use()} stands for running a call on it. */
  final class Servable {
    final ServableId id;
    final AtomicInteger unloads = new AtomicInteger();

    Servable(ServableId id) {
      this.id = id;
    }

    void use() {
      if (unloads.get() > 0) {
        usedAfterUnload.incrementAndGet();
        throw new IllegalStateException(id + " used after unload");
      }
    }
  }

  final List<ServableId> loads = new CopyOnWriteArrayList<>();
  final List<ServableId> unloaded = new CopyOnWriteArrayList<>();
  final List<Servable> created = new CopyOnWriteArrayList<>();
  final AtomicInteger usedAfterUnload = new AtomicInteger();
  final AtomicInteger unloadedTwice = new AtomicInteger();
  private final Map<ServableId, String> failures = new ConcurrentHashMap<>();
  private final Map<ServableId, CountDownLatch> gates = new ConcurrentHashMap<>();

  /** Loads of {@code id} fail with {@code message} until {@link #succeed} is called. */
  void fail(ServableId id, String message) {
    failures.put(id, message);
  }

  void succeed(ServableId id) {
    failures.remove(id);
  }

  /** The next loads of {@code id} wait until the returned latch is counted down. */
  CountDownLatch block(ServableId id) {
    CountDownLatch gate = new CountDownLatch(1);
    gates.put(id, gate);
    return gate;
  }

  long loadCount(ServableId id) {
    return loads.stream().filter(id::equals).count();
  }

  @Override
  public Servable load(AspiredVersion version) throws Exception {
    ServableId id = version.id();
    loads.add(id);
    CountDownLatch gate = gates.get(id);
    if (gate != null && !gate.await(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException("test never released the load of " + id);
    }
    String failure = failures.get(id);
    if (failure != null) {
      throw new IOException(failure);
    }
    Servable s = new Servable(id);
    created.add(s);
    return s;
  }

  @Override
  public void unload(Servable servable) {
    if (servable.unloads.incrementAndGet() > 1) {
      unloadedTwice.incrementAndGet();
    }
    unloaded.add(servable.id);
  }
}
