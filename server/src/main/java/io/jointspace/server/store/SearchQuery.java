package io.jointspace.server.store;

import javax.annotation.Nullable;

/**
 * A nearest-neighbour query: by vector, or by the vector of a stored item (which is then left
 * out of the hits).
 */
public record SearchQuery(@Nullable float[] vector, @Nullable String itemId, int topK, @Nullable Condition filter,
    boolean includeVectors, boolean includeMetadata) {

  public SearchQuery {
    if ((vector == null) == (itemId == null)) {
      throw new IllegalArgumentException("give a vector or an item id");
    }
  }
}
