package io.jointspace.server.runtime;

import io.jointspace.registry.AspiredVersion;
import io.jointspace.registry.ServableLoader;
import java.util.function.Function;

/** Loads model versions as {@link SavedModel}s with each model's {@link LoadOptions}. */
public final class SavedModelLoader implements ServableLoader<SavedModel> {
  private final Function<String, LoadOptions> optionsByModel;

  public SavedModelLoader(Function<String, LoadOptions> optionsByModel) {
    this.optionsByModel = optionsByModel;
  }

  @Override
  public SavedModel load(AspiredVersion version) throws Exception {
    return SavedModel.load(version.path(), optionsByModel.apply(version.id().name()));
  }

  @Override
  public void unload(SavedModel model) {
    model.close();
  }
}
