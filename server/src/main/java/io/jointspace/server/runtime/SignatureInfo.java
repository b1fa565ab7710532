package io.jointspace.server.runtime;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * A signature as the SavedModel records it (read from the raw SignatureDef, so unknown
 * ranks stay unknown). Inputs and outputs are sorted by key.
 */
public record SignatureInfo(
    String name, String methodName, Map<String, TensorSpec> inputs, Map<String, TensorSpec> outputs) {

  static SignatureInfo of(String name, SignatureDef def) {
    return new SignatureInfo(
        name, def.getMethodName(), specs(def.getInputsMap()), specs(def.getOutputsMap()));
  }

  private static Map<String, TensorSpec> specs(Map<String, TensorInfo> infos) {
    Map<String, TensorSpec> out = new TreeMap<>();
    infos.forEach((key, info) -> out.put(key, spec(key, info)));
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
