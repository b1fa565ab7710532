package io.jointspace.server.runtime;

import io.jointspace.server.errors.InvalidInputException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * A signature as the SavedModel records it (read from the raw SignatureDef, so unknown
 * ranks stay unknown). Inputs and outputs are sorted by key.
 */
public record SignatureInfo(
    String name, String methodName, Map<String, TensorSpec> inputs, Map<String, TensorSpec> outputs) {

  /**
   * @param placeholderTypes graph placeholder name to its dtype ({@link #placeholderTypes}):
   *     an input whose declared dtype disagrees with the placeholder it feeds takes the
   *     placeholder's (as TF Serving, which feeds the graph; e.g. TF Serving's
   *     saved_model_half_plus_three declares a DT_STRING Example input as DT_FLOAT)
   */
  static SignatureInfo of(String name, SignatureDef def, Map<String, DataType> placeholderTypes) {
    return new SignatureInfo(
        name, def.getMethodName(), specs(def.getInputsMap(), placeholderTypes), specs(def.getOutputsMap(), Map.of()));
  }

  /** The dtype of every Placeholder / PlaceholderWithDefault node in the graph, by node name. */
  static Map<String, DataType> placeholderTypes(GraphDef graph) {
    Map<String, DataType> out = new HashMap<>();
    for (NodeDef node : graph.getNodeList()) {
      if ((node.getOp().equals("Placeholder") || node.getOp().equals("PlaceholderWithDefault"))
          && node.containsAttr("dtype")) {
        out.put(node.getName(), node.getAttrOrThrow("dtype").getType());
      }
    }
    return out;
  }

  private static Map<String, TensorSpec> specs(Map<String, TensorInfo> infos, Map<String, DataType> placeholderTypes) {
    Map<String, TensorSpec> out = new TreeMap<>();
    infos.forEach((key, info) -> {
      TensorSpec spec = spec(key, info);
      String tensor = spec.tensorName();
      int colon = tensor.lastIndexOf(':');
      DataType actual = placeholderTypes.get(colon < 0 ? tensor : tensor.substring(0, colon));
      if (actual != null && actual != spec.tfType() && actual != DataType.DT_INVALID) {
        spec = new TensorSpec(key, tensor, actual, spec.shape(), spec.rankKnown());
      }
      out.put(key, spec);
    });
    return Collections.unmodifiableMap(out);
  }

  private static TensorSpec spec(String key, TensorInfo info) {
    TensorShapeProto shape = info.getTensorShape();
    boolean rankKnown = info.hasTensorShape() && !shape.getUnknownRank();
    long[] dims = new long[rankKnown ? shape.getDimCount() : 0];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = shape.getDim(i).getSize();
    }
    DataType type = info.getDtype();
    if (type.getNumber() > 100 && DataType.forNumber(type.getNumber() - 100) != null) {
      type = DataType.forNumber(type.getNumber() - 100);
    }
    String tensorName = info.getEncodingCase() == TensorInfo.EncodingCase.NAME ? info.getName() : "";
    return new TensorSpec(key, tensorName, type, dims, rankKnown);
  }

  /** The single input, if the signature has exactly one. */
  public TensorSpec onlyInput() {
    if (inputs.size() != 1) {
      throw new InvalidInputException(
          "signature '" + name + "' takes " + inputs.size() + " inputs " + inputs.keySet()
              + "; name the one to feed");
    }
    return inputs.values().iterator().next();
  }

  /** Output keys in order. */
  public List<String> outputKeys() {
    return new ArrayList<>(outputs.keySet());
  }
}
