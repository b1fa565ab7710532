package io.jointspace.trainer;

/** Which color and shape combinations a {@link SceneGenerator} draws from. */
public enum Split {
  /** Every combination except {@link Combo#HELD_OUT}. */
  TRAIN,
  /** Only {@link Combo#HELD_OUT}. */
  HELD_OUT,
  /** All 48 combinations. */
  ALL;

  boolean admits(Combo combo) {
    return switch (this) {
      case TRAIN -> !combo.heldOut();
      case HELD_OUT -> combo.heldOut();
      case ALL -> true;
    };
  }
}
