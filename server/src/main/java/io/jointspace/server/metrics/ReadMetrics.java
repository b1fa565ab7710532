package io.jointspace.server.metrics;

import io.jointspace.server.store.ReadListener;
import io.jointspace.server.store.ReadRoute;
import io.jointspace.server.store.SearchPlan;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where collection reads were served: {@code jointspace_store_reads_total} with {@code target}
 * ({@code replica} or {@code primary}), {@code reason} (a {@link ReadRoute} in snake case:
 * {@code replica}, {@code no_replicas}, {@code no_healthy_replica}, {@code lag},
 * {@code replica_failed}, {@code not_on_replica}) and {@code replica} (the replica used or
 * tried, {@code host:port/database}; empty when none was); and
 * {@code jointspace_store_replica_up} (1 while a replica takes reads, 0 while it is skipped);
 * and {@code jointspace_search_plans_total} with {@code plan} (a {@link SearchPlan} in snake
 * case), every plan from the start, so a rate of each can be read before it first occurs.
 */
public final class ReadMetrics implements ReadListener {
  private final MeterRegistry registry;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> up = new ConcurrentHashMap<>();

  private final Map<SearchPlan, Counter> plans = new EnumMap<>(SearchPlan.class);

  public ReadMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (SearchPlan plan : SearchPlan.values()) {
      plans.put(plan, Counter.builder("jointspace.search.plans")
          .description("Searches by the plan they took (docs/sql.md, How the API's Search runs)")
          .tag("plan", plan.label())
          .register(registry));
    }
  }

  @Override
  public void onSearch(SearchPlan plan) {
    plans.get(plan).increment();
  }

  @Override
  public void onRead(ReadRoute route, String replica) {
    counters.computeIfAbsent(route.name() + "\n" + replica, k -> Counter.builder("jointspace.store.reads")
        .description("Collection reads (Search, Get, GetCollection, ListCollections) by where they were served")
        .tag("target", route.target())
        .tag("reason", route.reason())
        .tag("replica", replica)
        .register(registry)).increment();
  }

  @Override
  public void onReplicaHealth(String replica, boolean healthy) {
    up.computeIfAbsent(replica, r -> {
      AtomicInteger state = new AtomicInteger();
      Gauge.builder("jointspace.store.replica.up", state, AtomicInteger::get)
          .description("1 while the read replica takes reads, 0 while it is skipped (down, or not a standby)")
          .tag("replica", r)
          .register(registry);
      return state;
    }).set(healthy ? 1 : 0);
  }
}
