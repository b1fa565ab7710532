package io.jointspace.server.runtime;

/** Whether a call's input shapes must fit the shapes its signature records. */
public enum Shapes {
  /**
   * Every input has the signature's rank and its fixed dimensions (Jointspace's and KServe's
   * APIs): a wrong shape is INVALID_ARGUMENT naming the input, before the model runs.
   */
  CHECKED,
  /**
   * Only the dtype is checked, as TensorFlow and TF Serving do: the graph's own ops decide
   * (TF Serving's clients send {@code [1]} to an {@code x} recorded as {@code [-1, 1]}).
   * Inputs whose shapes fit still share batches; the others run alone.
   */
  AS_TENSORFLOW
}
