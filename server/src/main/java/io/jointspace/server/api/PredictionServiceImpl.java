package io.jointspace.server.api;

import com.google.inject.Inject;
import com.google.protobuf.Any;
import io.grpc.stub.StreamObserver;
import io.jointspace.registry.ModelHandle;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelRequest;
import io.jointspace.server.errors.FailedPreconditionException;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.CallScope;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.runtime.Shapes;
import io.jointspace.server.runtime.SignatureInfo;
import io.jointspace.server.runtime.TensorData;
import io.jointspace.server.runtime.TensorProtos;
import io.jointspace.tensorflow.serving.ClassificationRequest;
import io.jointspace.tensorflow.serving.ClassificationResponse;
import io.jointspace.tensorflow.serving.GetModelMetadataRequest;
import io.jointspace.tensorflow.serving.GetModelMetadataResponse;
import io.jointspace.tensorflow.serving.InferenceResult;
import io.jointspace.tensorflow.serving.InferenceTask;
import io.jointspace.tensorflow.serving.Input;
import io.jointspace.tensorflow.serving.ModelSpec;
import io.jointspace.tensorflow.serving.MultiInferenceRequest;
import io.jointspace.tensorflow.serving.MultiInferenceResponse;
import io.jointspace.tensorflow.serving.PredictRequest;
import io.jointspace.tensorflow.serving.PredictResponse;
import io.jointspace.tensorflow.serving.PredictionServiceGrpc;
import io.jointspace.tensorflow.serving.RegressionRequest;
import io.jointspace.tensorflow.serving.RegressionResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * TF Serving's {@code tensorflow.serving.PredictionService}, wire-compatible: clients built
 * for TF Serving call it unchanged. Each call leases its version from the registry like
 * ModelInfer does and runs the signature through its batch queue; errors are mapped by
 * {@link StatusMapper#toTfServingStatus}.
 *
 * <p>The public methods that take a request and return a response do the same work without
 * gRPC, for another front end (TF Serving's REST API) in this process: they throw what
 * {@link StatusMapper#toTfServingStatus} maps, and run with no deadline outside a gRPC call.
 */
public final class PredictionServiceImpl extends PredictionServiceGrpc.PredictionServiceImplBase {
  static final String SIGNATURE_DEF_FIELD = "signature_def";

  private final ModelManager<ModelVersion> registry;

  @Inject
  public PredictionServiceImpl(ModelManager<ModelVersion> registry) {
    this.registry = registry;
  }

  @Override
  public void predict(PredictRequest request, StreamObserver<PredictResponse> observer) {
    StatusMapper.answerTfServing(observer, () -> predict(request));
  }

  @Override
  public void classify(ClassificationRequest request, StreamObserver<ClassificationResponse> observer) {
    StatusMapper.answerTfServing(observer, () -> classify(request));
  }

  @Override
  public void regress(RegressionRequest request, StreamObserver<RegressionResponse> observer) {
    StatusMapper.answerTfServing(observer, () -> regress(request));
  }

  @Override
  public void multiInference(MultiInferenceRequest request, StreamObserver<MultiInferenceResponse> observer) {
    StatusMapper.answerTfServing(observer, () -> multiInference(request));
  }

  @Override
  public void getModelMetadata(GetModelMetadataRequest request, StreamObserver<GetModelMetadataResponse> observer) {
    StatusMapper.answerTfServing(observer, () -> getModelMetadata(request));
  }

  /**
   * Runs one signature on tensors given by input alias; fetches the outputs of
   * {@code output_filter}, or all of them.
   */
  public PredictResponse predict(PredictRequest request) {
    ModelRequest wanted = TfServingMapper.modelRequest(request.getModelSpec(), "model_spec");
    Map<String, TensorData> inputs = TensorProtos.toTensorData(request.getInputsMap(),
        alias -> "inputs[\"" + alias + "\"]");
    List<String> outputs = request.getOutputFilterList();
    try (ModelHandle<ModelVersion> handle = CallModel.acquire(registry, wanted)) {
      ModelVersion model = handle.get();
      SignatureInfo sig;
      try {
        sig = model.signature(request.getModelSpec().getSignatureName());
      } catch (InvalidInputException e) {
        // TF Serving: an unknown signature key is a failed precondition of Predict
        throw new FailedPreconditionException("model_spec.signature_name " + e.getMessage());
      }
      checkAliases(sig, inputs.keySet(), outputs);
      Map<String, TensorData> results;
      try (GrpcCallScope call = GrpcCallScope.current()) {
        results = model.call(sig, inputs, outputs, call.scope(), Shapes.AS_TENSORFLOW);
      }
      PredictResponse.Builder response = PredictResponse.newBuilder()
          .setModelSpec(TfServingMapper.echo(handle.id(), sig.name()));
      results.forEach((alias, data) -> response.putOutputs(alias, TensorProtos.toProtoField(data)));
      return response.build();
    }
  }

  /** Every input of {@code sig} given, nothing else; every filtered output known, once. */
  private static void checkAliases(SignatureInfo sig, Set<String> given, List<String> outputFilter) {
    for (String alias : new TreeSet<>(given)) {
      if (!sig.inputs().containsKey(alias)) {
        throw InvalidInputException.of("inputs[\"" + alias + "\"]", "is not an input of signature '" + sig.name()
            + "'; its inputs: " + sig.inputs().keySet());
      }
    }
    for (String alias : sig.inputs().keySet()) {
      if (!given.contains(alias)) {
        throw InvalidInputException.of("inputs", "lacks \"" + alias + "\", an input of signature '" + sig.name()
            + "'; its inputs: " + sig.inputs().keySet());
      }
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < outputFilter.size(); i++) {
      String alias = outputFilter.get(i);
      if (!sig.outputs().containsKey(alias)) {
        throw InvalidInputException.of("output_filter[" + i + "]", "\"" + alias + "\" is not an output of signature '"
            + sig.name() + "'; its outputs: " + sig.outputs().keySet());
      }
      if (!seen.add(alias)) {
        throw InvalidInputException.of("output_filter[" + i + "]", "\"" + alias + "\" appears twice");
      }
    }
  }

  /** Runs a classification signature on the request's Examples. */
  public ClassificationResponse classify(ClassificationRequest request) {
    return onExamples(request.getModelSpec(), request.getInput(), ExampleSignatures.Kind.CLASSIFY,
        (echo, model, sig, examples, scope) -> ClassificationResponse.newBuilder()
            .setModelSpec(echo)
            .setResult(ExampleSignatures.classify(model, sig, examples, scope))
            .build());
  }

  /** Runs a regression signature on the request's Examples. */
  public RegressionResponse regress(RegressionRequest request) {
    return onExamples(request.getModelSpec(), request.getInput(), ExampleSignatures.Kind.REGRESS,
        (echo, model, sig, examples, scope) -> RegressionResponse.newBuilder()
            .setModelSpec(echo)
            .setResult(ExampleSignatures.regress(model, sig, examples, scope))
            .build());
  }

  /** What Classify or Regress does with the signature {@link ExampleSignatures#select} chose. */
  private interface ExampleRun<T> {
    T run(ModelSpec echo, ModelVersion model, SignatureInfo sig, TensorData examples, CallScope scope);
  }

  private <T> T onExamples(ModelSpec spec, Input input, ExampleSignatures.Kind kind, ExampleRun<T> run) {
    ModelRequest wanted = TfServingMapper.modelRequest(spec, "model_spec");
    TensorData examples = ExampleInput.serialized(input, "input");
    try (ModelHandle<ModelVersion> handle = CallModel.acquire(registry, wanted);
        GrpcCallScope call = GrpcCallScope.current()) {
      SignatureInfo sig = ExampleSignatures.select(handle.get(), spec.getSignatureName(), kind,
          "model_spec.signature_name");
      return run.run(TfServingMapper.echo(handle.id(), sig.name()), handle.get(), sig, examples, call.scope());
    }
  }

  /**
   * Runs several classify / regress tasks over the same Examples. As in TF Serving, every task
   * names the same model (here also the same version or label) and a different signature; the
   * tasks run one after another on one lease of the version.
   */
  public MultiInferenceResponse multiInference(MultiInferenceRequest request) {
    if (request.getTasksCount() == 0) {
      throw InvalidInputException.of("tasks", "is empty; give at least one classify or regress task");
    }
    ModelRequest wanted = TfServingMapper.modelRequest(request.getTasks(0).getModelSpec(), "tasks[0].model_spec");
    List<ExampleSignatures.Kind> kinds = new ArrayList<>();
    for (int i = 0; i < request.getTasksCount(); i++) {
      InferenceTask task = request.getTasks(i);
      String field = "tasks[" + i + "]";
      ModelRequest other = TfServingMapper.modelRequest(task.getModelSpec(), field + ".model_spec");
      if (!other.equals(wanted)) {
        throw InvalidInputException.of(field + ".model_spec", "asks for " + other + " but tasks[0] for " + wanted
            + "; all tasks of a MultiInferenceRequest run on the same model version");
      }
      kinds.add(ExampleSignatures.Kind.of(task.getMethodName()).orElseThrow(() -> InvalidInputException.of(
          field + ".method_name", "'" + task.getMethodName() + "' is not supported; use "
              + TfServingMapper.CLASSIFY_METHOD + " or " + TfServingMapper.REGRESS_METHOD)));
    }
    TensorData examples = ExampleInput.serialized(request.getInput(), "input");
    try (ModelHandle<ModelVersion> handle = CallModel.acquire(registry, wanted);
        GrpcCallScope call = GrpcCallScope.current()) {
      ModelVersion model = handle.get();
      List<SignatureInfo> signatures = new ArrayList<>();
      Set<String> names = new HashSet<>();
      for (int i = 0; i < kinds.size(); i++) {
        String field = "tasks[" + i + "].model_spec.signature_name";
        SignatureInfo sig = ExampleSignatures.select(model, request.getTasks(i).getModelSpec().getSignatureName(),
            kinds.get(i), field);
        if (!names.add(sig.name())) {
          throw InvalidInputException.of(field, "names signature '" + sig.name() + "' a second time; each task runs"
              + " a different signature");
        }
        signatures.add(sig);
      }
      MultiInferenceResponse.Builder response = MultiInferenceResponse.newBuilder();
      for (int i = 0; i < kinds.size(); i++) {
        SignatureInfo sig = signatures.get(i);
        InferenceResult.Builder result = response.addResultsBuilder()
            .setModelSpec(TfServingMapper.echo(handle.id(), sig.name()));
        if (kinds.get(i) == ExampleSignatures.Kind.CLASSIFY) {
          result.setClassificationResult(ExampleSignatures.classify(model, sig, examples, call.scope()));
        } else {
          result.setRegressionResult(ExampleSignatures.regress(model, sig, examples, call.scope()));
        }
      }
      return response.build();
    }
  }

  /**
   * The signatures of a version under metadata key {@code "signature_def"} (the only field TF
   * Serving has), as an Any holding a {@code tensorflow.serving.SignatureDefMap}.
   */
  public GetModelMetadataResponse getModelMetadata(GetModelMetadataRequest request) {
    ModelRequest wanted = TfServingMapper.modelRequest(request.getModelSpec(), "model_spec");
    if (request.getMetadataFieldCount() == 0) {
      throw InvalidInputException.of("metadata_field", "is empty; ask for \"" + SIGNATURE_DEF_FIELD + "\"");
    }
    for (int i = 0; i < request.getMetadataFieldCount(); i++) {
      if (!request.getMetadataField(i).equals(SIGNATURE_DEF_FIELD)) {
        throw InvalidInputException.of("metadata_field[" + i + "]", "'" + request.getMetadataField(i)
            + "' is not supported; the only metadata field is \"" + SIGNATURE_DEF_FIELD + "\"");
      }
    }
    try (ModelHandle<ModelVersion> handle = CallModel.acquire(registry, wanted)) {
      return GetModelMetadataResponse.newBuilder()
          .setModelSpec(TfServingMapper.echo(handle.id(), ""))
          .putMetadata(SIGNATURE_DEF_FIELD, Any.pack(TfServingMapper.signatureDefs(handle.get().signatures())))
          .build();
    }
  }
}
