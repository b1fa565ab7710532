package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.jointspace.api.inference.InferTensorContents;
import io.jointspace.api.inference.ModelInferRequest.InferInputTensor;
import io.jointspace.api.v1.DataType;
import io.jointspace.api.v1.Tensor;
import io.jointspace.server.FuzzBudget;
import io.jointspace.server.FuzzTry;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.DType;
import io.jointspace.server.runtime.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.annotation.Nullable;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Fuzzes {@link TensorMapper}: KServe v2 input tensors (a datatype string, typed contents or
 * {@code raw_input_contents}) and Jointspace {@link Tensor}s (a dtype enum, typed values or
 * {@code raw_content}), with negative and overflowing dimensions (2^31 x 2^31, Long.MIN_VALUE),
 * shapes whose element count is far above what the message holds, contents one short or one
 * over, in the wrong field or in two, raw bytes of the wrong length, and BYTES elements whose
 * length prefixes lie. Each becomes a tensor of exactly the shape and dtype asked, holding
 * exactly the values sent (and the same again through the KServe output mappings), or
 * {@link InvalidInputException}; never an allocation sized by a claimed shape.
 */
@AddLifecycleHook(FuzzBudget.class)
class TensorMapperFuzzTest {
  static final Duration TIME_LIMIT = Duration.ofSeconds(10);
  /** Most values a generated tensor carries, whatever its shape claims. */
  static final int MAX_VALUES = 2048;

  static final long[] DIMS = {-1, 0, 1, 2, 3, 4, 7, 46341, 65536, (1L << 31) - 1, 1L << 31, 1L << 32, 1L << 62,
      Long.MAX_VALUE, Long.MIN_VALUE};

  /** How the values are given. */
  enum Mode { TYPED, TYPED_WRONG_FIELD, TYPED_TWO_FIELDS, RAW, RAW_BYTES_LYING, RAW_RANDOM, RAW_AND_TYPED }

  /**
   * One tensor, as what to build: the proto is made in the property from these numbers (and
   * {@code seed} for the values), so that jqwik shrinks the numbers, not the message.
   */
  record Case(boolean kserve, String datatype, List<Long> shape, Mode mode, int delta, int field, long seed,
      boolean inRange) {
    Case(boolean kserve, String datatype, List<Long> shape, Mode mode, int delta, int field, long seed) {
      this(kserve, datatype, shape, mode, delta, field, seed, false);
    }
  }

