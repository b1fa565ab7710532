package io.jointspace.client.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jointspace.client.Filter;
import org.junit.jupiter.api.Test;

class FilterExpressionTest {
  @Test
  void andBindsTighterThanOr_valuesAreTyped() {
    assertThat(FilterExpression.parse("color = blue and n >= 10 or shape = 'a star'").toProto())
        .isEqualTo(Filter.eq("color", "blue").and(Filter.gte("n", 10)).or(Filter.eq("shape", "a star")).toProto());
    assertThat(FilterExpression.parse("not (a = true or exists b) and c != null").toProto())
        .isEqualTo(Filter.eq("a", true).or(Filter.exists("b")).not().and(Filter.ne("c", null)).toProto());
    assertThat(FilterExpression.parse("shape in (star, \"round circle\", 3)").toProto())
        .isEqualTo(Filter.in("shape", "star", "round circle", 3.0).toProto());
    assertThat(FilterExpression.parse("info.year < 2020").toProto()).isEqualTo(Filter.lt("info.year", 2020).toProto());
    // only plain decimal numbers are numbers
    assertThat(FilterExpression.parse("dims = 3d or n = NaN or x = -1.5e3").toProto()).isEqualTo(
        Filter.eq("dims", "3d").or(Filter.eq("n", "NaN")).or(Filter.eq("x", -1500.0)).toProto());
  }

  @Test
  void badExpressions_sayWhere() {
    assertThatThrownBy(() -> FilterExpression.parse("color =")).hasMessageContaining("expected a value");
    assertThatThrownBy(() -> FilterExpression.parse("color ~ blue")).hasMessageContaining("'~'");
    assertThatThrownBy(() -> FilterExpression.parse("(a = 1")).hasMessageContaining("expected ')'");
    assertThatThrownBy(() -> FilterExpression.parse("a = 1 b")).hasMessageContaining("unexpected 'b'");
  }
}
