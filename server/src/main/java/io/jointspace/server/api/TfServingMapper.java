package io.jointspace.server.api;

import com.google.protobuf.Int64Value;
import io.jointspace.registry.ModelRequest;
import io.jointspace.registry.ServableId;
import io.jointspace.registry.VersionStatus;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.SignatureInfo;
import io.jointspace.server.runtime.TensorSpec;
import io.jointspace.tensorflow.error.Code;
import io.jointspace.tensorflow.framework.DataType;
import io.jointspace.tensorflow.framework.TensorShapeProto;
import io.jointspace.tensorflow.protobuf.SignatureDef;
import io.jointspace.tensorflow.protobuf.TensorInfo;
import io.jointspace.tensorflow.serving.ModelSpec;
import io.jointspace.tensorflow.serving.ModelVersionStatus;
import io.jointspace.tensorflow.serving.SignatureDefMap;
import io.jointspace.tensorflow.serving.StatusProto;
import java.util.Map;

/**
 * Maps TF Serving's API messages (package {@code tensorflow.serving}) to registry and runtime
 * values and back: a ModelSpec to a {@link ModelRequest}, the version that answered to the
 * ModelSpec a response echoes, signatures to SignatureDefs, version states to TF Serving's.
 */
final class TfServingMapper {
  static final String PREDICT_METHOD = "tensorflow/serving/predict";
  static final String CLASSIFY_METHOD = "tensorflow/serving/classify";
  static final String REGRESS_METHOD = "tensorflow/serving/regress";

  private TfServingMapper() {}

  /**
   * What {@code spec} asks the registry for: its version, else its version_label (a Jointspace
   * label such as stable or canary), else the newest AVAILABLE version.
   *
   * @param field the request field that holds the spec, for messages ("model_spec")
   */
  static ModelRequest modelRequest(ModelSpec spec, String field) {
    if (spec.getName().isEmpty()) {
      throw InvalidInputException.of(field + ".name", "is empty");
    }
    return switch (spec.getVersionChoiceCase()) {
      case VERSION -> ModelRequest.version(spec.getName(), spec.getVersion().getValue());
      case VERSION_LABEL -> {
        if (spec.getVersionLabel().isEmpty()) {
          throw InvalidInputException.of(field + ".version_label", "is empty");
        }
        yield ModelRequest.label(spec.getName(), spec.getVersionLabel());
      }
      case VERSIONCHOICE_NOT_SET -> ModelRequest.latest(spec.getName());
    };
  }

  /** The ModelSpec a response carries: the model, the version that answered, and the signature (empty: none). */
  static ModelSpec echo(ServableId id, String signatureName) {
    return ModelSpec.newBuilder()
        .setName(id.name())
        .setVersion(Int64Value.of(id.version()))
        .setSignatureName(signatureName)
        .build();
  }

  /** Every signature as TF Serving's GetModelMetadata reports it (the init op is not among them). */
  static SignatureDefMap signatureDefs(Map<String, SignatureInfo> signatures) {
    SignatureDefMap.Builder out = SignatureDefMap.newBuilder();
    signatures.forEach((name, sig) -> {
      SignatureDef.Builder def = SignatureDef.newBuilder().setMethodName(sig.methodName());
      sig.inputs().forEach((key, t) -> def.putInputs(key, tensorInfo(t)));
      sig.outputs().forEach((key, t) -> def.putOutputs(key, tensorInfo(t)));
      out.putSignatureDef(name, def.build());
    });
    return out.build();
  }

  private static TensorInfo tensorInfo(TensorSpec t) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder().setUnknownRank(!t.rankKnown());
    for (long d : t.shape()) {
      shape.addDimBuilder().setSize(d);
    }
    // TensorSpec already reports reference types (DT_FLOAT_REF) by their base type
    return TensorInfo.newBuilder()
        .setName(t.tensorName())
        .setDtypeValue(t.tfType().getNumber())
        .setTensorShape(shape)
        .build();
  }

  /**
   * One version's state in TF Serving's terms: NEW is START, ERROR is END with the load error
   * in {@code status} (code UNKNOWN: a load failure has no code of its own).
   */
  static ModelVersionStatus versionStatus(VersionStatus s) {
    ModelVersionStatus.State state = switch (s.state()) {
      case NEW -> ModelVersionStatus.State.START;
      case LOADING -> ModelVersionStatus.State.LOADING;
      case AVAILABLE -> ModelVersionStatus.State.AVAILABLE;
      case UNLOADING -> ModelVersionStatus.State.UNLOADING;
      case END, ERROR -> ModelVersionStatus.State.END;
    };
    StatusProto.Builder status = StatusProto.newBuilder();
    if (s.state() == io.jointspace.registry.ModelState.ERROR) {
      status.setErrorCode(Code.UNKNOWN).setErrorMessage(s.lastError().isEmpty() ? "the version failed to load" : s.lastError());
    }
    return ModelVersionStatus.newBuilder()
        .setVersion(s.id().version())
        .setState(state)
        .setStatus(status)
        .build();
  }

  /** Whether {@code type} is the dtype of serialized Examples (DT_STRING). */
  static boolean isString(TensorSpec t) {
    return t.tfType().getNumber() == DataType.DT_STRING_VALUE;
  }
}
