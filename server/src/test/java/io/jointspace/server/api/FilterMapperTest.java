package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Value;
import io.jointspace.api.v1.FieldValue;
import io.jointspace.api.v1.FieldValues;
import io.jointspace.api.v1.Filter;
import io.jointspace.server.store.LimitExceededException;
import io.jointspace.server.store.Limits;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class FilterMapperTest {
  /** Maps the filter, expecting a refusal; returns it and the bytes the mapping allocated. */
  private static Refusal refuse(Filter filter) {
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    FilterMapper.checkShape(Filter.getDefaultInstance(), "warm-up"); // class loading is not the filter's cost
    long before = threads.getCurrentThreadAllocatedBytes();
    RuntimeException thrown = null;
    try {
      FilterMapper.condition(filter, "filter");
    } catch (RuntimeException e) {
      thrown = e;
    }
    return new Refusal(thrown, threads.getCurrentThreadAllocatedBytes() - before);
  }

  private record Refusal(RuntimeException thrown, long allocated) {}

  @Test
  void inWithMoreValuesThanTheLimit_isRefusedBeforeAnyValueIsMapped() {
    // Found by FilterFuzzTest: the count was checked only after every value had been turned
    // into JSON text, about 440 bytes each.
    FieldValues.Builder in = FieldValues.newBuilder().setKey("a");
    for (int i = 0; i < 100_000; i++) {
      in.addValues(Value.newBuilder().setStringValue("value " + i));
    }
    Filter filter = Filter.newBuilder().setIn(in).build();
    Refusal r = refuse(filter);
    assertThat(r.thrown()).isInstanceOf(LimitExceededException.class)
        .hasMessage("filter.in.values has 100000 values, over the limit of " + Limits.MAX_IN_VALUES);
    assertThat(r.allocated()).isLessThan(256 << 10);
  }

  @Test
  void keyLongerThanTheLimit_isRefusedBeforeItIsSplit() {
    String key = "a.".repeat(500_000) + "a";
    Filter filter = Filter.newBuilder().setEquals(FieldValue.newBuilder().setKey(key)
        .setValue(Value.newBuilder().setNumberValue(1))).build();
    Refusal r = refuse(filter);
    assertThat(r.thrown()).isInstanceOf(LimitExceededException.class)
        .hasMessage("filter.equals.key is 1000001 characters, over the limit of " + Limits.MAX_KEY_CHARS);
    assertThat(r.allocated()).isLessThan(256 << 10);
  }
}
