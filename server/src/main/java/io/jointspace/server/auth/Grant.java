package io.jointspace.server.auth;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One scope of a key, optionally limited to named models or collections: written
 * {@code infer}, or {@code collections:read=products,images}.
 *
 * @param names the models or collections it is limited to; empty: every one
 */
public record Grant(Scope scope, Set<String> names) {

  public Grant {
    names = Set.copyOf(names);
  }

  /**
   * Parses a grant as written.
   *
   * @throws IllegalArgumentException naming what is wrong: an unknown scope, an empty name, a limit on admin
   */
  public static Grant parse(String text) {
    String t = text.strip();
    int eq = t.indexOf('=');
    String scopeText = eq < 0 ? t : t.substring(0, eq).strip();
    Scope scope = Scope.of(scopeText).orElseThrow(() -> new IllegalArgumentException("unknown scope '" + scopeText
        + "'; scopes are " + Arrays.stream(Scope.values()).map(Scope::text).collect(Collectors.joining(", "))));
    if (eq < 0) {
      return new Grant(scope, Set.of());
    }
    if (scope == Scope.ADMIN) {
      throw new IllegalArgumentException("admin cannot be limited to names ('" + t + "')");
    }
    Set<String> names = new LinkedHashSet<>();
    for (String n : t.substring(eq + 1).split(",", -1)) {
      if (n.isBlank()) {
        throw new IllegalArgumentException("'" + t + "' has an empty " + scope.target().noun() + " name");
      }
      names.add(n.strip());
    }
    return new Grant(scope, names);
  }

  /** Whether this grant covers {@code scope} on {@code name} (null: no name, any grant of the scope does). */
  boolean covers(Scope wanted, @javax.annotation.Nullable String name) {
    if (scope == Scope.ADMIN) {
      return true;
    }
    return scope == wanted && (names.isEmpty() || name == null || names.contains(name));
  }

  @Override
  public String toString() {
    return names.isEmpty() ? scope.text() : scope.text() + "=" + names.stream().sorted().collect(Collectors.joining(","));
  }
}
