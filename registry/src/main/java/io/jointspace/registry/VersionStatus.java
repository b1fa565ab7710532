package io.jointspace.registry;

import java.time.Instant;

/**
 * A snapshot of one version's lifecycle.
 *
 * @param since when the version entered {@code state}
 * @param lastError the last load failure, or an empty string; paths in it start at the model's
 *     folder (the full message is in the server log)
 */
public record VersionStatus(ServableId id, ModelState state, Instant since, String lastError) {}
