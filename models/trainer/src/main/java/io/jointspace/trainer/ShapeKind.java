package io.jointspace.trainer;

/** The shapes a scene can show, with the word that names each. */
public enum ShapeKind {
  CIRCLE("circle"),
  SQUARE("square"),
  TRIANGLE("triangle"),
  STAR("star"),
  HEXAGON("hexagon"),
  CROSS("cross");

  private final String word;

  ShapeKind(String word) {
    this.word = word;
  }

  public String word() {
    return word;
  }
}
