package io.jointspace.server.api;

import com.google.inject.Inject;
import io.jointspace.server.auth.Scope;
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
import io.jointspace.api.v1.DeleteLabelRequest;
import io.jointspace.api.v1.DeleteVersionRequest;
import io.jointspace.api.v1.DeleteVersionResponse;
import io.jointspace.api.v1.UploadVersionRequest;
import io.jointspace.api.v1.UploadVersionResponse;
import io.jointspace.api.v1.ListLabelHistoryRequest;
import io.jointspace.api.v1.ListLabelHistoryResponse;
import io.jointspace.api.v1.SetLabelRequest;
import io.jointspace.registry.LabelTarget;
import io.jointspace.registry.ModelHandle;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelNotFoundException;
import io.jointspace.registry.VersionStatus;
import io.jointspace.server.labels.ModelLabels;
import io.jointspace.server.uploads.VersionUploads;
import java.io.IOException;
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
  private final ModelLabels labels;
  private final VersionUploads uploads;

  @Inject
  public ModelServiceImpl(ModelManager<ModelVersion> registry, ModelLabels labels, VersionUploads uploads) {
    this.registry = registry;
    this.labels = labels;
    this.uploads = uploads;
  }

  @Override
  public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> observer) {
    StatusMapper.answer(observer, () -> {
      ListModelsResponse.Builder out = ListModelsResponse.newBuilder();
      for (String name : registry.modelNames()) {
        if (!Caller.sees(Scope.MODELS_READ, name)) {
          continue; // a key limited to other models
        }
        Map<String, LabelTarget> targets = registry.labels(name);
        List<VersionStatus> statuses;
        try {
          statuses = registry.status(name);
        } catch (ModelNotFoundException gone) {
          continue; // left the repository between the two calls
        }
        out.addModels(ModelSummary.newBuilder()
            .setName(name)
            .addAllVersions(ProtoMapper.versionStatuses(statuses, targets))
            .putAllLabels(ProtoMapper.singleVersionLabels(targets))
            .addAllLabelDetails(labels.labels(name).stream().map(ProtoMapper::label).toList()));
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
          .addAllLabels(labels.labels(request.getName()).stream().map(ProtoMapper::label).toList())
          .build();
    });
  }

  @Override
  public void setLabel(SetLabelRequest request, StreamObserver<io.jointspace.api.v1.LabelChange> observer) {
    StatusMapper.answer(observer, () -> {
      String model = required(request.getModel(), "model");
      String label = required(request.getLabel(), "label");
      LabelTarget target = switch (request.getTargetCase()) {
        case VERSION -> {
          if (request.getVersion() <= 0) {
            throw new InvalidInputException("version must be positive, got " + request.getVersion());
          }
          yield LabelTarget.version(request.getVersion());
        }
        case SPLIT -> {
          Map<Long, Integer> weights = new java.util.TreeMap<>();
          request.getSplit().getWeightsMap().forEach((v, w) -> weights.put(v, w));
          try {
            yield LabelTarget.split(weights);
          } catch (IllegalArgumentException e) {
            throw new InvalidInputException("split.weights: " + e.getMessage());
          }
        }
        case TARGET_NOT_SET -> throw new InvalidInputException("target is not set; give version or split");
      };
      List<VersionStatus> versions = registry.status(model); // NOT_FOUND for an unknown model
      return ProtoMapper.labelChange(labels.set(model, label, target, request.getAllowLoading(), versions,
          changedBy(request.getChangedBy())));
    });
  }

  @Override
  public void deleteLabel(DeleteLabelRequest request, StreamObserver<io.jointspace.api.v1.LabelChange> observer) {
    StatusMapper.answer(observer, () -> {
      String model = required(request.getModel(), "model");
      String label = required(request.getLabel(), "label");
      registry.status(model); // NOT_FOUND for an unknown model
      return ProtoMapper.labelChange(labels.delete(model, label, changedBy(request.getChangedBy())));
    });
  }

  @Override
  public void listLabelHistory(ListLabelHistoryRequest request, StreamObserver<ListLabelHistoryResponse> observer) {
    StatusMapper.answer(observer, () -> ListLabelHistoryResponse.newBuilder()
        .addAllChanges(labels.history(required(request.getModel(), "model"), request.getLabel()).stream()
            .map(ProtoMapper::labelChange).toList())
        .build());
  }

  @Override
  public StreamObserver<UploadVersionRequest> uploadVersion(StreamObserver<UploadVersionResponse> observer) {
    return new UploadStream(uploads, observer, ModelServiceImpl::changedBy);
  }

  @Override
  public void deleteVersion(DeleteVersionRequest request, StreamObserver<DeleteVersionResponse> observer) {
    StatusMapper.answer(observer, () -> {
      String model = VersionUploads.checkModelName(request.getModel(), "model");
      if (request.getVersion() <= 0) {
        throw new InvalidInputException("version must be positive, got " + request.getVersion());
      }
      try {
        uploads.delete(model, request.getVersion());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return DeleteVersionResponse.getDefaultInstance();
    });
  }

  private static String required(String value, String field) {
    if (value.isEmpty()) {
      throw new InvalidInputException(field + " is empty");
    }
    return value;
  }

  /** The caller's own word, else its network address (after its API key's id, with authentication on). */
  static String changedBy(String given) {
    if (!given.isEmpty()) {
      return given;
    }
    String key = Caller.keyId();
    java.net.SocketAddress peer = PeerAddress.current();
    String address;
    if (peer instanceof java.net.InetSocketAddress inet && inet.getAddress() != null) {
      address = inet.getAddress().getHostAddress() + ":" + inet.getPort();
    } else {
      address = peer == null ? "" : peer.toString();
    }
    return key == null ? address : "key " + key + (address.isEmpty() ? "" : " from " + address);
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
