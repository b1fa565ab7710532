package io.jointspace.server.auth;

import java.util.Arrays;
import java.util.Optional;

/**
 * What an API key may do. Each scope but {@link #ADMIN} may be limited to named models or
 * collections ({@link Grant}); {@link #ADMIN} is every scope, unlimited.
 */
public enum Scope {
  /** Key management, and every other scope. */
  ADMIN("admin", Target.NONE),
  /** Reading models: list, status, metadata, label history. */
  MODELS_READ("models:read", Target.MODEL),
  /** Changing models: labels, uploaded versions. */
  MODELS_WRITE("models:write", Target.MODEL),
  /** Running models: embed, classify, score, KServe ModelInfer. */
  INFER("infer", Target.MODEL),
  /** Reading collections and their rollouts, searching them. */
  COLLECTIONS_READ("collections:read", Target.COLLECTION),
  /** Creating, writing and deleting collections; starting and steering their rollouts. */
  COLLECTIONS_WRITE("collections:write", Target.COLLECTION);

  /** What a scope's limit names. */
  public enum Target {
    NONE(""), MODEL("model"), COLLECTION("collection");

    private final String noun;

    Target(String noun) {
      this.noun = noun;
    }

    /** "model", "collection". */
    public String noun() {
      return noun;
    }
  }

  private final String text;
  private final Target target;

  Scope(String text, Target target) {
    this.text = text;
    this.target = target;
  }

  /** As keys and messages write it: "collections:read". */
  public String text() {
    return text;
  }

  public Target target() {
    return target;
  }

  public static Optional<Scope> of(String text) {
    return Arrays.stream(values()).filter(s -> s.text.equals(text)).findFirst();
  }

  @Override
  public String toString() {
    return text;
  }
}
