package io.jointspace.trainer;

/**
 * A text about a scene, as training samples it: it names each attribute that is non-null
 * (at least one of color and shape).
 */
public record Description(String text, ShapeColor color, ShapeKind shape, ShapeSize size, Position position) {

  /** Whether this text is true of {@code scene}: every attribute it names matches. */
  public boolean describes(Scene scene) {
    return (color == null || color == scene.color())
        && (shape == null || shape == scene.shape())
        && (size == null || size == scene.size())
        && (position == null || position == scene.position());
  }
}
