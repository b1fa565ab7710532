package io.jointspace.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ModelRequestTest {

  @Test
  void latest_namesNeitherVersionNorLabel() {
    ModelRequest r = ModelRequest.latest("clip");

    assertThat(r.name()).isEqualTo("clip");
    assertThat(r.version()).isEmpty();
    assertThat(r.label()).isNull();
    assertThat(r).hasToString("clip@latest");
  }

  @Test
  void versionAndLabelRequests_printWhatTheyAskFor() {
    assertThat(ModelRequest.version("clip", 3)).hasToString("clip@3");
    assertThat(ModelRequest.label("clip", "stable")).hasToString("clip@stable");
  }

  @Test
  void requestsForTheSameThing_areEqual() {
    assertThat(ModelRequest.version("clip", 3))
        .isEqualTo(ModelRequest.version("clip", 3))
        .hasSameHashCodeAs(ModelRequest.version("clip", 3))
        .isNotEqualTo(ModelRequest.version("clip", 4))
        .isNotEqualTo(ModelRequest.latest("clip"));
    assertThat(ModelRequest.label("clip", "stable")).isEqualTo(ModelRequest.label("clip", "stable"));
  }

  @Test
  void nullNameOrLabel_isRejected() {
    assertThatThrownBy(() -> ModelRequest.latest(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> ModelRequest.label("clip", null))
        .isInstanceOf(NullPointerException.class);
  }
}
