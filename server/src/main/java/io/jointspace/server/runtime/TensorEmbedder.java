package io.jointspace.server.runtime;

import io.jointspace.server.errors.InvalidInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Embeds raw tensor inputs with any signature that has one input: each input is one row,
 * and the signature's output, flattened per row, is its embedding. When the signature's
 * first dimension is the batch (-1), the inputs run as rows of one batch (through the
 * signature's queue when it has one); otherwise each input runs on its own.
 */
final class TensorEmbedder {
  private TensorEmbedder() {}

  /**
   * A batched signature's rows go through its batch queue when it has one, within {@code scope}.
   *
   * @param fieldPrefix how the request names its inputs in messages, e.g. "inputs"
   * @return one vector per input, in input order, all of the same length
   * @throws InvalidInputException naming the input index for a bad input
   */
  static List<float[]> embed(Signatures signatures, SavedModel model, SignatureInfo sig, TensorSpec input,
      String outputKey, List<TensorData> rows, String fieldPrefix, CallScope scope) {
    TensorSpec output = sig.outputs().get(outputKey);
    DType outType = output.dtype().orElse(DType.BYTES);
    if (outType == DType.BYTES || outType == DType.BOOL) {
      throw new InvalidInputException("output '" + outputKey + "' of signature '" + sig.name()
          + "' is " + DType.tfName(output.tfType()) + ", not a numeric embedding");
    }
    for (int i = 0; i < rows.size(); i++) {
      checkRow(input, rows.get(i), fieldPrefix + "[" + i + "].tensor");
    }
    List<float[]> out;
    if (input.batched()) {
      for (int i = 1; i < rows.size(); i++) {
        if (!Arrays.equals(rows.get(i).shape(), rows.get(0).shape())) {
          throw new InvalidInputException(fieldPrefix + "[" + i + "].tensor has shape "
              + Arrays.toString(rows.get(i).shape()) + " but " + fieldPrefix + "[0].tensor has "
              + Arrays.toString(rows.get(0).shape()) + "; inputs of one request are batched together");
        }
      }
      // the call's signature, inputs and output checked before any row joins a queue where it
      // could fail others' rows (every row has the first one's shape, checked above)
      model.check(sig, Map.of(input.key(), TensorData.stack(rows.subList(0, 1))), List.of(outputKey));
      List<Row> batch = new ArrayList<>(rows.size());
      for (TensorData row : rows) {
        batch.add(new Row(Map.of(input.key(), row), List.of(outputKey)));
      }
      out = new ArrayList<>(rows.size());
      for (List<TensorData> outputs : Signatures.join(signatures.submitRows(sig, batch, scope, null))) {
        out.add(outputs.get(0).toFloats());
      }
    } else {
      out = new ArrayList<>(rows.size());
      for (TensorData row : rows) {
        out.add(model.run(sig, Map.of(input.key(), row), List.of(outputKey)).get(outputKey).toFloats());
      }
    }
    for (int i = 1; i < out.size(); i++) {
      if (out.get(i).length != out.get(0).length) {
        throw new InvalidInputException(fieldPrefix + "[" + i + "] gave an embedding of "
            + out.get(i).length + " values but " + fieldPrefix + "[0] gave " + out.get(0).length);
      }
    }
    return out;
  }

  private static void checkRow(TensorSpec spec, TensorData row, String field) {
    try {
      spec.check(row, true);
    } catch (InvalidInputException e) {
      throw e.at(field);
    }
  }
}
