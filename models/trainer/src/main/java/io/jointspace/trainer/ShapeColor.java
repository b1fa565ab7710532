package io.jointspace.trainer;

/** The colors a scene's shape can have, with the word that names each and its base RGB. */
public enum ShapeColor {
  RED("red", 220, 30, 30),
  GREEN("green", 30, 165, 50),
  BLUE("blue", 35, 70, 225),
  YELLOW("yellow", 245, 220, 30),
  PURPLE("purple", 140, 45, 185),
  ORANGE("orange", 250, 135, 15),
  WHITE("white", 248, 248, 248),
  BLACK("black", 15, 15, 15);

  private final String word;
  private final int r;
  private final int g;
  private final int b;

  ShapeColor(String word, int r, int g, int b) {
    this.word = word;
    this.r = r;
    this.g = g;
    this.b = b;
  }

  public String word() {
    return word;
  }

  /** Base color as 0xRRGGBB; scenes jitter it slightly. */
  public int rgb() {
    return (r << 16) | (g << 8) | b;
  }
}
