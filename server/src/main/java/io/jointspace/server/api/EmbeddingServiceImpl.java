package io.jointspace.server.api;

import com.google.inject.Inject;
import io.grpc.Status;
import io.jointspace.api.v1.ClassifyRequest;
import io.jointspace.api.v1.ClassifyResponse;
import io.jointspace.api.v1.ScoreRequest;
import io.jointspace.api.v1.ScoreResponse;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.EmbedStreamRequest;
import io.jointspace.api.v1.EmbedStreamResponse;
import io.jointspace.api.v1.Embedding;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.Input;
import io.jointspace.registry.ModelHandle;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelRequest;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.Content;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.runtime.SignatureInfo;
import io.jointspace.server.runtime.TensorData;
import io.jointspace.server.runtime.TensorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/** {@code jointspace.v1.EmbeddingService}: validates, leases the model version, embeds. */
public final class EmbeddingServiceImpl extends EmbeddingServiceGrpc.EmbeddingServiceImplBase {
  private final ModelManager<ModelVersion> registry;
  private final ZeroShot zeroShot;

  @Inject
  EmbeddingServiceImpl(ModelManager<ModelVersion> registry, ZeroShot zeroShot) {
    this.registry = registry;
    this.zeroShot = zeroShot;
  }

  @Override
  public void classify(ClassifyRequest request, StreamObserver<ClassifyResponse> observer) {
    StatusMapper.answer(observer, () -> zeroShot.classify(request));
  }

  @Override
  public void score(ScoreRequest request, StreamObserver<ScoreResponse> observer) {
    StatusMapper.answer(observer, () -> zeroShot.score(request));
  }

  @Override
  public void embed(EmbedRequest request, StreamObserver<EmbedResponse> observer) {
    StatusMapper.answer(observer, () -> embed(request));
  }

  @Override
  public StreamObserver<EmbedStreamRequest> embedStream(StreamObserver<EmbedStreamResponse> observer) {
    StreamPacing pacing = StreamPacing.start(observer);
    return new StreamObserver<>() {
      @Override
      public void onNext(EmbedStreamRequest item) {
        EmbedStreamResponse.Builder answer = EmbedStreamResponse.newBuilder().setRequestId(item.getRequestId());
        try {
          answer.setResponse(embed(item.getRequest()));
        } catch (RuntimeException e) {
          Status status = StatusMapper.toStatus(e).getStatus();
          answer.setError(com.google.rpc.Status.newBuilder()
              .setCode(status.getCode().value())
              .setMessage(status.getDescription() == null ? "" : status.getDescription()));
        }
        observer.onNext(answer.build());
        pacing.next();
      }

      @Override
      public void onError(Throwable t) {
        // the client went away: nothing to answer
      }

      @Override
      public void onCompleted() {
        observer.onCompleted();
      }
    };
  }

  private EmbedResponse embed(EmbedRequest request) {
    if (!request.hasModel()) {
      throw new InvalidInputException("model is not set");
    }
    ModelRequest wanted = ProtoMapper.modelRequest(request.getModel(), "model");
    if (request.getInputsCount() == 0) {
      throw new InvalidInputException("inputs is empty; give at least one input");
    }
    for (int i = 0; i < request.getInputsCount(); i++) {
      if (request.getInputs(i).getContentCase() == Input.ContentCase.CONTENT_NOT_SET) {
        throw new InvalidInputException("inputs[" + i + "] has no content; set text, image or tensor");
      }
    }
    if (request.getInputsList().stream().noneMatch(Input::hasTensor)) {
      return embedMultimodal(wanted, request);
    }
    List<TensorData> rows = new ArrayList<>(request.getInputsCount());
    String inputKey = "";
    for (int i = 0; i < request.getInputsCount(); i++) {
      Input input = request.getInputs(i);
      switch (input.getContentCase()) {
        case TENSOR -> {
          String name = input.getTensor().getName();
          if (!name.isEmpty()) {
            if (!inputKey.isEmpty() && !inputKey.equals(name)) {
              throw new InvalidInputException("inputs[" + i + "].tensor.name '" + name
                  + "' differs from an earlier input's '" + inputKey + "'; Embed feeds one signature input");
            }
            inputKey = name;
          }
          rows.add(TensorMapper.fromProto(input.getTensor(), "inputs[" + i + "].tensor"));
        }
        case TEXT, IMAGE -> throw new InvalidInputException("inputs[" + i + "]."
            + input.getContentCase().name().toLowerCase(java.util.Locale.ROOT)
            + " cannot be mixed with tensor inputs in one request");
        case CONTENT_NOT_SET -> throw new IllegalStateException("checked above");
      }
    }
    try (ModelHandle<ModelVersion> model = CallModel.acquire(registry, wanted)) {
      ModelVersion version = model.get();
      SignatureInfo sig = signature(version, request.getModel().getSignatureName());
      TensorSpec input;
      if (inputKey.isEmpty()) {
        try {
          input = sig.onlyInput();
        } catch (InvalidInputException e) {
          throw e.at("inputs[].tensor.name is empty:");
        }
      } else {
        input = sig.inputs().get(inputKey);
        if (input == null) {
          throw new InvalidInputException("inputs[].tensor.name '" + inputKey + "' is not an input of signature '"
              + sig.name() + "'; inputs: " + sig.inputs().keySet());
        }
      }
      String outputKey = request.getOutputName();
      if (outputKey.isEmpty()) {
        if (sig.outputs().size() != 1) {
          throw new InvalidInputException("output_name is empty but signature '" + sig.name() + "' has "
              + sig.outputs().size() + " outputs " + sig.outputs().keySet() + "; name one");
        }
        outputKey = sig.outputKeys().get(0);
      } else if (!sig.outputs().containsKey(outputKey)) {
        throw new InvalidInputException("output_name '" + outputKey + "' is not an output of signature '"
            + sig.name() + "'; outputs: " + sig.outputs().keySet());
      }
      try (GrpcCallScope call = GrpcCallScope.current()) {
        List<float[]> vectors = version.embedTensors(sig, input, outputKey, rows, "inputs", call.scope());
        return response(ProtoMapper.resolved(model.id(), sig.name()), vectors);
      }
    }
  }

  private EmbedResponse embedMultimodal(ModelRequest wanted, EmbedRequest request) {
    IntFunction<String> fieldOf = i -> "inputs[" + i + "]";
    try (ModelHandle<ModelVersion> model = CallModel.acquire(registry, wanted);
        GrpcCallScope call = GrpcCallScope.current()) {
      List<Content> contents = ProtoMapper.contents(request.getInputsList(), fieldOf, model.get().requireEncoder());
      List<float[]> vectors = model.get().encode(contents, fieldOf, call.scope());
      return response(ProtoMapper.resolved(model.id(), ""), vectors);
    }
  }

  private static EmbedResponse response(io.jointspace.api.v1.ModelSpec resolved, List<float[]> vectors) {
    EmbedResponse.Builder response = EmbedResponse.newBuilder()
        .setModel(resolved)
        .setDimension(vectors.get(0).length);
    for (float[] v : vectors) {
      Embedding.Builder e = Embedding.newBuilder();
      for (float x : v) {
        e.addValues(x);
      }
      response.addEmbeddings(e);
    }
    return response.build();
  }

  static SignatureInfo signature(ModelVersion model, String name) {
    try {
      return model.signature(name);
    } catch (InvalidInputException e) {
      throw e.at("model.signature_name");
    }
  }
}
