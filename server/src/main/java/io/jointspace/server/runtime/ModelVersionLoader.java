package io.jointspace.server.runtime;

import io.jointspace.registry.AspiredVersion;
import io.jointspace.registry.ServableLoader;
import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
import java.util.function.Function;
import javax.annotation.Nullable;

/**
 * Loads model versions as {@link ModelVersion}s with each model's {@link LoadOptions}. With
 * batching on for a model (its own options, see {@code ModelConfig.batching}), each version's
 * batchable signatures get queues on the shared scheduler, named after the version
 * ({@code "clip@2/encode_text"}). Unless warm-up is off, a version is {@linkplain
 * ModelVersion#warmUp warmed up} before it is returned, so it is AVAILABLE only once it has run.
 */
public final class ModelVersionLoader implements ServableLoader<ModelVersion> {
  private final Function<String, LoadOptions> optionsByModel;
  private final ImageLimits imageLimits;
  @Nullable private final BatchScheduler scheduler;
  private final Function<String, BatchingOptions> batchingByModel;
  private final PreprocessPool pool;
  private final WarmupOptions warmup;

  /**
   * @param scheduler runs the batches; may be null only when no model batches
   * @param batchingByModel a model's batching options by its name; null for a model whose
   *     calls run directly
   * @param pool where the versions' encoders tokenize and decode
   * @param warmup whether each version runs before {@link #load} returns it (a failed warm-up
   *     fails the load, as in TF Serving)
   */
  public ModelVersionLoader(Function<String, LoadOptions> optionsByModel, ImageLimits imageLimits,
      @Nullable BatchScheduler scheduler, Function<String, BatchingOptions> batchingByModel, PreprocessPool pool,
      WarmupOptions warmup) {
    this.optionsByModel = optionsByModel;
    this.imageLimits = imageLimits;
    this.scheduler = scheduler;
    this.batchingByModel = batchingByModel;
    this.pool = pool;
    this.warmup = warmup;
  }

  @Override
  public ModelVersion load(AspiredVersion version) throws Exception {
    BatchingOptions batching = batchingByModel.apply(version.id().name());
    if (batching != null && scheduler == null) {
      throw new IllegalStateException("model '" + version.id().name() + "' batches, but the loader has no scheduler");
    }
    ModelVersion loaded = ModelVersion.load(version.path(), version.id().toString(),
        optionsByModel.apply(version.id().name()), imageLimits, scheduler, batching, pool);
    if (warmup.enabled()) {
      try {
        loaded.warmUp(warmup);
      } catch (RuntimeException e) {
        loaded.close();
        throw new IllegalStateException("warm-up failed: " + e.getMessage(), e);
      }
    }
    return loaded;
  }

  @Override
  public void unload(ModelVersion model) {
    model.close();
  }
}
