package io.jointspace.server.runtime;

import io.jointspace.server.errors.InvalidInputException;
import java.util.Optional;
import org.tensorflow.proto.DataType;

/**
 * One input or output of a signature.
 *
 * @param key the signature's key (what requests name)
 * @param tensorName the graph tensor, for example {@code x:0}
 * @param tfType the declared TensorFlow type (reference types already mapped to their base)
 * @param shape the declared dimensions, -1 for any size; empty when the rank is unknown or 0
 * @param rankKnown false when the model records no rank
 */
public record TensorSpec(String key, String tensorName, DataType tfType, long[] shape, boolean rankKnown) {

  /** The server type, empty for types it cannot feed (e.g. DT_INT8). */
  public Optional<DType> dtype() {
    return DType.fromTf(tfType);
  }

  /** Whether the first dimension is a batch dimension (-1), or the rank is unknown. */
  public boolean batched() {
    return !rankKnown || (shape.length > 0 && shape[0] == -1);
  }

  /** Dimensions after the batch dimension; meaningful when {@link #batched()} with a known rank. */
  public long[] rowShape() {
    return shape.length == 0 ? shape : java.util.Arrays.copyOfRange(shape, 1, shape.length);
  }

  /** The shape for messages: "[-1, 4]", or "unknown" rank. */
  public String shapeText() {
    return rankKnown ? java.util.Arrays.toString(shape) : "unknown";
  }

  /**
   * Checks {@code data} against this spec.
   *
   * @throws InvalidInputException naming what differs
   */
  public void check(TensorData data) {
    check(data, false);
  }

  /**
   * Checks only {@code data}'s dtype, as TensorFlow itself and TF Serving do: the shape a
   * signature records is not enforced, the graph's own ops decide.
   *
   * @throws InvalidInputException naming the dtypes, without a field prefix
   */
  public void checkType(TensorData data) {
    DType want = dtype().orElseThrow(() -> new InvalidInputException(
        "needs dtype " + DType.tfName(tfType) + ", which the server cannot feed"));
    if (data.dtype() != want) {
      throw new InvalidInputException("has dtype " + data.dtype() + " but signature input '" + key
          + "' needs " + want);
    }
  }

  /**
   * Checks {@code data} against this spec; with {@code row}, {@code data} is one row of a
   * batch and is compared with the shape after the batch dimension (when there is one).
   *
   * @throws InvalidInputException naming what differs, without a field prefix
   */
  public void check(TensorData data, boolean row) {
    checkType(data);
    if (!rankKnown) {
      return;
    }
    boolean perRow = row && batched();
    long[] expected = perRow ? rowShape() : shape;
    long[] got = data.shape();
    boolean ok = got.length == expected.length;
    for (int i = 0; ok && i < expected.length; i++) {
      ok = expected[i] < 0 || expected[i] == got[i];
    }
    if (!ok) {
      throw new InvalidInputException("has shape " + java.util.Arrays.toString(got)
          + " but signature input '" + key + "' needs " + java.util.Arrays.toString(expected)
          + (perRow ? " per row (batch dimension left out)" : ""));
    }
  }
}
