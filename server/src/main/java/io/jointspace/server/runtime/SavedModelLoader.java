package io.jointspace.server.runtime;

import io.jointspace.registry.AspiredVersion;
import io.jointspace.registry.ServableLoader;
import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
import java.util.function.Function;
import javax.annotation.Nullable;

/**
 * Loads model versions as {@link SavedModel}s with each model's {@link LoadOptions}. With
 * batching on for a model (its own options, see {@code ModelConfig.batching}), each version's
 * batchable signatures get queues on the shared scheduler, named after the version
 * ({@code "clip@2/encode_text"}).
 */
public final class SavedModelLoader implements ServableLoader<SavedModel> {
  private final Function<String, LoadOptions> optionsByModel;
  private final ImageLimits imageLimits;
  @Nullable private final BatchScheduler scheduler;
  private final Function<String, BatchingOptions> batchingByModel;

  /**
   * @param scheduler runs the batches; may be null only when no model batches
   * @param batchingByModel a model's batching options by its name; null for a model whose
   *     calls run directly
   */
  public SavedModelLoader(Function<String, LoadOptions> optionsByModel, ImageLimits imageLimits,
      @Nullable BatchScheduler scheduler, Function<String, BatchingOptions> batchingByModel) {
    this.optionsByModel = optionsByModel;
    this.imageLimits = imageLimits;
    this.scheduler = scheduler;
    this.batchingByModel = batchingByModel;
  }

  @Override
  public SavedModel load(AspiredVersion version) throws Exception {
    BatchingOptions batching = batchingByModel.apply(version.id().name());
    if (batching != null && scheduler == null) {
      throw new IllegalStateException("model '" + version.id().name() + "' batches, but the loader has no scheduler");
    }
    return SavedModel.load(version.path(), optionsByModel.apply(version.id().name()), imageLimits,
        scheduler, batching, version.id().toString());
  }

  @Override
  public void unload(SavedModel model) {
    model.close();
  }
}
