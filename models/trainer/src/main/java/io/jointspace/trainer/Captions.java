package io.jointspace.trainer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The caption grammar and the closed vocabulary of the shapes world.
 *
 * <p>Canonical captions name all four attributes: "a small red circle on the left",
 * "a large orange square at the top" ("an" before a vowel). Training samples varied
 * descriptions of each scene (optional size and position, prefixes such as "a photo of",
 * a trailing period) so that the zero-shot labels "a photo of a red circle." are in
 * distribution, and sometimes only the shape ("a star") or only the color ("a red shape"),
 * which pushes the image tower to keep color and shape apart: what lets it name color+shape
 * combinations it never saw. Every word any caption or template uses is in
 * {@link #vocabulary()}.
 */
public final class Captions {
  /** Prefixes training puts before the noun phrase; "" is the bare form. */
  public static final List<String> PREFIXES =
      List.of("", "a photo of", "a picture of", "an image of", "a rendering of", "a drawing of");

  /**
   * Zero-shot prompt templates; %s is the noun phrase with its article ("a red circle").
   * The first is the label form "a photo of a {color} {shape}.".
   */
  public static final List<String> ZERO_SHOT_TEMPLATES =
      List.of("a photo of %s.", "%s", "a picture of %s.", "an image of %s.");

  private static final List<String> GLUE = List.of(
      "a", "an", "photo", "picture", "image", "rendering", "drawing", "of", ".",
      "on", "at", "in", "the", "shape");
  private static final List<String> PLACES = List.of("left", "right", "top", "bottom", "center");

  private Captions() {}

  /** "a small red circle on the left". */
  public static String canonical(Scene s) {
    return describe(s.color(), s.shape(), s.size(), s.position(), "", false);
  }

  /**
   * A caption with optional size and position (null leaves them out), a prefix from
   * {@link #PREFIXES} and an optional final period.
   */
  public static String describe(ShapeColor color, ShapeKind shape, ShapeSize size, Position position,
      String prefix, boolean period) {
    String noun = (size == null ? "" : size.word() + " ") + (color == null ? "" : color.word() + " ")
        + (shape == null ? "shape" : shape.word());
    StringBuilder b = new StringBuilder();
    if (!prefix.isEmpty()) {
      b.append(prefix).append(' ');
    }
    b.append(withArticle(noun));
    if (position != null) {
      b.append(' ').append(position.phrase());
    }
    if (period) {
      b.append('.');
    }
    return b.toString();
  }

  /** "a red circle", "an orange star". */
  public static String withArticle(String nounPhrase) {
    return ("aeiou".indexOf(nounPhrase.charAt(0)) >= 0 ? "an " : "a ") + nounPhrase;
  }

  /** The zero-shot label text for {@code combo} in {@code template} (one of {@link #ZERO_SHOT_TEMPLATES}). */
  public static String label(Combo combo, String template) {
    return template.formatted(withArticle(combo.words()));
  }

  /**
   * A random true description of {@code scene} for training: the canonical caption 35% of
   * the time; otherwise color and shape (45%), only the shape (10%) or only the color
   * ("a red shape", 10%), size and position each kept with probability 0.6, a random prefix
   * and, after a prefix, a period half the time.
   */
  public static Description sample(Scene scene, SplittableRandom rng) {
    double kind = rng.nextDouble();
    if (kind < 0.35) {
      return new Description(canonical(scene), scene.color(), scene.shape(), scene.size(), scene.position());
    }
    ShapeColor color = kind >= 0.9 ? null : scene.color();
    ShapeKind shape = kind >= 0.8 && kind < 0.9 ? null : scene.shape();
    ShapeSize size = rng.nextDouble() < 0.6 ? scene.size() : null;
    Position position = rng.nextDouble() < 0.6 ? scene.position() : null;
    String prefix = PREFIXES.get(rng.nextInt(PREFIXES.size()));
    boolean period = !prefix.isEmpty() && rng.nextBoolean();
    String text = describe(color, shape, size, position, prefix, period);
    return new Description(text, color, shape, size, position);
  }

  /** Every word of the grammar, in a fixed order (the tokenizer's ids follow it). */
  public static List<String> vocabulary() {
    List<String> words = new ArrayList<>(GLUE);
    for (ShapeSize s : ShapeSize.values()) {
      words.add(s.word());
    }
    for (ShapeColor c : ShapeColor.values()) {
      words.add(c.word());
    }
    for (ShapeKind k : ShapeKind.values()) {
      words.add(k.word());
    }
    words.addAll(PLACES);
    return List.copyOf(words);
  }
}
