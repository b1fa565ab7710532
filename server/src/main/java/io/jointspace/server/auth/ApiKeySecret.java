package io.jointspace.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The text of an API key, {@code js_<id>_<secret>}: the id is 16 hex digits (64 random bits,
 * the name by which the key is listed and revoked), the secret 32 random bytes in base64url
 * (256 bits). Only {@link #sha256 the SHA-256 of the secret} is stored: for a random secret of
 * 256 bits a plain hash is right (a slow password hash protects guessable inputs, and nothing
 * of this key can be guessed), and it keeps each check to microseconds.
 */
public record ApiKeySecret(String id, String secret) {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String PREFIX = "js_";

  /** A new random key. */
  public static ApiKeySecret generate() {
    byte[] id = new byte[8];
    byte[] secret = new byte[32];
    RANDOM.nextBytes(id);
    RANDOM.nextBytes(secret);
    return new ApiKeySecret(HexFormat.of().formatHex(id), Base64.getUrlEncoder().withoutPadding().encodeToString(secret));
  }

  /** A key as sent by a client; empty when it does not have the key's form. */
  public static Optional<ApiKeySecret> parse(String key) {
    if (!key.startsWith(PREFIX)) {
      return Optional.empty();
    }
    int sep = key.indexOf('_', PREFIX.length());
    if (sep != PREFIX.length() + 16) {
      return Optional.empty();
    }
    String id = key.substring(PREFIX.length(), sep);
    String secret = key.substring(sep + 1);
    if (!isHex(id) || secret.length() != 43) {
      return Optional.empty();
    }
    return Optional.of(new ApiKeySecret(id, secret));
  }

  /**
   * The id alone, from an id or a key (whole, or with a damaged secret) as given to RevokeKey;
   * empty when it has neither form. Never returns the secret part.
   */
  public static Optional<String> idOf(String keyOrId) {
    String t = keyOrId.strip();
    if (t.startsWith(PREFIX) && t.length() > PREFIX.length() + 16 && t.charAt(PREFIX.length() + 16) == '_') {
      t = t.substring(PREFIX.length(), PREFIX.length() + 16);
    }
    return t.length() == 16 && isHex(t) ? Optional.of(t) : Optional.empty();
  }

  private static boolean isHex(String s) {
    return s.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }

  /** What the client sends. */
  public String key() {
    return PREFIX + id + "_" + secret;
  }

  /** What is stored. */
  public byte[] sha256() {
    try {
      return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.US_ASCII));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Whether this key's secret is the one {@code storedSha256} was made from; constant time. */
  public boolean matches(byte[] storedSha256) {
    return MessageDigest.isEqual(sha256(), storedSha256);
  }

  @Override
  public String toString() {
    return "ApiKeySecret[" + id + "]"; // never the secret, not even in a log line
  }
}
