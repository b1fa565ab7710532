package io.jointspace.server.api;

import com.google.protobuf.ByteString;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.TensorData;
import io.jointspace.tensorflow.example.Example;
import io.jointspace.tensorflow.serving.Input;
import java.util.ArrayList;
import java.util.List;

/**
 * TF Serving's {@code Input} as what a classify or regress signature takes: a 1-D DT_STRING
 * tensor of serialized tf.Examples, one row per example, in input order. With a context, each
 * row is the context followed by the example: parsed, that is the two merged, the example's own
 * features winning over the context's (TF Serving serializes them the same way).
 */
final class ExampleInput {
  private ExampleInput() {}

  /**
   * @param field the request field that holds the input, for messages ("input")
   * @throws InvalidInputException when the input holds no examples
   */
  static TensorData serialized(Input input, String field) {
    List<byte[]> rows = new ArrayList<>();
    switch (input.getKindCase()) {
      case EXAMPLE_LIST -> input.getExampleList().getExamplesList().forEach(e -> rows.add(e.toByteArray()));
      case EXAMPLE_LIST_WITH_CONTEXT -> {
        ByteString context = input.getExampleListWithContext().getContext().toByteString();
        for (Example e : input.getExampleListWithContext().getExamplesList()) {
          rows.add(context.concat(e.toByteString()).toByteArray());
        }
      }
      case KIND_NOT_SET -> throw InvalidInputException.of(field,
          "is empty; set example_list or example_list_with_context");
    }
    if (rows.isEmpty()) {
      throw InvalidInputException.of(field + "." + (input.hasExampleList() ? "example_list" : "example_list_with_context")
          + ".examples", "is empty; give at least one tf.Example");
    }
    return TensorData.ofStrings(new long[] {rows.size()}, rows);
  }
}
