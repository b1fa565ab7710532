package io.jointspace.server.api;

import com.google.inject.Inject;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.InferParameter;
import io.jointspace.api.inference.InferTensorContents;
import io.jointspace.api.inference.ModelInferRequest;
import io.jointspace.api.inference.ModelInferRequest.InferInputTensor;
import io.jointspace.api.inference.ModelInferRequest.InferRequestedOutputTensor;
import io.jointspace.api.inference.ModelInferResponse;
import io.jointspace.api.inference.ModelMetadataRequest;
import io.jointspace.api.inference.ModelMetadataResponse;
import io.jointspace.api.inference.ModelReadyRequest;
import io.jointspace.api.inference.ModelReadyResponse;
import io.jointspace.api.inference.ServerLiveRequest;
import io.jointspace.api.inference.ServerLiveResponse;
import io.jointspace.api.inference.ServerMetadataRequest;
import io.jointspace.api.inference.ServerMetadataResponse;
import io.jointspace.api.inference.ServerReadyRequest;
import io.jointspace.api.inference.ServerReadyResponse;
import io.jointspace.registry.ModelHandle;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelRequest;
import io.jointspace.server.runtime.DType;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.runtime.SignatureInfo;
import io.jointspace.server.runtime.TensorData;
import io.jointspace.server.runtime.TensorSpec;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * KServe Open Inference Protocol v2 ({@code inference.GRPCInferenceService}) over every
 * SavedModel: tensor names are signature keys, the request parameter {@code signature_name}
 * picks a signature, typed contents and raw bytes both work. With batching on, a signature
 * whose inputs and outputs all have the batch as their first dimension runs through its batch
 * queue: the rows of concurrent calls share session runs.
 */
