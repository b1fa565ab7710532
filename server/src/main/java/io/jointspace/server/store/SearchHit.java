package io.jointspace.server.store;

import javax.annotation.Nullable;

/** One search result; {@code score} is higher for closer items. */
public record SearchHit(String id, float score, @Nullable String metadataJson, @Nullable float[] vector) {}