  static final String[] DATATYPES = {"BOOL", "UINT8", "UINT16", "INT32", "INT64", "FP16", "BF16", "FP32", "FP64", "BYTES",
      "fp32", "Int64", "bytes", "", "INT8", "INT16", "UINT32", "UINT64", "FP8", "STRING", "FP32 ", "\u0131nt32", "DT_FLOAT",
      "DATA_TYPE_UNSPECIFIED", "UNRECOGNIZED", "\u0000"};

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<Long> dim = Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.longs().between(0, 6)),
        Tuple.of(1, Arbitraries.of(Arrays.stream(DIMS).boxed().toList())));
    Arbitrary<String> datatype = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.of(Arrays.copyOf(DATATYPES, 10))),
        Tuple.of(1, Arbitraries.of(DATATYPES)), Tuple.of(1, Arbitraries.strings().ofMaxLength(6)));
    Arbitrary<Mode> mode = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(Mode.TYPED)),
        Tuple.of(4, Arbitraries.just(Mode.RAW)), Tuple.of(3, Arbitraries.of(Mode.class)));
    Arbitrary<Integer> delta = Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.just(0)),
        Tuple.of(1, Arbitraries.integers().between(-3, 3)));
    return Combinators.combine(Arbitraries.of(true, false), datatype, dim.list().ofMaxSize(5), mode, delta,
        Arbitraries.integers().between(0, 7), Arbitraries.longs())
        .as(Case::new);
  }

  // ------------------------------------------------------------ building the protos

  static DType dtypeOf(String datatype) {
    try {
      return DType.valueOf(datatype.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The element count the shape claims, or -1 where it is negative or overflows. */
  static long claimed(List<Long> shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        return -1;
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        return -1;
      }
    }
    return n;
  }

  /** What the property sends: one of the two protos, the raw bytes beside a KServe one, and the values in it. */
  record Built(@Nullable InferInputTensor infer, @Nullable ByteString raw, @Nullable Tensor tensor, long wireBytes,
      int values) {}

  static Built build(Case c) {
    Random rnd = new Random(c.seed());
    DType d = dtypeOf(c.datatype());
    long n = claimed(c.shape());
    int count = (int) Math.max(0, Math.min(n < 0 ? rnd.nextInt(8) : n, MAX_VALUES) + c.delta());
    int field = c.mode() == Mode.TYPED_WRONG_FIELD ? c.field() : typedField(d);
    ByteString raw = null;
    boolean typed = c.mode() == Mode.TYPED || c.mode() == Mode.TYPED_WRONG_FIELD || c.mode() == Mode.TYPED_TWO_FIELDS
        || c.mode() == Mode.RAW_AND_TYPED;
    switch (c.mode()) {
      case RAW, RAW_AND_TYPED -> raw = d == DType.BYTES ? bytesElements(rnd, count, false) : randomBytes(rnd,
          (int) Math.max(0, Math.min((long) count * (d == null ? 4 : d.byteSize()), 1 << 16) + c.delta()));
      case RAW_BYTES_LYING -> raw = bytesElements(rnd, count, true);
      case RAW_RANDOM -> raw = randomBytes(rnd, rnd.nextInt(64));
      default -> { }
    }
    int values = typed ? count : 0;
    if (c.kserve()) {
      InferTensorContents.Builder contents = InferTensorContents.newBuilder();
      if (typed) {
        fillContents(contents, field, count, rnd, c.inRange());
        if (c.mode() == Mode.TYPED_TWO_FIELDS) {
          fillContents(contents, (field + 1 + c.field() % 7) % 8, 1 + rnd.nextInt(3), rnd, false);
        }
      }
      InferInputTensor in = InferInputTensor.newBuilder().setName("x").setDatatype(c.datatype()).addAllShape(c.shape())
          .setContents(contents).build();
      return new Built(in, raw, null, in.getSerializedSize() + (raw == null ? 0 : raw.size()), values);
    }
    Tensor.Builder t = Tensor.newBuilder().setDtypeValue(wireDtype(c.datatype())).addAllShape(c.shape());
    if (raw != null) {
      t.setRawContent(raw);
    }
    if (typed) {
      fillTensor(t, field, count, rnd, c.inRange());
      if (c.mode() == Mode.TYPED_TWO_FIELDS) {
        fillTensor(t, (field + 1 + c.field() % 5) % 6, 1 + rnd.nextInt(3), rnd, false);
      }
    }
    Tensor tensor = t.build();
    return new Built(null, null, tensor, tensor.getSerializedSize(), values);
  }

  /** The enum number for a datatype name; names that are none: a number that may be none either (an unknown enum value on the wire). */
  static int wireDtype(String datatype) {
    try {
      DataType d = DataType.valueOf(datatype.toUpperCase(java.util.Locale.ROOT).trim());
      return d == DataType.UNRECOGNIZED ? 99 : d.getNumber();
    } catch (IllegalArgumentException e) {
      return Math.floorMod(datatype.hashCode(), 16);
    }
  }

  /** The typed field a dtype's values go in: 0 bool, 1 int, 2 int64, 3 uint, 4 fp32, 5 fp64, 6 bytes, 7 uint64. */
  static int typedField(@Nullable DType d) {
    if (d == null) {
      return 4;
    }
    return switch (d) {
      case BOOL -> 0;
      case INT32 -> 1;
      case INT64 -> 2;
      case UINT8, UINT16 -> 3;
      case FP32, FP16, BF16 -> 4;
      case FP64 -> 5;
      case BYTES -> 6;
    };
  }

  static int smallInt(Random rnd) {
    return switch (rnd.nextInt(6)) {
      case 0 -> rnd.nextInt(256);
      case 1 -> rnd.nextInt(65536);
      case 2 -> -1 - rnd.nextInt(10);
      case 3 -> Integer.MIN_VALUE + rnd.nextInt(3);
      case 4 -> 65536 + rnd.nextInt(3);
      default -> rnd.nextInt();
    };
  }

  static float anyFloat(Random rnd) {
    return switch (rnd.nextInt(5)) {
      case 0 -> Float.NaN;
      case 1 -> Float.intBitsToFloat(rnd.nextInt()); // any bit pattern, NaN payloads among them
      case 2 -> rnd.nextBoolean() ? Float.POSITIVE_INFINITY : -0.0f;
      default -> (float) rnd.nextGaussian();
    };
  }

  /** {@code inRange}: only values the dtype holds (UINT8 and UINT16 within 0..255). */
  static void fillContents(InferTensorContents.Builder c, int field, int count, Random rnd, boolean inRange) {
    for (int i = 0; i < count; i++) {
      switch (field) {
        case 0 -> c.addBoolContents(rnd.nextBoolean());
        case 1 -> c.addIntContents(smallInt(rnd));
        case 2 -> c.addInt64Contents(rnd.nextLong());
        case 3 -> c.addUintContents(rnd.nextInt(8) == 0 && !inRange ? smallInt(rnd) : rnd.nextInt(256));
        case 4 -> c.addFp32Contents(anyFloat(rnd));
        case 5 -> c.addFp64Contents(Double.longBitsToDouble(rnd.nextLong()));
        case 6 -> c.addBytesContents(ByteString.copyFrom(randomBytes(rnd, rnd.nextInt(9)).toByteArray()));
        default -> c.addUint64Contents(rnd.nextLong());
      }
    }
  }

  static void fillTensor(Tensor.Builder t, int field, int count, Random rnd, boolean inRange) {
    for (int i = 0; i < count; i++) {
      switch (field % 7) {
        case 0 -> t.addBoolVal(rnd.nextBoolean());
        case 1, 3 -> t.addIntVal(rnd.nextInt(8) == 0 && !inRange ? smallInt(rnd) : rnd.nextInt(256));
        case 2 -> t.addInt64Val(rnd.nextLong());
        case 4 -> t.addFloatVal(anyFloat(rnd));
        case 5 -> t.addDoubleVal(Double.longBitsToDouble(rnd.nextLong()));
        default -> t.addBytesVal(randomBytes(rnd, rnd.nextInt(9)));
      }
    }
  }

  static ByteString randomBytes(Random rnd, int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return ByteString.copyFrom(b);
  }

  /** BYTES as KServe raw: a 4-byte little-endian length before each element; lying ones claim other lengths. */
  static ByteString bytesElements(Random rnd, int count, boolean lie) {
    ByteBuffer b = ByteBuffer.allocate(count * 12 + 16).order(ByteOrder.LITTLE_ENDIAN);
    int liar = lie ? rnd.nextInt(count + 1) : -1;
    for (int i = 0; i < count; i++) {
      int len = rnd.nextInt(8);
      if (i == liar) {
        int[] lies = {-1, Integer.MIN_VALUE, Integer.MAX_VALUE, len + 1, 1 << 20, 0xfffffff0};
        b.putInt(lies[rnd.nextInt(lies.length)]);
      } else {
        b.putInt(len);
      }
      byte[] e = new byte[len];
      rnd.nextBytes(e);
      b.put(e);
    }
    if (lie && liar == count) {
      b.put((byte) 1).put((byte) 2); // a length cut short at the end
    }
    return ByteString.copyFrom(b.array(), 0, b.position());
  }

  // ------------------------------------------------------------ the property

  @BeforeContainer
  static void warmUp() {
    // class loading (exceptions, protobuf, the mapper) is paid once, not by the first tries
    for (String datatype : DATATYPES) {
      for (Mode mode : Mode.values()) {
        for (boolean kserve : new boolean[] {true, false}) {
          Built b = build(new Case(kserve, datatype, List.of(2L, 3L), mode, 0, 1, 42));
          try {
            if (kserve) {
              TensorMapper.fromInfer(b.infer(), b.raw(), 3);
            } else {
              TensorMapper.fromProto(b.tensor(), "inputs[3].tensor");
            }
          } catch (InvalidInputException refused) {
            // half of them
          }
        }
      }
    }
  }

  @Property(tries = 3000)
  void anyTensor_isExactlyWhatWasSent_orRefused(@ForAll("cases") Case c) {
    Built b = build(c);
    FuzzTry.Outcome<TensorData> out = FuzzTry.run(TIME_LIMIT, () -> c.kserve()
        ? TensorMapper.fromInfer(b.infer(), b.raw(), 3)
        : TensorMapper.fromProto(b.tensor(), "inputs[3].tensor"));
    TensorData d = out.valueOrOnly(InvalidInputException.class);
    Statistics.label("outcome").collect(d == null ? "refused" : "accepted");
    // the values copied once or twice, boxed ints among them; never the claimed shape
    out.allocatedAtMost(16L * b.wireBytes() + 64L * b.values() + (256 << 10), "a message of " + b.wireBytes() + " bytes");
    if (d == null) {
      String message = out.error().getMessage();
      if (c.kserve()) {
        assertThat(message.startsWith("inputs[3]") || message.startsWith("raw_input_contents[3]"))
            .as("names the field: %s", message).isTrue();
      } else {
        assertThat(message).as("names the field").startsWith("inputs[3].tensor");
      }
      return;
    }
    long[] shape = c.shape().stream().mapToLong(Long::longValue).toArray();
    assertThat(d.shape()).containsExactly(shape);
    long n = d.elementCount();
    if (d.dtype() == DType.BYTES) {
      assertThat(d.strings()).hasSize((int) n);
    } else {
      assertThat(d.bytes()).hasSize((int) (n * d.dtype().byteSize()));
    }
    assertSentValues(c, b, d);
    // back out through the KServe output mappings, and in again
    TensorData viaRaw = TensorMapper.fromInfer(InferInputTensor.newBuilder().setDatatype(d.dtype().name())
        .addAllShape(c.shape()).build(), TensorMapper.raw(d), 0);
    assertSame(viaRaw, d);
    // typed contents only where the server sends them: FP16 and BF16 have no typed field
    InferTensorContents contents = d.dtype() == DType.FP16 || d.dtype() == DType.BF16 ? null : TensorMapper.contents(d);
    if (contents != null) {
      TensorData viaContents = TensorMapper.fromInfer(InferInputTensor.newBuilder().setDatatype(d.dtype().name())
          .addAllShape(c.shape()).setContents(contents).build(), null, 0);
      assertSame(viaContents, d);
    }
  }

  /** Tensors as documented: a supported datatype, a small shape, the values in its field or raw, of the right count. */
  @Provide
  Arbitrary<Case> goodCases() {
    Arbitrary<String> datatype = Arbitraries.of(Arrays.copyOf(DATATYPES, 13)); // the ten names, three in other cases
    return Combinators.combine(Arbitraries.of(true, false), datatype,
        Arbitraries.longs().between(0, 6).list().ofMaxSize(4), Arbitraries.of(Mode.TYPED, Mode.RAW), Arbitraries.longs())
        .as((kserve, d, shape, mode, seed) -> {
          boolean half = d.equalsIgnoreCase("FP16") || d.equalsIgnoreCase("BF16");
          return new Case(kserve, d, shape, half ? Mode.RAW : mode, 0, 0, seed, true);
        });
  }

  @Property(tries = 1000)
  void tensorsAsDocumented_areAlwaysTaken(@ForAll("goodCases") Case c) {
    Built b = build(c);
    FuzzTry.Outcome<TensorData> out = FuzzTry.run(TIME_LIMIT, () -> c.kserve()
        ? TensorMapper.fromInfer(b.infer(), b.raw(), 3)
        : TensorMapper.fromProto(b.tensor(), "inputs[3].tensor"));
    TensorData d = out.valueOrOnly();
    assertThat(d.shape()).containsExactly(c.shape().stream().mapToLong(Long::longValue).toArray());
    assertSentValues(c, b, d);
  }

  static void assertSame(TensorData a, TensorData b) {
    assertThat(a.sameTypeAndShape(b)).as("%s vs %s", a, b).isTrue();
    if (a.dtype() == DType.BYTES) {
      assertThat(a.strings()).containsExactlyElementsOf(b.strings());
    } else {
      assertThat(a.bytes()).isEqualTo(b.bytes());
    }
  }

  /** The tensor's elements are the values sent: the raw bytes, or the typed values encoded little-endian. */
  static void assertSentValues(Case c, Built b, TensorData d) {
    ByteString raw = c.kserve() ? b.raw() : b.tensor().getRawContent().isEmpty() ? null : b.tensor().getRawContent();
    if (raw != null) {
      if (d.dtype() == DType.BYTES) {
        ByteBuffer in = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] s : d.strings()) {
          byte[] e = new byte[in.getInt()];
          in.get(e);
          assertThat(s).isEqualTo(e);
        }
        assertThat(in.hasRemaining()).isFalse();
      } else if (d.dtype() == DType.BOOL) {
        byte[] bools = raw.toByteArray();
        for (int i = 0; i < bools.length; i++) {
          bools[i] = (byte) (bools[i] == 0 ? 0 : 1); // any non-zero byte is true
        }
        assertThat(d.bytes()).isEqualTo(bools);
      } else {
        assertThat(d.bytes()).isEqualTo(raw.toByteArray());
      }
      return;
    }
    if (d.dtype() == DType.FP16 || d.dtype() == DType.BF16) {
      assertThat(d.bytes()).as("half precision without raw bytes: no elements").isEmpty();
      return;
    }
    ByteBuffer got = d.dtype() == DType.BYTES ? null : ByteBuffer.wrap(d.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    List<Object> sent = new ArrayList<>();
    if (c.kserve()) {
      InferTensorContents v = b.infer().getContents();
      switch (d.dtype()) {
        case BOOL -> sent.addAll(v.getBoolContentsList());
        case INT32 -> sent.addAll(v.getIntContentsList());
        case INT64 -> sent.addAll(v.getInt64ContentsList());
        case UINT8, UINT16 -> sent.addAll(v.getUintContentsList());
        case FP32 -> sent.addAll(v.getFp32ContentsList());
        case FP64 -> sent.addAll(v.getFp64ContentsList());
        case BYTES -> sent.addAll(v.getBytesContentsList());
        default -> throw new AssertionError(d.dtype() + " has no typed field");
      }
    } else {
      Tensor t = b.tensor();
      switch (d.dtype()) {
        case BOOL -> sent.addAll(t.getBoolValList());
        case INT32, UINT8, UINT16 -> sent.addAll(t.getIntValList());
        case INT64 -> sent.addAll(t.getInt64ValList());
        case FP32 -> sent.addAll(t.getFloatValList());
        case FP64 -> sent.addAll(t.getDoubleValList());
        case BYTES -> sent.addAll(t.getBytesValList());
        default -> throw new AssertionError(d.dtype() + " has no typed field");
      }
    }
    assertThat(sent).hasSize((int) d.elementCount());
    for (int i = 0; i < sent.size(); i++) {
      Object v = sent.get(i);
      Object g = switch (d.dtype()) {
        case BOOL -> got.get() != 0;
        case INT32 -> got.getInt();
        case UINT8 -> got.get() & 0xff;
        case UINT16 -> got.getShort() & 0xffff;
        case INT64 -> got.getLong();
        case FP32 -> got.getFloat();
        case FP64 -> got.getDouble();
        case BYTES -> ByteString.copyFrom(d.strings().get(i));
        default -> throw new AssertionError();
      };
      if (v instanceof Float f) {
        assertThat(Float.floatToRawIntBits((Float) g)).as("element %d", i).isEqualTo(Float.floatToRawIntBits(f));
      } else if (v instanceof Double x) {
        assertThat(Double.doubleToRawLongBits((Double) g)).as("element %d", i).isEqualTo(Double.doubleToRawLongBits(x));
      } else {
        assertThat(g).as("element %d", i).isEqualTo(v);
      }
    }
  }
}
