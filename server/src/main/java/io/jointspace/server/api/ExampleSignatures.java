package io.jointspace.server.api;

import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.CallScope;
import io.jointspace.server.runtime.DType;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.runtime.SignatureInfo;
import io.jointspace.server.runtime.TensorData;
import io.jointspace.tensorflow.serving.Class;
import io.jointspace.tensorflow.serving.ClassificationResult;
import io.jointspace.tensorflow.serving.Classifications;
import io.jointspace.tensorflow.serving.Regression;
import io.jointspace.tensorflow.serving.RegressionResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * TF Serving's Classify and Regress over a model's signatures: which signatures qualify, and
 * the results they give, checked and shaped as TF Serving does.
 *
 * <p>A signature qualifies when it takes one input {@code "inputs"} of serialized Examples
 * (DT_STRING) and has the outputs of its kind: {@code "classes"} (DT_STRING) and/or
 * {@code "scores"} (DT_FLOAT), both {@code [examples, classes]}, for classify; one
 * {@code "outputs"} (DT_FLOAT, {@code [examples]} or {@code [examples, 1]}) for regress. Its
 * method_name must be the kind's, or {@code tensorflow/serving/predict}: TF2 exports mark every
 * signature predict, and TF Serving (without its opt-in method name check) serves them by
 * their inputs and outputs alone. A signature of the other kind's method_name is refused.
 * The run goes through the signature's batch queue like any other call.
 */
final class ExampleSignatures {
  static final String INPUTS = "inputs";
  static final String CLASSES = "classes";
  static final String SCORES = "scores";
  static final String OUTPUTS = "outputs";

  /** Classify or regress. */
  enum Kind {
    CLASSIFY(TfServingMapper.CLASSIFY_METHOD, "classification"),
    REGRESS(TfServingMapper.REGRESS_METHOD, "regression");

    final String method;
    final String noun;

    Kind(String method, String noun) {
      this.method = method;
      this.noun = noun;
    }

    /** The kind a MultiInference task's method_name names, if any. */
    static java.util.Optional<Kind> of(String methodName) {
      return Arrays.stream(values()).filter(k -> k.method.equals(methodName)).findFirst();
    }
  }

  private ExampleSignatures() {}

  /**
   * The signature {@code name} (empty: the default one), if it qualifies for {@code kind}.
   *
   * @param field the request field that names the signature, for messages
   * @throws InvalidInputException naming {@code field} when there is no such signature or it
   *     does not qualify, and why
   */
  static SignatureInfo select(ModelVersion model, String name, Kind kind, String field) {
    SignatureInfo sig;
    try {
      sig = model.signature(name);
    } catch (InvalidInputException e) {
      throw e.at(field);
    }
    String method = sig.methodName();
    if (!method.equals(kind.method) && !method.equals(TfServingMapper.PREDICT_METHOD)) {
      throw InvalidInputException.of(field, "names signature '" + sig.name() + "': expected " + kind.noun
          + " signature method_name to be " + kind.method + ". Was: " + method);
    }
    String what = "names signature '" + sig.name() + "', which is not a " + kind.noun + " signature: ";
    if (sig.inputs().size() != 1 || !sig.inputs().containsKey(INPUTS)) {
      throw InvalidInputException.of(field, what + "it takes inputs " + sig.inputs().keySet()
          + " where one input \"" + INPUTS + "\" of serialized tf.Examples is expected");
    }
    if (!TfServingMapper.isString(sig.inputs().get(INPUTS))) {
      throw InvalidInputException.of(field, what + "its input \"" + INPUTS + "\" is "
          + sig.inputs().get(INPUTS).tfType() + ", not DT_STRING serialized tf.Examples");
    }
    boolean ok = kind == Kind.CLASSIFY
        ? (sig.outputs().size() == 1 || sig.outputs().size() == 2)
            && (sig.outputs().containsKey(CLASSES) || sig.outputs().containsKey(SCORES))
        : sig.outputs().size() == 1 && sig.outputs().containsKey(OUTPUTS);
    if (!ok) {
      throw InvalidInputException.of(field, what + "its outputs are " + sig.outputs().keySet() + " where "
          + (kind == Kind.CLASSIFY ? "\"" + CLASSES + "\" and/or \"" + SCORES + "\"" : "one \"" + OUTPUTS + "\"")
          + " are expected");
    }
    return sig;
  }

