package io.jointspace.trainer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** A color and shape pair: the unit that zero-shot evaluation classifies and that training may hold out. */
public record Combo(ShapeColor color, ShapeKind shape) {

  /**
   * Six of the 48 combinations never rendered in training mode, chosen so each held-out
   * color and shape differs from the others: every color and every shape still appears in
   * training (with other partners), so the model can only get these right by composing.
   */
  public static final Set<Combo> HELD_OUT = Set.of(
      new Combo(ShapeColor.RED, ShapeKind.STAR),
      new Combo(ShapeColor.GREEN, ShapeKind.HEXAGON),
      new Combo(ShapeColor.BLUE, ShapeKind.CROSS),
      new Combo(ShapeColor.YELLOW, ShapeKind.CIRCLE),
      new Combo(ShapeColor.PURPLE, ShapeKind.TRIANGLE),
      new Combo(ShapeColor.ORANGE, ShapeKind.SQUARE));

  /** All 48 combinations, colors outer, shapes inner. */
  public static List<Combo> all() {
    List<Combo> all = new ArrayList<>();
    for (ShapeColor c : ShapeColor.values()) {
      for (ShapeKind s : ShapeKind.values()) {
        all.add(new Combo(c, s));
      }
    }
    return all;
  }

  public boolean heldOut() {
    return HELD_OUT.contains(this);
  }

  /** "red circle", "orange square". */
  public String words() {
    return color.word() + " " + shape.word();
  }
}
