package io.jointspace.trainer;

/** Shape sizes: the radius of the shape's circumscribed circle, as a fraction of the image side. */
public enum ShapeSize {
  SMALL("small", 8.5 / 64),
  LARGE("large", 14.0 / 64);

  private final String word;
  private final double radius;

  ShapeSize(String word, double radius) {
    this.word = word;
    this.radius = radius;
  }

  public String word() {
    return word;
  }

  /** Radius as a fraction of the image's shorter side, before jitter. */
  public double radius() {
    return radius;
  }
}
