package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.server.FuzzBudget;
import io.jointspace.server.FuzzTry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import org.tensorflow.Tensor;

/**
 * Fuzzes {@link TensorData} and {@link Tensors}: tensors of every dtype and of any small
 * shape (scalars, zero-sized dimensions, BYTES elements of any length, empty among them) come
 * back the same from a TensorFlow tensor, and split into rows and stacked again.
 */
@AddLifecycleHook(FuzzBudget.class)
class TensorDataFuzzTest {
  static final Duration TIME_LIMIT = Duration.ofSeconds(10);

  record Spec(DType dtype, List<Integer> shape, long seed) {
    TensorData build() {
      Random rnd = new Random(seed);
      long[] dims = shape.stream().mapToLong(Integer::longValue).toArray();
      int n = (int) TensorData.elementCount(dims);
      if (dtype == DType.BYTES) {
        List<byte[]> strings = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          byte[] s = new byte[rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(300)];
          rnd.nextBytes(s);
          strings.add(s);
        }
        return TensorData.ofStrings(dims, strings);
      }
      byte[] bytes = new byte[n * dtype.byteSize()];
      rnd.nextBytes(bytes);
      if (dtype == DType.BOOL) {
        for (int i = 0; i < bytes.length; i++) {
          bytes[i] &= 1; // TensorFlow's bools are 0 or 1; the mappers make them so
        }
      }
      return TensorData.ofBytes(dtype, dims, bytes);
    }
  }

  @Provide
  Arbitrary<Spec> specs() {
    return net.jqwik.api.Combinators.combine(Arbitraries.of(DType.class),
        Arbitraries.integers().between(0, 5).list().ofMaxSize(4), Arbitraries.longs()).as(Spec::new);
  }

  static void assertSame(TensorData a, TensorData b) {
    assertThat(a.sameTypeAndShape(b)).as("%s vs %s", a, b).isTrue();
    if (a.dtype() == DType.BYTES) {
      assertThat(a.strings()).containsExactlyElementsOf(b.strings());
    } else {
      assertThat(a.bytes()).isEqualTo(b.bytes());
    }
  }

  @Property(tries = 500)
  void anyTensor_comesBackTheSame_fromTensorFlow_andFromRows(@ForAll("specs") Spec spec) {
    TensorData data = spec.build();
    FuzzTry.Outcome<TensorData> out = FuzzTry.run(TIME_LIMIT, () -> {
      try (Tensor t = Tensors.toTensor(data)) {
        return Tensors.fromTensor(t);
      }
    });
    assertSame(out.valueOrOnly(), data);
    if (data.rank() > 0 && data.dim(0) > 0) {
      List<TensorData> rows = new ArrayList<>();
      for (int i = 0; i < data.dim(0); i++) {
        rows.add(data.row(i));
      }
      assertSame(TensorData.stack(rows), data);
    }
  }
}
