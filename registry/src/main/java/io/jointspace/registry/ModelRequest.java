package io.jointspace.registry;

import java.util.Objects;
import java.util.OptionalLong;
import javax.annotation.Nullable;

/**
 * What a caller asks the registry for: a model name and either a version, a label, or
 * neither (the newest AVAILABLE version); for a label that splits traffic, optionally a
 * routing key that keeps the caller on one version ({@link LabelTarget#pick}).
 */
public final class ModelRequest {
  private final String name;
  private final OptionalLong version;
  @Nullable private final String label;
  @Nullable private final String routingKey;

  private ModelRequest(String name, OptionalLong version, @Nullable String label, @Nullable String routingKey) {
    this.name = Objects.requireNonNull(name, "name");
    this.version = version;
    this.label = label;
    this.routingKey = routingKey;
  }

  public static ModelRequest latest(String name) {
    return new ModelRequest(name, OptionalLong.empty(), null, null);
  }

  public static ModelRequest version(String name, long version) {
    return new ModelRequest(name, OptionalLong.of(version), null, null);
  }

  public static ModelRequest label(String name, String label) {
    return new ModelRequest(name, OptionalLong.empty(), Objects.requireNonNull(label, "label"), null);
  }

  /** The same request with a routing key (empty: none). */
  public ModelRequest withRoutingKey(String key) {
    return new ModelRequest(name, version, label, key == null || key.isEmpty() ? null : key);
  }

  /** The caller's routing key for traffic splits, if it sent one. */
  @Nullable
  public String routingKey() {
    return routingKey;
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
        && Objects.equals(label, other.label)
        && Objects.equals(routingKey, other.routingKey);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, version, label, routingKey);
  }

  @Override
  public String toString() {
    if (version.isPresent()) {
      return name + "@" + version.getAsLong();
    }
    return label != null ? name + "@" + label : name + "@latest";
  }
}
