package io.jointspace.server.api;

import com.google.inject.Inject;
import io.grpc.stub.StreamObserver;
import io.jointspace.registry.LabelTarget;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelNotFoundException;
import io.jointspace.registry.VersionStatus;
import io.jointspace.server.errors.FailedPreconditionException;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.tensorflow.serving.GetModelStatusRequest;
import io.jointspace.tensorflow.serving.GetModelStatusResponse;
import io.jointspace.tensorflow.serving.ModelServiceGrpc;
import io.jointspace.tensorflow.serving.ModelSpec;
import io.jointspace.tensorflow.serving.ReloadConfigRequest;
import io.jointspace.tensorflow.serving.ReloadConfigResponse;
import java.util.List;

/**
 * TF Serving's {@code tensorflow.serving.ModelService}, wire-compatible. GetModelStatus reports
 * the registry's versions in TF Serving's states ({@link TfServingMapper#versionStatus}).
 * HandleReloadConfigRequest is refused with FAILED_PRECONDITION: what this server loads comes
 * from its own configuration and model repository, never from a client.
 */
public final class TfServingModelServiceImpl extends ModelServiceGrpc.ModelServiceImplBase {
  static final String RELOAD_REFUSAL = "HandleReloadConfigRequest is not supported: Jointspace loads the models"
      + " of its model repository (model_repository and models in the server config file) and the version folders"
      + " under it, polled for changes; change those, or upload versions and move labels with"
      + " jointspace.v1.ModelService (docs/migrating-from-tf-serving.md)";

  private final ModelManager<ModelVersion> registry;

  @Inject
  public TfServingModelServiceImpl(ModelManager<ModelVersion> registry) {
    this.registry = registry;
  }

  @Override
  public void getModelStatus(GetModelStatusRequest request, StreamObserver<GetModelStatusResponse> observer) {
    StatusMapper.answerTfServing(observer, () -> getModelStatus(request));
  }

  @Override
  public void handleReloadConfigRequest(ReloadConfigRequest request, StreamObserver<ReloadConfigResponse> observer) {
    StatusMapper.answerTfServing(observer, () -> {
      throw new FailedPreconditionException(RELOAD_REFUSAL);
    });
  }

  /**
   * Every version the registry tracks for the model, newest first; with a version or a
   * version_label in the spec, only the versions it names.
   */
  public GetModelStatusResponse getModelStatus(GetModelStatusRequest request) {
    ModelSpec spec = request.getModelSpec();
    if (spec.getName().isEmpty()) {
      throw InvalidInputException.of("model_spec.name", "is empty");
    }
    List<VersionStatus> statuses = registry.status(spec.getName()); // NOT_FOUND for an unknown model
    switch (spec.getVersionChoiceCase()) {
      case VERSION -> {
        long version = spec.getVersion().getValue();
        statuses = statuses.stream().filter(s -> s.id().version() == version).toList();
        if (statuses.isEmpty()) {
          throw new ModelNotFoundException("model '" + spec.getName() + "' has no version " + version);
        }
      }
      case VERSION_LABEL -> {
        LabelTarget target = registry.labels(spec.getName()).get(spec.getVersionLabel());
        if (target == null) {
          throw new ModelNotFoundException("model '" + spec.getName() + "' has no label '" + spec.getVersionLabel()
              + "'; labels: " + registry.labels(spec.getName()).keySet());
        }
        statuses = statuses.stream().filter(s -> target.weights().containsKey(s.id().version())).toList();
      }
      case VERSIONCHOICE_NOT_SET -> { }
    }
    if (statuses.isEmpty()) {
      throw new ModelNotFoundException("could not find any versions of model '" + spec.getName() + "'");
    }
    GetModelStatusResponse.Builder out = GetModelStatusResponse.newBuilder();
    statuses.forEach(s -> out.addModelVersionStatus(TfServingMapper.versionStatus(s)));
    return out.build();
  }
}
