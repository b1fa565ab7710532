package io.jointspace.server.api;

import com.google.inject.Inject;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.GetModelMetadataRequest;
import io.jointspace.api.v1.GetModelMetadataResponse;
import io.jointspace.api.v1.GetModelStatusRequest;
import io.jointspace.api.v1.GetModelStatusResponse;
import io.jointspace.api.v1.ListModelsRequest;
import io.jointspace.api.v1.ListModelsResponse;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.ModelSummary;
import io.jointspace.api.v1.SignatureMetadata;
import io.jointspace.registry.ModelHandle;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelNotFoundException;
import io.jointspace.registry.VersionStatus;
import io.jointspace.server.runtime.DType;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.runtime.SignatureInfo;
import io.jointspace.server.runtime.TensorSpec;
import java.util.List;
import java.util.Map;

/** {@code jointspace.v1.ModelService}: what the registry holds and what each version expects. */
public final class ModelServiceImpl extends ModelServiceGrpc.ModelServiceImplBase {
  private final ModelManager<ModelVersion> registry;

  @Inject
  public ModelServiceImpl(ModelManager<ModelVersion> registry) {
    this.registry = registry;
  }

  @Override
  public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> observer) {
    StatusMapper.answer(observer, () -> {
      ListModelsResponse.Builder out = ListModelsResponse.newBuilder();
      for (String name : registry.modelNames()) {
        Map<String, Long> labels = registry.labels(name);
        List<VersionStatus> statuses;
        try {
          statuses = registry.status(name);
        } catch (ModelNotFoundException gone) {
          continue; // left the repository between the two calls
        }
        out.addModels(ModelSummary.newBuilder()
            .setName(name)
            .addAllVersions(ProtoMapper.versionStatuses(statuses, labels))
            .putAllLabels(labels));
      }
      return out.build();
    });
  }

  @Override
  public void getModelStatus(GetModelStatusRequest request, StreamObserver<GetModelStatusResponse> observer) {
    StatusMapper.answer(observer, () -> {
      if (request.getName().isEmpty()) {
        throw new InvalidInputException("name is empty");
      }
      List<VersionStatus> statuses = registry.status(request.getName());
      if (request.getVersion() != 0) {
        statuses = statuses.stream().filter(s -> s.id().version() == request.getVersion()).toList();
        if (statuses.isEmpty()) {
          throw new ModelNotFoundException("model '" + request.getName() + "' has no version " + request.getVersion());
        }
      }
      return GetModelStatusResponse.newBuilder()
          .setName(request.getName())
          .addAllVersions(ProtoMapper.versionStatuses(statuses, registry.labels(request.getName())))
          .build();
    });
  }

  @Override
  public void getModelMetadata(GetModelMetadataRequest request, StreamObserver<GetModelMetadataResponse> observer) {
    StatusMapper.answer(observer, () -> {
      if (!request.hasModel()) {
        throw new InvalidInputException("model is not set");
      }
      try (ModelHandle<ModelVersion> handle = CallModel.acquire(registry, ProtoMapper.modelRequest(request.getModel(), "model"))) {
        ModelVersion model = handle.get();
        GetModelMetadataResponse.Builder out = GetModelMetadataResponse.newBuilder()
            .setModel(ProtoMapper.resolved(handle.id(), model.defaultSignature().orElse("")))
            .addAllTags(model.tags())
            .setEmbeddingDimension(model.embeddingDimension());
        model.encoder().ifPresent(e -> out.setEncoder(e.spec()));
        for (SignatureInfo sig : model.signatures().values()) {
          SignatureMetadata.Builder s = SignatureMetadata.newBuilder().setName(sig.name()).setMethodName(sig.methodName());
          sig.inputs().values().forEach(t -> s.addInputs(tensorSpec(t)));
          sig.outputs().values().forEach(t -> s.addOutputs(tensorSpec(t)));
          out.addSignatures(s);
        }
        return out.build();
      }
    });
  }

  private static io.jointspace.api.v1.TensorSpec tensorSpec(TensorSpec t) {
    io.jointspace.api.v1.TensorSpec.Builder b = io.jointspace.api.v1.TensorSpec.newBuilder()
        .setName(t.key())
        .setTensorName(t.tensorName())
        .setRankKnown(t.rankKnown());
    t.dtype().map(TensorMapper::wire).ifPresent(b::setDtype);
    for (long d : t.shape()) {
      b.addShape(d);
    }
    return b.build();
  }


  static String typeName(TensorSpec t) {
    return t.dtype().map(DType::name).orElse(DType.tfName(t.tfType()).toUpperCase(java.util.Locale.ROOT));
  }
}