  /** Runs a classification signature {@link #select} chose on {@code examples} ({@link ExampleInput}). */
  static ClassificationResult classify(ModelVersion model, SignatureInfo sig, TensorData examples, CallScope scope) {
    List<String> fetch = new ArrayList<>();
    for (String key : List.of(CLASSES, SCORES)) {
      if (sig.outputs().containsKey(key)) {
        fetch.add(key);
      }
    }
    Map<String, TensorData> out = model.call(sig, Map.of(INPUTS, examples), fetch, scope);
    int n = Math.toIntExact(examples.dim(0));
    TensorData classes = out.get(CLASSES);
    TensorData scores = out.get(SCORES);
    int width = -1;
    if (classes != null) {
      width = perExample(sig, CLASSES, classes, DType.BYTES, n);
    }
    if (scores != null) {
      int w = perExample(sig, SCORES, scores, DType.FP32, n);
      if (width >= 0 && w != width) {
        throw new InvalidInputException("signature '" + sig.name() + "' returned " + width + " classes but " + w
            + " scores per example; they must match");
      }
      width = w;
    }
    List<byte[]> labels = classes == null ? null : classes.strings();
    float[] values = scores == null ? null : scores.toFloats();
    ClassificationResult.Builder result = ClassificationResult.newBuilder();
    for (int i = 0; i < n; i++) {
      Classifications.Builder c = result.addClassificationsBuilder();
      for (int j = 0; j < width; j++) {
        Class.Builder cl = c.addClassesBuilder();
        if (labels != null) {
          cl.setLabel(new String(labels.get(i * width + j), java.nio.charset.StandardCharsets.UTF_8));
        }
        if (values != null) {
          cl.setScore(values[i * width + j]);
        }
      }
    }
    return result.build();
  }

  /** Runs a regression signature {@link #select} chose on {@code examples} ({@link ExampleInput}). */
  static RegressionResult regress(ModelVersion model, SignatureInfo sig, TensorData examples, CallScope scope) {
    TensorData out = model.call(sig, Map.of(INPUTS, examples), List.of(OUTPUTS), scope).get(OUTPUTS);
    int n = Math.toIntExact(examples.dim(0));
    long[] shape = out.shape();
    boolean ok = out.dtype() == DType.FP32 && shape.length >= 1 && shape[0] == n
        && (shape.length == 1 || (shape.length == 2 && shape[1] == 1));
    if (!ok) {
      throw new InvalidInputException("signature '" + sig.name() + "' returned \"" + OUTPUTS + "\" as " + out
          + " for " + n + " examples; a regression needs FP32 [" + n + "] or [" + n + ", 1]");
    }
    RegressionResult.Builder result = RegressionResult.newBuilder();
    for (float v : out.toFloats()) {
      result.addRegressions(Regression.newBuilder().setValue(v));
    }
    return result.build();
  }

  /** Checks a classify output is {@code [n, k]} of {@code dtype}; returns k. */
  private static int perExample(SignatureInfo sig, String key, TensorData t, DType dtype, int n) {
    long[] shape = t.shape();
    if (t.dtype() != dtype || shape.length != 2 || shape[0] != n) {
      throw new InvalidInputException("signature '" + sig.name() + "' returned \"" + key + "\" as " + t + " for " + n
          + " examples; a classification needs " + dtype + " [" + n + ", classes]");
    }
    return Math.toIntExact(shape[1]);
  }
}
