package io.jointspace.server.store;

import java.time.Instant;
import javax.annotation.Nullable;

/** An item as stored; vector and sources only when asked for. */
public record StoredItem(String id, String metadataJson, @Nullable float[] vector, @Nullable String sourceText,
    @Nullable byte[] sourceImage, Instant createdAt, Instant updatedAt) {}
