package io.jointspace.registry;

import java.util.Objects;
import java.util.OptionalLong;
import javax.annotation.Nullable;

/**
 * What a caller asks the registry for: a model name and either a version, a label, or
 * neither (the newest AVAILABLE version).
 */
public final class ModelRequest {
  private final String name;
  private final OptionalLong version;
  @Nullable private final String label;

  private ModelRequest(String name, OptionalLong version, @Nullable String label) {
    this.name = Objects.requireNonNull(name, "name");
    this.version = version;
    this.label = label;
  }

  public static ModelRequest latest(String name) {
    return new ModelRequest(name, OptionalLong.empty(), null);
  }

  public static ModelRequest version(String name, long version) {
    return new ModelRequest(name, OptionalLong.of(version), null);
  }

  public static ModelRequest label(String name, String label) {
    return new ModelRequest(name, OptionalLong.empty(), Objects.requireNonNull(label, "label"));
  }

  public String name() {
    return name;
  }

  public OptionalLong version() {
    return version;
  }

  @Nullable
  public String label() {
    return label;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelRequest other
        && name.equals(other.name)
        && version.equals(other.version)
        && Objects.equals(label, other.label);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, version, label);
  }

  @Override
  public String toString() {
    if (version.isPresent()) {
      return name + "@" + version.getAsLong();
    }
    return label != null ? name + "@" + label : name + "@latest";
  }
}
