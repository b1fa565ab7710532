package io.jointspace.server.store;

import javax.annotation.Nullable;

/**
 * One item to insert or replace.
 *
 * @param metadataJson a JSON object
 * @param sourceText the text it was embedded from, or null
 * @param sourceImage the encoded image it was embedded from, or null
 */
public record ItemWrite(String id, float[] vector, String metadataJson, @Nullable String sourceText,
    @Nullable byte[] sourceImage) {}
