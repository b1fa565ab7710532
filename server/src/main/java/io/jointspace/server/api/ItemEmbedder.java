package io.jointspace.server.api;

import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.Vector;
import io.jointspace.registry.ModelHandle;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelNotFoundException;
import io.jointspace.registry.ModelRequest;
import io.jointspace.registry.ModelUnavailableException;
import io.jointspace.server.errors.FailedPreconditionException;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.Encoder;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.store.Collection;
import io.jointspace.server.store.CollectionSpec;
import io.jointspace.server.store.ItemStore;
import io.jointspace.server.store.ItemWrite;
import io.jointspace.server.store.Unembeddable;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a write request's items into rows for a collection's tables: inputs embedded by
 * exactly the collection's model version, and, during a rollout, by the other version too.
 * Used by {@link CollectionServiceImpl} on the gRPC call's thread.
 */
final class ItemEmbedder {
  private final ModelManager<ModelVersion> registry;

  ItemEmbedder(ModelManager<ModelVersion> registry) {
    this.registry = registry;
  }

  /** Items as rows to write: inputs embedded with the collection's version, in one batch. */
  List<ItemWrite> items(Collection c, List<Item> items, String field, int max) {
    if (items.size() > max) {
      throw new io.jointspace.server.store.LimitExceededException(field + " has " + items.size()
          + " items, over the limit of " + max + " per request");
    }
    List<Input> inputs = new ArrayList<>();
    List<Integer> inputAt = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      Item item = items.get(i);
      // cheap checks first, so a bad id fails before any image is decoded
      ItemStore.checkId(item.getId(), field + "[" + i + "].id");
      switch (item.getContentCase()) {
        case INPUT -> {
          inputs.add(item.getInput());
          inputAt.add(i);
        }
        case VECTOR -> { }
        case CONTENT_NOT_SET -> throw new InvalidInputException(field + "[" + i
            + "] has no content; set input (text or image) or vector");
      }
    }
    List<float[]> embedded = inputs.isEmpty() ? List.of()
        : embed(c, inputs, k -> field + "[" + inputAt.get(k) + "].input");
    List<ItemWrite> out = new ArrayList<>(items.size());
    int next = 0;
    for (int i = 0; i < items.size(); i++) {
      Item item = items.get(i);
      String metadata = Json.of(item.getMetadata(), field + "[" + i + "].metadata");
      if (item.hasVector()) {
        out.add(new ItemWrite(item.getId(), floats(item.getVector()), metadata, null, null));
      } else {
        Input input = item.getInput();
        out.add(new ItemWrite(item.getId(), embedded.get(next++), metadata,
            input.hasText() ? input.getText() : null,
            input.hasImage() ? input.getImage().toByteArray() : null));
      }
    }
    return out;
  }

  /**
   * During a rollout, the items as the other version stores them: inputs embedded by that
   * version. Precomputed vectors cannot go there: left out (the store removes them from that
   * version), or refused when the rollout's policy says so.
   */
  List<ItemWrite> replicaItems(Collection c, List<Item> items, List<ItemWrite> active, String field) {
    if (c.rollout() == null) {
      return List.of();
    }
    Collection replica = c.at(c.rollout().replica());
    // the last write of an id wins, as in the active version
    java.util.Map<String, Integer> last = new java.util.HashMap<>();
    for (int i = 0; i < items.size(); i++) {
      last.put(items.get(i).getId(), i);
    }
    List<Input> inputs = new ArrayList<>();
    List<Integer> inputAt = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      if (last.get(items.get(i).getId()) != i) {
        continue;
      }
      if (items.get(i).hasInput()) {
        inputs.add(items.get(i).getInput());
        inputAt.add(i);
      } else if (c.rollout().unembeddable() == Unembeddable.FAIL) {
        throw new FailedPreconditionException(field + "[" + i + "].vector: collection '" + c.name()
            + "' is rolling out between versions " + c.spec().modelVersion() + " and " + replica.spec().modelVersion()
            + " (rollout " + c.rollout().id() + ", which keeps every item in both and so takes no precomputed vectors"
            + " until it ends); send the input instead");
      }
    }
    if (inputs.isEmpty()) {
      return List.of();
    }
    List<float[]> vectors = embed(replica, inputs, k -> field + "[" + inputAt.get(k) + "].input");
    List<ItemWrite> out = new ArrayList<>(inputs.size());
    for (int k = 0; k < inputs.size(); k++) {
      ItemWrite a = active.get(inputAt.get(k));
      out.add(new ItemWrite(a.id(), vectors.get(k), a.metadataJson(), a.sourceText(), a.sourceImage()));
    }
    return out;
  }

  /** Embeds with exactly the collection's model version. */
  List<float[]> embed(Collection c, List<Input> inputs, java.util.function.IntFunction<String> fieldOf) {
    CollectionSpec spec = c.spec();
    for (int k = 0; k < inputs.size(); k++) {
      if (inputs.get(k).hasTensor()) {
        throw new InvalidInputException(fieldOf.apply(k) + ".tensor: collections embed text and images; send a"
            + " precomputed vector instead");
      }
    }
    ModelHandle<ModelVersion> model;
    try {
      model = CallModel.acquire(registry, ModelRequest.version(spec.modelName(), spec.modelVersion()));
    } catch (ModelNotFoundException | ModelUnavailableException e) {
      throw new ModelUnavailableException("collection '" + c.name() + "' is embedded by " + spec.modelName()
          + " version " + spec.modelVersion() + ", which is not loaded now: " + e.getMessage());
    }
    try (model; GrpcCallScope call = GrpcCallScope.current()) {
      Encoder encoder = model.get().encoder().orElseThrow(() -> new InvalidInputException(fieldOf.apply(0)
          + ": model " + model.id() + " has no encoder spec; send precomputed vectors"));
      return model.get().encode(ProtoMapper.contents(inputs, fieldOf, encoder), fieldOf, call.scope());
    }
  }

  static float[] floats(Vector v) {
    float[] out = new float[v.getValuesCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = v.getValues(i);
    }
    return out;
  }
}
