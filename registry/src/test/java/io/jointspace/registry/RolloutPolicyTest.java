package io.jointspace.registry;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RolloutPolicyTest {

  private final RolloutPolicy policy = RolloutPolicy.availabilityPreserving();

  @Test
  void availabilityPreserving_unloadsAnOldVersion_onceAnAspiredVersionIsAvailable() {
    assertThat(policy.mayUnload(true, true)).isTrue();
  }

  @Test
  void availabilityPreserving_keepsAnOldVersion_whileNoAspiredVersionIsAvailable() {
    assertThat(policy.mayUnload(false, true)).isFalse();
  }

  @Test
  void availabilityPreserving_unloadsEverything_whenTheModelHasNoAspiredVersion() {
    assertThat(policy.mayUnload(false, false)).isTrue();
  }
}
