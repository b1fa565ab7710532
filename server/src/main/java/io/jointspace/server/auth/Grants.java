package io.jointspace.server.auth;

import java.util.List;
import javax.annotation.Nullable;

/**
 * What the key of a call may do.
 *
 * @param keyId the key's id, for records of who did what (never its secret)
 */
public record Grants(String keyId, List<Grant> grants) {

  public Grants {
    grants = List.copyOf(grants);
  }

  /** Parses grants as stored ("infer", "collections:read=a,b"). */
  public static Grants parse(String keyId, List<String> scopes) {
    return new Grants(keyId, scopes.stream().map(Grant::parse).toList());
  }

  /**
   * Whether the key may use {@code scope} on the model or collection {@code name}; with a
   * null name, whether it holds the scope at all (a list call, whose answer {@link #allows}
   * then filters by name).
   */
  public boolean allows(Scope scope, @Nullable String name) {
    return grants.stream().anyMatch(g -> g.covers(scope, name));
  }
}