public final class InferenceServiceImpl extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  static final String SIGNATURE_PARAMETER = "signature_name";
  static final String BINARY_OUTPUT_PARAMETER = "binary_output";
  static final String PLATFORM = "tensorflow_savedmodel";

  private final ModelManager<ModelVersion> registry;
  private final ServerState state;

  @Inject
  public InferenceServiceImpl(ModelManager<ModelVersion> registry, ServerState state) {
    this.registry = registry;
    this.state = state;
  }

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> observer) {
    StatusMapper.answer(observer, () -> ServerLiveResponse.newBuilder().setLive(true).build());
  }

  @Override
  public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> observer) {
    StatusMapper.answer(observer, () -> ServerReadyResponse.newBuilder().setReady(state.isReady()).build());
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> observer) {
    StatusMapper.answer(observer, () -> {
      ModelRequest wanted = ProtoMapper.modelRequest(request.getName(), request.getVersion(), "name");
      List<Long> available = registry.availableVersions(wanted.name());
      boolean ready = wanted.version().isPresent()
          ? available.contains(wanted.version().getAsLong())
          : !available.isEmpty();
      return ModelReadyResponse.newBuilder().setReady(ready).build();
    });
  }

  @Override
  public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> observer) {
    StatusMapper.answer(observer, () -> ServerMetadataResponse.newBuilder()
        .setName("jointspace")
        .setVersion(ServerInfo.version())
        .build());
  }

  @Override
  public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> observer) {
    StatusMapper.answer(observer, () -> {
      ModelRequest wanted = ProtoMapper.modelRequest(request.getName(), request.getVersion(), "name");
      try (ModelHandle<ModelVersion> handle = CallModel.acquire(registry, wanted)) {
        ModelMetadataResponse.Builder out = ModelMetadataResponse.newBuilder()
            .setName(handle.id().name())
            .setPlatform(PLATFORM);
        registry.availableVersions(handle.id().name()).forEach(v -> out.addVersions(Long.toString(v)));
        handle.get().defaultSignature().map(handle.get().signatures()::get).ifPresent(sig -> {
          sig.inputs().values().forEach(t -> out.addInputs(tensorMetadata(t)));
          sig.outputs().values().forEach(t -> out.addOutputs(tensorMetadata(t)));
        });
        return out.build();
      }
    });
  }

  private static ModelMetadataResponse.TensorMetadata tensorMetadata(TensorSpec t) {
    ModelMetadataResponse.TensorMetadata.Builder b = ModelMetadataResponse.TensorMetadata.newBuilder()
        .setName(t.key())
        .setDatatype(ModelServiceImpl.typeName(t));
    if (t.rankKnown()) {
      for (long d : t.shape()) {
        b.addShape(d);
      }
    } else {
      b.addShape(-1); // unknown rank: any shape
    }
    return b.build();
  }

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> observer) {
    StatusMapper.answer(observer, () -> infer(request));
  }

  private ModelInferResponse infer(ModelInferRequest request) {
    ModelRequest wanted = ProtoMapper.modelRequest(request.getModelName(), request.getModelVersion(), "model_name");
    String signatureName = stringParameter(request.getParametersMap(), SIGNATURE_PARAMETER);
    boolean rawIn = request.getRawInputContentsCount() > 0;
    if (rawIn && request.getRawInputContentsCount() != request.getInputsCount()) {
      throw new InvalidInputException("raw_input_contents has " + request.getRawInputContentsCount()
          + " entries but inputs has " + request.getInputsCount() + "; give one per input, in order");
    }
    Map<String, TensorData> inputs = new LinkedHashMap<>();
    for (int i = 0; i < request.getInputsCount(); i++) {
      InferInputTensor in = request.getInputs(i);
      if (in.getName().isEmpty()) {
        throw new InvalidInputException("inputs[" + i + "].name is empty");
      }
      if (inputs.containsKey(in.getName())) {
        throw new InvalidInputException("inputs[" + i + "].name '" + in.getName() + "' appears twice");
      }
      inputs.put(in.getName(), TensorMapper.fromInfer(in, rawIn ? request.getRawInputContents(i) : null, i));
    }
    List<String> outputs = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    boolean binaryOutput = rawIn || boolParameter(request.getParametersMap(), BINARY_OUTPUT_PARAMETER);
    for (int i = 0; i < request.getOutputsCount(); i++) {
      InferRequestedOutputTensor out = request.getOutputs(i);
      if (!seen.add(out.getName())) {
        throw new InvalidInputException("outputs[" + i + "].name '" + out.getName() + "' appears twice");
      }
      outputs.add(out.getName());
      binaryOutput |= boolParameter(out.getParametersMap(), BINARY_OUTPUT_PARAMETER);
    }
    try (ModelHandle<ModelVersion> handle = CallModel.acquire(registry, wanted)) {
      ModelVersion model = handle.get();
      SignatureInfo sig;
      try {
        sig = model.signature(signatureName);
      } catch (InvalidInputException e) {
        throw e.at("parameters[\"" + SIGNATURE_PARAMETER + "\"]");
      }
      Map<String, TensorData> results;
      try (GrpcCallScope call = GrpcCallScope.current()) {
        results = model.call(sig, inputs, outputs, call.scope());
      }
      boolean raw = binaryOutput
          || results.values().stream().anyMatch(d -> d.dtype() == DType.FP16 || d.dtype() == DType.BF16);
      ModelInferResponse.Builder response = ModelInferResponse.newBuilder()
          .setModelName(handle.id().name())
          .setModelVersion(Long.toString(handle.id().version()))
          .setId(request.getId());
      results.forEach((name, data) -> {
        ModelInferResponse.InferOutputTensor.Builder t = ModelInferResponse.InferOutputTensor.newBuilder()
            .setName(name)
            .setDatatype(data.dtype().name());
        for (long d : data.shape()) {
          t.addShape(d);
        }
        if (raw) {
          response.addRawOutputContents(TensorMapper.raw(data));
        } else {
          InferTensorContents contents = TensorMapper.contents(data);
          t.setContents(contents);
        }
        response.addOutputs(t);
      });
      return response.build();
    }
  }

  private static String stringParameter(Map<String, InferParameter> params, String name) {
    InferParameter p = params.get(name);
    if (p == null) {
      return "";
    }
    if (p.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.STRING_PARAM) {
      throw new InvalidInputException("parameters[\"" + name + "\"] must be a string_param");
    }
    return p.getStringParam();
  }

  private static boolean boolParameter(Map<String, InferParameter> params, String name) {
    InferParameter p = params.get(name);
    if (p == null) {
      return false;
    }
    if (p.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.BOOL_PARAM) {
      throw new InvalidInputException("parameters[\"" + name + "\"] must be a bool_param");
    }
    return p.getBoolParam();
  }

}
