package io.jointspace.registry;

import java.time.Instant;

/**
 * A snapshot of one version's lifecycle.
 *
 * @param since when the version entered {@code state}
 * @param lastError the last load failure, or an empty string
 */
public record VersionStatus(ServableId id, ModelState state, Instant since, String lastError) {}
