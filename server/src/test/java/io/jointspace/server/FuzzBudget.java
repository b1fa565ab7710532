package io.jointspace.server;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * The tries of the fuzz properties ({@code *FuzzTest}, registered with
 * {@code @AddLifecycleHook(FuzzBudget.class)}): each property's {@code tries} is what a CI run
 * does; the system property {@code jointspace.fuzz.scale} multiplies it for a long run
 * ({@code ./jointspace fuzz}), and {@code jointspace.fuzz.seed} replays one seed that a
 * failure reported. Without a seed every run draws a new one; jqwik prints it with any
 * failure.
 */
public final class FuzzBudget implements AroundPropertyHook {
  /** Multiplier of every property's tries; 1 in CI. */
  public static int scale() {
    return Math.max(1, Integer.getInteger("jointspace.fuzz.scale", 1));
  }

  /** Registered on a test class, it applies to each of its properties. */
  @Override
  public PropagationMode propagateTo() {
    return PropagationMode.ALL_DESCENDANTS;
  }

  @Override
  public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
    int tries = context.attributes().tries().orElse(100);
    context.attributes().setTries((int) Math.min(Integer.MAX_VALUE, (long) tries * scale()));
    String seed = System.getProperty("jointspace.fuzz.seed", "");
    if (!seed.isBlank()) {
      context.attributes().setSeed(seed.trim());
    }
    return property.execute();
  }
}
