package io.jointspace.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jointspace.server.errors.InvalidInputException;
import org.junit.jupiter.api.Test;

class ConsistencyTokenTest {

  @Test
  void token_roundTripsPostgresLsnText_andOrdersAsUnsignedPositions() {
    ConsistencyToken t = ConsistencyToken.parse("16/B374D848", "consistency_token");
    assertThat(t.lsn()).isEqualTo(0x16L << 32 | 0xB374D848L);
    assertThat(t.toString()).isEqualTo("16/B374D848");
    assertThat(ConsistencyToken.parse("0/3000148", "f")).isLessThan(ConsistencyToken.parse("0/3000149", "f"));
    assertThat(ConsistencyToken.parse("FFFFFFFF/0", "f")).isGreaterThan(ConsistencyToken.parse("1/FFFFFFFF", "f"));
    assertThat(ConsistencyToken.parse("", "f").isNone()).isTrue();
    assertThat(ConsistencyToken.NONE.toString()).isEmpty();
  }

  @Test
  void malformedToken_isInvalidInput_namingTheField() {
    assertThatThrownBy(() -> ConsistencyToken.parse("yesterday", "consistency_token"))
        .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("consistency_token ");
    assertThatThrownBy(() -> ConsistencyToken.parse("1/2/3", "f")).isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> ConsistencyToken.parse("123456789/0", "f")).isInstanceOf(InvalidInputException.class);
  }
}
