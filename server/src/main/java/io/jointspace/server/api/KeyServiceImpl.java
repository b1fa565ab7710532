package io.jointspace.server.api;

import com.google.inject.Inject;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.ApiKey;
import io.jointspace.api.v1.CreateKeyRequest;
import io.jointspace.api.v1.CreateKeyResponse;
import io.jointspace.api.v1.KeyServiceGrpc;
import io.jointspace.api.v1.ListKeysRequest;
import io.jointspace.api.v1.ListKeysResponse;
import io.jointspace.api.v1.RevokeKeyRequest;
import io.jointspace.server.auth.ApiKeySecret;
import io.jointspace.server.auth.ApiKeys;
import io.jointspace.server.auth.KeyVerifier;
import io.jointspace.server.errors.FailedPreconditionException;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.errors.NotFoundException;
import io.jointspace.server.store.KeyStore;
import io.jointspace.server.store.Storage;
import io.jointspace.server.store.StoreUnavailableException;
import java.time.Instant;
import java.util.Optional;
import javax.annotation.Nullable;

/**
 * {@code jointspace.v1.KeyService}: API keys, kept in the database. Every method needs the
 * admin scope ({@link MethodScopes}); a server without a database answers UNAVAILABLE.
 *
 * <p>A server with authentication off answers FAILED_PRECONDITION to every method: it checks
 * no key, so whoever reaches it (a loopback or {@code --insecure-no-auth} server sharing the
 * production database) could otherwise make an admin key that every keyed server takes.
 */
public final class KeyServiceImpl extends KeyServiceGrpc.KeyServiceImplBase {
  static final String NO_AUTH = "this server runs without API keys: keys are managed on a server with auth on,"
      + " or with `jointspace keys bootstrap`";
  @Nullable private final ApiKeys keys;
  @Nullable private final KeyVerifier verifier;

  /**
   * @param verifier this server's, when authentication is on: a key created or revoked here
   *     takes effect here at once (the others follow the database's notification); null when
   *     authentication is off, and then every method is refused
   */
  @Inject
  public KeyServiceImpl(Storage storage, @Nullable KeyVerifier verifier) {
    KeyStore store = storage.keysOrNull();
    this.keys = store == null ? null : new ApiKeys(store);
    this.verifier = verifier;
  }

  @Override
  public void createKey(CreateKeyRequest request, StreamObserver<CreateKeyResponse> observer) {
    StatusMapper.answer(observer, () -> {
      String createdBy = authenticated();
      Instant expires = request.hasExpiresAt() ? expiresAt(request.getExpiresAt()) : null;
      if (expires != null && !expires.isAfter(Instant.now())) {
        throw new InvalidInputException("expires_at is in the past");
      }
      ApiKeys.Created created;
      try {
        created = keys().create(request.getName(), request.getScopesList(), createdBy, expires);
      } catch (IllegalArgumentException e) {
        throw new InvalidInputException(e.getMessage());
      }
      verifier.apply(created.stored()); // usable here at once; the other servers load it on the notification
      return CreateKeyResponse.newBuilder().setKey(created.key()).setInfo(info(created.stored())).build();
    });
  }

  @Override
  public void listKeys(ListKeysRequest request, StreamObserver<ListKeysResponse> observer) {
    StatusMapper.answer(observer, () -> {
      authenticated();
      ListKeysResponse.Builder out = ListKeysResponse.newBuilder();
      keys().list().forEach(k -> out.addKeys(info(k)));
      return out.build();
    });
  }

  @Override
  public void revokeKey(RevokeKeyRequest request, StreamObserver<ApiKey> observer) {
    StatusMapper.answer(observer, () -> {
      authenticated();
      if (request.getId().isBlank()) {
        throw new InvalidInputException("id is empty");
      }
      Optional<KeyStore.Stored> revoked;
      try {
        revoked = keys().revoke(request.getId());
      } catch (IllegalArgumentException e) {
        throw new InvalidInputException(e.getMessage()); // never the input: it may be a whole key
      }
      KeyStore.Stored k = revoked.orElseThrow(() -> new NotFoundException("no API key with id '"
          + ApiKeySecret.idOf(request.getId()).orElseThrow() + "'"));
      verifier.apply(k);
      return info(k);
    });
  }

  /** {@code t} as an instant, refused when a Timestamp may not hold it (as protobuf defines its range). */
  private static Instant expiresAt(com.google.protobuf.Timestamp t) {
    if (!com.google.protobuf.util.Timestamps.isValid(t)) {
      throw new InvalidInputException("expires_at is out of range (seconds " + t.getSeconds() + ", nanos " + t.getNanos()
          + "); the latest is 9999-12-31T23:59:59Z");
    }
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  /**
   * The id of the key making the call.
   *
   * @throws FailedPreconditionException on a server with authentication off
   */
  private String authenticated() {
    String id = Caller.keyId();
    if (verifier == null || id == null) {
      throw new FailedPreconditionException(NO_AUTH);
    }
    return id;
  }

  private ApiKeys keys() {
    if (keys == null) {
      throw new StoreUnavailableException("API keys are kept in the database and this server runs without one;"
          + " start it with --database-url (or let ./jointspace serve run its private one)", null);
    }
    return keys;
  }

  /** A key as the API shows it: never its secret or hash. */
  static ApiKey info(KeyStore.Stored k) {
    ApiKey.Builder b = ApiKey.newBuilder().setId(k.id()).setName(k.name()).addAllScopes(k.scopes())
        .setCreatedAt(ProtoMapper.timestamp(k.createdAt())).setCreatedBy(k.createdBy());
    if (k.expiresAt() != null) {
      b.setExpiresAt(ProtoMapper.timestamp(k.expiresAt()));
    }
    if (k.revokedAt() != null) {
      b.setRevokedAt(ProtoMapper.timestamp(k.revokedAt()));
    }
    if (k.lastUsedAt() != null) {
      b.setLastUsedAt(ProtoMapper.timestamp(k.lastUsedAt()));
    }
    return b.build();
  }
}
