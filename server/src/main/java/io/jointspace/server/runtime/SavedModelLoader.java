package io.jointspace.server.runtime;

import io.jointspace.registry.AspiredVersion;
import io.jointspace.registry.ServableLoader;
import java.util.function.Function;

/** Loads model versions as {@link SavedModel}s with each model's {@link LoadOptions}. */
public final class SavedModelLoader implements ServableLoader<SavedModel> {
  private final Function<String, LoadOptions> optionsByModel;
  private final ImageLimits imageLimits;

  public SavedModelLoader(Function<String, LoadOptions> optionsByModel, ImageLimits imageLimits) {
    this.optionsByModel = optionsByModel;
    this.imageLimits = imageLimits;
  }

  @Override
  public SavedModel load(AspiredVersion version) throws Exception {
    return SavedModel.load(version.path(), optionsByModel.apply(version.id().name()), imageLimits);
  }

  @Override
  public void unload(SavedModel model) {
    model.close();
  }
}
