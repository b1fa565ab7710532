package io.jointspace.registry;

import java.nio.file.Path;

/**
 * A version a {@link VersionSource} wants served.
 *
 * @param path the version's folder
 * @param fingerprint changes when the folder's files change; a version in ERROR is loaded
 *     again when it does
 */
public record AspiredVersion(ServableId id, Path path, String fingerprint) {}
