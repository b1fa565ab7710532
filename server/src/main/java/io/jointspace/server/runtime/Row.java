package io.jointspace.server.runtime;

import java.util.List;
import java.util.Map;

/**
 * One row of a signature call: one row of every input, and the outputs its call fetches. For
 * a text row, {@code length} is its length bucket's key: the number of real tokens of a
 * tokenized text ({@code tokens}: its sequences hold those tokens first, then padding, and may
 * be cut to its bucket), else the length fed, which is never cut.
 */
record Row(Map<String, TensorData> inputs, List<String> fetch, int length, boolean tokens) {
  Row(Map<String, TensorData> inputs, List<String> fetch) {
    this(inputs, fetch, 0, false);
  }

  /** Whether the two rows can run in one session call: same inputs, shapes, types and fetches. */
  boolean alike(Row other) {
    if (this == other) {
      return true;
    }
    if (!fetch.equals(other.fetch) || !inputs.keySet().equals(other.inputs.keySet())) {
      return false;
    }
    for (Map.Entry<String, TensorData> e : inputs.entrySet()) {
      if (!e.getValue().sameTypeAndShape(other.inputs.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
