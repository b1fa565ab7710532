package io.jointspace.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SceneGeneratorTest {

  @Test
  void sameSeed_givesSameScenesCaptionsAndPixels() {
    SceneGenerator a = new SceneGenerator(42, Split.ALL, 64, 64);
    SceneGenerator b = new SceneGenerator(42, Split.ALL, 64, 64);
    for (int i = 0; i < 20; i++) {
      Scene sa = a.next();
      Scene sb = b.next();
      assertThat(sa).isEqualTo(sb);
      assertThat(sa.caption()).isEqualTo(sb.caption());
      assertThat(pixels(a.render(sa))).isEqualTo(pixels(b.render(sb)));
    }
  }

  @Test
  void render_isAPureFunctionOfTheScene() {
    SceneGenerator g = new SceneGenerator(3, Split.ALL, 64, 64);
    Scene s = g.next();
    int[] first = pixels(g.render(s));
    g.next(10);
    assertThat(pixels(g.render(s))).isEqualTo(first);
  }

  @Test
  void differentSeeds_giveDifferentScenes() {
    List<Scene> a = new SceneGenerator(1, Split.ALL, 64, 64).next(10);
    List<Scene> b = new SceneGenerator(2, Split.ALL, 64, 64).next(10);
    assertThat(a).isNotEqualTo(b);
  }

  @Test
  void trainSplit_neverGeneratesHeldOutCombos_butCoversEveryOtherCombo() {
    SceneGenerator g = new SceneGenerator(5, Split.TRAIN, 64, 64);
    Set<Combo> seen = new HashSet<>();
    for (int i = 0; i < 5000; i++) {
      Combo c = g.next().combo();
      assertThat(Combo.HELD_OUT).doesNotContain(c);
      seen.add(c);
    }
    assertThat(seen).hasSize(48 - Combo.HELD_OUT.size());
  }

  @Test
  void heldOutSplit_generatesOnlyHeldOutCombos() {
    SceneGenerator g = new SceneGenerator(5, Split.HELD_OUT, 64, 64);
    for (int i = 0; i < 500; i++) {
      assertThat(Combo.HELD_OUT).contains(g.next().combo());
    }
  }

  @Test
  void heldOutCombos_leaveEveryColorAndShapeInTraining() {
    assertThat(Combo.HELD_OUT).hasSize(6);
    Set<ShapeColor> colors = EnumSet.noneOf(ShapeColor.class);
    Set<ShapeKind> shapes = EnumSet.noneOf(ShapeKind.class);
    for (Combo c : Combo.all()) {
      if (!c.heldOut()) {
        colors.add(c.color());
        shapes.add(c.shape());
      }
    }
    assertThat(colors).containsExactlyInAnyOrder(ShapeColor.values());
    assertThat(shapes).containsExactlyInAnyOrder(ShapeKind.values());
  }

  @Test
  void background_isNeverCloseToTheShapeColor() {
    SceneGenerator g = new SceneGenerator(9, Split.ALL, 64, 64);
    for (int i = 0; i < 2000; i++) {
      Scene s = g.next();
      assertThat(SceneGenerator.distance(s.backgroundRgb(), s.shapeRgb())).isGreaterThanOrEqualTo(SceneGenerator.MIN_CONTRAST);
    }
  }

  @Test
  void render_drawsTheShapeWhereThePositionSays() {
    SceneGenerator g = new SceneGenerator(11, Split.ALL, 64, 64);
    for (int i = 0; i < 200; i++) {
      Scene s = g.next();
      BufferedImage img = g.render(s);
      // centroid of pixels closer to the shape color than to the background
      double sx = 0;
      double sy = 0;
      int n = 0;
      for (int y = 0; y < 64; y++) {
        for (int x = 0; x < 64; x++) {
          int p = img.getRGB(x, y) & 0xFFFFFF;
          if (SceneGenerator.distance(p, s.shapeRgb()) < SceneGenerator.distance(p, s.backgroundRgb())) {
            sx += x;
            sy += y;
            n++;
          }
        }
      }
      assertThat(n).as("shape pixels of %s", s.caption()).isGreaterThan(s.size() == ShapeSize.SMALL ? 40 : 150);
      assertThat(sx / n / 64).as("x of %s", s.caption()).isCloseTo(s.position().x(), org.assertj.core.data.Offset.offset(0.1));
      assertThat(sy / n / 64).as("y of %s", s.caption()).isCloseTo(s.position().y(), org.assertj.core.data.Offset.offset(0.1));
    }
  }

  private static int[] pixels(BufferedImage img) {
    return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
  }
}
