package io.jointspace.trainer;

/**
 * One synthetic scene: what it shows (the caption's attributes) and every random choice
 * needed to render it, so {@link SceneGenerator#render(Scene)} is a pure function.
 *
 * @param shapeRgb the jittered shape color, 0xRRGGBB
 * @param backgroundRgb the background color, 0xRRGGBB
 * @param rotation radians
 * @param dx horizontal offset from the position's anchor, fraction of the width
 * @param dy vertical offset, fraction of the height
 * @param scale size jitter, multiplies the size's radius
 * @param noise amplitude of uniform pixel noise, in 0..255 units
 * @param noiseSeed seed of the pixel noise
 */
public record Scene(
    ShapeColor color, ShapeKind shape, ShapeSize size, Position position,
    int shapeRgb, int backgroundRgb, double rotation, double dx, double dy, double scale,
    int noise, long noiseSeed) {

  public Combo combo() {
    return new Combo(color, shape);
  }

  /** The canonical caption, e.g. "a small red circle on the left". */
  public String caption() {
    return Captions.canonical(this);
  }
}
