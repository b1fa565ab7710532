package io.jointspace.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LabelTargetTest {
  @Test
  void oneVersion_takesEveryCall() {
    LabelTarget t = LabelTarget.version(3);
    assertThat(t.isSplit()).isFalse();
    assertThat(t.pick(null)).isEqualTo(3);
    assertThat(t.pick("key")).isEqualTo(3);
    assertThat(t).hasToString("3");
  }

  @Test
  void primary_isTheLargestShare_newestOnATie() {
    assertThat(LabelTarget.version(3).primary()).isEqualTo(3);
    assertThat(LabelTarget.split(Map.of(2L, 90, 3L, 10)).primary()).isEqualTo(2);
    assertThat(LabelTarget.split(Map.of(2L, 10, 3L, 90)).primary()).isEqualTo(3);
    assertThat(LabelTarget.split(Map.of(2L, 50, 3L, 50)).primary()).isEqualTo(3);
  }

  @Test
  void split_keysSpreadByWeight_andEachKeyStaysPut() {
    LabelTarget t = LabelTarget.split(Map.of(2L, 90, 3L, 10));
    assertThat(t).hasToString("{2: 90, 3: 10}");
    int toThree = 0;
    for (int i = 0; i < 10_000; i++) {
      long v = t.pick("caller-" + i);
      assertThat(t.pick("caller-" + i)).isEqualTo(v);
      toThree += v == 3 ? 1 : 0;
    }
    assertThat(toThree).as("keys on version 3 of 10000 at 10%").isBetween(850, 1150);
  }

  @Test
  void badWeightsAndVersions_areRefused() {
    assertThatThrownBy(() -> LabelTarget.split(Map.of())).hasMessageContaining("at least one version");
    assertThatThrownBy(() -> LabelTarget.split(Map.of(2L, 0))).hasMessageContaining("weight of version 2");
    assertThatThrownBy(() -> LabelTarget.version(0)).hasMessageContaining("positive");
  }
}
