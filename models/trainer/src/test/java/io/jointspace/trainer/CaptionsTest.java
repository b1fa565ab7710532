package io.jointspace.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class CaptionsTest {
  private static final Pattern CANONICAL = Pattern.compile(
      "(a|an) (small|large) (red|green|blue|yellow|purple|orange|white|black) (circle|square|triangle|star|hexagon|cross)"
          + " (on the left|on the right|at the top|at the bottom|in the center)");

  @Test
  void canonicalCaption_namesSizeColorShapeAndPosition() {
    Scene s = new Scene(ShapeColor.RED, ShapeKind.CIRCLE, ShapeSize.SMALL, Position.LEFT, 0, 0xFFFFFF, 0, 0, 0, 1, 0, 0);
    assertThat(s.caption()).isEqualTo("a small red circle on the left");
    SceneGenerator g = new SceneGenerator(1, Split.ALL, 64, 64);
    for (int i = 0; i < 500; i++) {
      assertThat(g.next().caption()).matches(CANONICAL);
    }
  }

  @Test
  void article_isAnBeforeAVowel() {
    assertThat(Captions.label(new Combo(ShapeColor.ORANGE, ShapeKind.STAR), "a photo of %s."))
        .isEqualTo("a photo of an orange star.");
    assertThat(Captions.label(new Combo(ShapeColor.RED, ShapeKind.STAR), "a photo of %s."))
        .isEqualTo("a photo of a red star.");
    assertThat(Captions.describe(ShapeColor.ORANGE, ShapeKind.CROSS, ShapeSize.LARGE, Position.TOP, "", false))
        .isEqualTo("a large orange cross at the top");
  }

  @Test
  void positionPhrases_areTheDocumentedOnes() {
    assertThat(Arrays.stream(Position.values()).map(Position::phrase))
        .containsExactly("on the left", "on the right", "at the top", "at the bottom", "in the center");
  }

  @Test
  void sampledDescriptions_areTrueOfTheirSceneAndUseOnlyVocabularyWords() {
    SceneGenerator g = new SceneGenerator(2, Split.TRAIN, 64, 64);
    SplittableRandom rng = new SplittableRandom(3);
    for (int i = 0; i < 2000; i++) {
      Scene s = g.next();
      Description d = Captions.sample(s, rng);
      assertThat(d.describes(s)).isTrue();
      assertThat(d.color() != null || d.shape() != null).isTrue();
      if (d.color() != null && d.shape() != null) {
        assertThat(d.text()).contains(s.color().word() + " " + s.shape().word());
      } else if (d.shape() == null) {
        assertThat(d.text()).contains(s.color().word() + " shape");
      } else {
        assertThat(d.text()).contains(s.shape().word()).doesNotContain(s.color().word());
      }
      for (String word : d.text().replace(".", " .").split(" ")) {
        assertThat(Captions.vocabulary()).contains(word);
      }
    }
  }

  @Test
  void description_withoutPosition_isTrueOfEveryPosition() {
    Description d = new Description("a red circle", ShapeColor.RED, ShapeKind.CIRCLE, null, null);
    for (Position p : Position.values()) {
      assertThat(d.describes(new Scene(ShapeColor.RED, ShapeKind.CIRCLE, ShapeSize.LARGE, p, 0, 0, 0, 0, 0, 1, 0, 0))).isTrue();
    }
    assertThat(d.describes(new Scene(ShapeColor.BLUE, ShapeKind.CIRCLE, ShapeSize.LARGE, Position.LEFT, 0, 0, 0, 0, 0, 1, 0, 0)))
        .isFalse();
  }
}
