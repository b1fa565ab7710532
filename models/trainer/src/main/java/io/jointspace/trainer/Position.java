package io.jointspace.trainer;

/** Where in the image the shape sits, with the phrase a caption uses for it. */
public enum Position {
  LEFT("on the left", 0.28, 0.5),
  RIGHT("on the right", 0.72, 0.5),
  TOP("at the top", 0.5, 0.28),
  BOTTOM("at the bottom", 0.5, 0.72),
  CENTER("in the center", 0.5, 0.5);

  private final String phrase;
  private final double x;
  private final double y;

  Position(String phrase, double x, double y) {
    this.phrase = phrase;
    this.x = x;
    this.y = y;
  }

  public String phrase() {
    return phrase;
  }

  /** Center of the shape as a fraction of the width, before jitter. */
  public double x() {
    return x;
  }

  /** Center of the shape as a fraction of the height, before jitter. */
  public double y() {
    return y;
  }
}
