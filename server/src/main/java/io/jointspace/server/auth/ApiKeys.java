package io.jointspace.server.auth;

import io.jointspace.server.store.KeyStore;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import javax.annotation.Nullable;

/** Making, listing and revoking API keys (KeyService, and {@code jointspace keys bootstrap}). */
public final class ApiKeys {

  /** A new key: its text, shown once, and its row. */
  public record Created(String key, KeyStore.Stored stored) {}

  private final KeyStore store;

  public ApiKeys(KeyStore store) {
    this.store = store;
  }

  /**
   * Makes and stores a key.
   *
   * @param scopes grants as written ("infer", "collections:read=a,b"); at least one
   * @param createdBy the id of the key that asks, or "bootstrap"
   * @throws IllegalArgumentException for an empty name, no scopes or a scope that does not parse
   */
  public Created create(String name, List<String> scopes, String createdBy, @Nullable Instant expiresAt) {
    if (name.isBlank()) {
      throw new IllegalArgumentException("name is empty; say what or who uses the key");
    }
    if (scopes.isEmpty()) {
      throw new IllegalArgumentException("scopes is empty; give at least one of admin, models:read, models:write,"
          + " infer, collections:read, collections:write");
    }
    List<String> normal = scopes.stream().map(s -> Grant.parse(s).toString()).toList();
    ApiKeySecret secret = ApiKeySecret.generate();
    KeyStore.Stored row = store.create(secret.id(), name.strip(), secret.sha256(), normal, createdBy, expiresAt);
    return new Created(secret.key(), row);
  }

  public List<KeyStore.Stored> list() {
    return store.all();
  }

  /**
   * Revokes a key by id (or by the whole key); empty for an unknown one.
   *
   * @throws IllegalArgumentException when {@code keyOrId} is neither (the message never repeats it)
   */
  public Optional<KeyStore.Stored> revoke(String keyOrId) {
    String id = ApiKeySecret.idOf(keyOrId).orElseThrow(() -> new IllegalArgumentException(
        "id is not a key id: give the 16 hex digits that keys list shows"));
    return store.revoke(id);
  }
}
