package io.jointspace.server.auth;

/** What {@link KeyVerifier} made of the key a call sent. */
public sealed interface Verdict {

  /**
   * A valid key: what it may do, and until when.
   *
   * @param expiresAt when the key stops being valid; null: until it is revoked
   */
  record Accepted(Grants grants, @javax.annotation.Nullable java.time.Instant expiresAt) implements Verdict {}

  /** No valid key. */
  record Refused(Reason reason) implements Verdict {}

  /** Why a key was refused; {@link #tag()} is the metric's {@code reason}. */
  enum Reason {
    MISSING("missing", "this server needs an API key: send the metadata 'authorization: Bearer <key>'"),
    INVALID("invalid", "the API key is not valid"),
    EXPIRED("expired", "the API key has expired"),
    REVOKED("revoked", "the API key was revoked");

    private final String tag;
    private final String message;

    Reason(String tag, String message) {
      this.tag = tag;
      this.message = message;
    }

    public String tag() {
      return tag;
    }

    /** For the client: says what is wrong, never which key or what it holds. */
    public String message() {
      return message;
    }
  }
}
