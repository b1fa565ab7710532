package io.jointspace.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class VersionPolicyTest {

  private static NavigableSet<Long> present(long... versions) {
    TreeSet<Long> set = new TreeSet<>();
    for (long v : versions) {
      set.add(v);
    }
    return set;
  }

  @Test
  void latestByDefault_servesOnlyTheNewestVersion() {
    assertThat(VersionPolicy.latest()).isEqualTo(new VersionPolicy.Latest(1));
    assertThat(VersionPolicy.latest().select(present(1, 3, 2))).containsExactly(3L);
  }

  @Test
  void latestN_servesTheNewestN_inAscendingOrder() {
    assertThat(new VersionPolicy.Latest(2).select(present(1, 2, 3, 10))).containsExactly(3L, 10L);
  }

  @Test
  void latestN_servesWhatIsPresent_whenFewerThanN() {
    assertThat(new VersionPolicy.Latest(5).select(present(4, 7))).containsExactly(4L, 7L);
    assertThat(new VersionPolicy.Latest(5).select(present())).isEmpty();
  }

  @Test
  void latestN_rejectsACountBelowOne_namingTheField() {
    assertThatThrownBy(() -> new VersionPolicy.Latest(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("latest.num_versions")
        .hasMessageContaining("0");
    assertThatThrownBy(() -> new VersionPolicy.Latest(-3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-3");
  }

  @Test
  void all_servesEveryVersionPresent() {
    assertThat(new VersionPolicy.All().select(present(5, 1, 3))).containsExactly(1L, 3L, 5L);
    assertThat(new VersionPolicy.All().select(present())).isEmpty();
  }

  @Test
  void specific_servesOnlyTheNamedVersionsThatArePresent() {
    VersionPolicy policy = new VersionPolicy.Specific(Set.of(2L, 4L, 9L));

    assertThat(policy.select(present(1, 2, 3, 4))).containsExactly(2L, 4L);
    assertThat(policy.select(present(1, 3))).isEmpty();
  }

  @Test
  void specific_rejectsAnEmptySet_namingTheField() {
    assertThatThrownBy(() -> new VersionPolicy.Specific(Set.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("specific.versions");
  }

  @Test
  void specific_copiesItsVersions_soLaterChangesToTheCallersSetDoNotLeakIn() {
    Set<Long> mine = new HashSet<>(Set.of(1L));
    VersionPolicy policy = new VersionPolicy.Specific(mine);

    mine.add(2L);

    assertThat(policy.select(present(1, 2))).containsExactly(1L);
  }
}
