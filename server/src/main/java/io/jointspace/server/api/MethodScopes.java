package io.jointspace.server.api;

import io.grpc.MethodDescriptor;
import io.grpc.health.v1.HealthGrpc;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.ModelInferRequest;
import io.jointspace.api.inference.ModelMetadataRequest;
import io.jointspace.api.inference.ModelReadyRequest;
import io.jointspace.api.v1.ClassifyRequest;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.DeleteCollectionRequest;
import io.jointspace.api.v1.DeleteLabelRequest;
import io.jointspace.api.v1.DeleteRequest;
import io.jointspace.api.v1.DeleteVersionRequest;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedStreamRequest;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.EvaluateRolloutRequest;
import io.jointspace.api.v1.GetCollectionRequest;
import io.jointspace.api.v1.GetModelMetadataRequest;
import io.jointspace.api.v1.GetModelStatusRequest;
import io.jointspace.api.v1.GetRequest;
import io.jointspace.api.v1.GetRolloutRequest;
import io.jointspace.api.v1.KeyServiceGrpc;
import io.jointspace.api.v1.ListLabelHistoryRequest;
import io.jointspace.api.v1.ListRolloutsRequest;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.RolloutRequest;
import io.jointspace.api.v1.RolloutServiceGrpc;
import io.jointspace.api.v1.ScoreRequest;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.SetLabelRequest;
import io.jointspace.api.v1.SetRolloutRateRequest;
import io.jointspace.api.v1.StartRolloutRequest;
import io.jointspace.api.v1.UpdateCollectionRequest;
import io.jointspace.api.v1.UploadVersionRequest;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.server.auth.Scope;
import io.jointspace.tensorflow.serving.ClassificationRequest;
import io.jointspace.tensorflow.serving.MultiInferenceRequest;
import io.jointspace.tensorflow.serving.PredictRequest;
import io.jointspace.tensorflow.serving.PredictionServiceGrpc;
import io.jointspace.tensorflow.serving.RegressionRequest;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import javax.annotation.Nullable;

/**
 * The scope every method of the server needs, and where its request names the model or
 * collection that a limited scope is checked against. A method missing here is refused to
 * every key (and {@code ApiKeysTest.everyMethodOfEveryService_hasAScope} fails for a method of
 * any service the server registers that is missing here or in the test's expectations), so a
 * new method cannot be served without a decision here.
 */
public final class MethodScopes {

  /** How one method is checked. */
  public sealed interface Rule {}

  /** Served without a key: health Check and Watch, which Kubernetes probes make without metadata. */
  public record Open() implements Rule {}

  /** Any valid key, whatever its scopes (server reflection: it shows only the public API). */
  public record AnyKey() implements Rule {}

  /**
   * A key holding {@code scope}.
   *
   * @param name the model or collection a request message names, checked against a limited
   *     scope; null in a message that names none (a stream's later messages that keep the
   *     first one's name, or a list call)
   * @param unnamedLists a request naming nothing is a list call whose answer holds only what
   *     the key may see, so any grant of the scope lets it through; otherwise only an
   *     unlimited grant does
   */
  public record Scoped(Scope scope, @Nullable Function<Object, String> name, boolean unnamedLists)
      implements Rule {}

  private static final Map<String, Rule> RULES = new HashMap<>();
  private static final Map<String, Rule> SERVICES = Map.of(
      "grpc.reflection.v1.ServerReflection", new AnyKey(),
      "grpc.reflection.v1alpha.ServerReflection", new AnyKey());

  static {
    // health: the two probe methods by name; a method a later grpc-java adds to the service
    // (one that lists every service's status, say) gets no rule, so no caller, until decided here
    put(HealthGrpc.getCheckMethod(), new Open());
    put(HealthGrpc.getWatchMethod(), new Open());

    // EmbeddingService: every request message names its model
    named(EmbeddingServiceGrpc.getEmbedMethod(), Scope.INFER, (EmbedRequest r) -> r.getModel().getName());
    named(EmbeddingServiceGrpc.getEmbedStreamMethod(), Scope.INFER,
        (EmbedStreamRequest r) -> r.getRequest().getModel().getName());
    named(EmbeddingServiceGrpc.getClassifyMethod(), Scope.INFER, (ClassifyRequest r) -> r.getModel().getName());
    named(EmbeddingServiceGrpc.getScoreMethod(), Scope.INFER, (ScoreRequest r) -> r.getModel().getName());

    // KServe: liveness and readiness are probes
    RULES.put(GRPCInferenceServiceGrpc.getServerLiveMethod().getFullMethodName(), new Open());
    RULES.put(GRPCInferenceServiceGrpc.getServerReadyMethod().getFullMethodName(), new Open());
    unnamed(GRPCInferenceServiceGrpc.getServerMetadataMethod(), Scope.MODELS_READ);
    named(GRPCInferenceServiceGrpc.getModelReadyMethod(), Scope.MODELS_READ, (ModelReadyRequest r) -> r.getName());
    named(GRPCInferenceServiceGrpc.getModelMetadataMethod(), Scope.MODELS_READ,
        (ModelMetadataRequest r) -> r.getName());
    named(GRPCInferenceServiceGrpc.getModelInferMethod(), Scope.INFER, (ModelInferRequest r) -> r.getModelName());

    // TF Serving's PredictionService and ModelService: every request names its model
    named(PredictionServiceGrpc.getPredictMethod(), Scope.INFER, (PredictRequest r) -> r.getModelSpec().getName());
    named(PredictionServiceGrpc.getClassifyMethod(), Scope.INFER,
        (ClassificationRequest r) -> r.getModelSpec().getName());
    named(PredictionServiceGrpc.getRegressMethod(), Scope.INFER, (RegressionRequest r) -> r.getModelSpec().getName());
    // a task naming another model is refused by the service: the first task's model is the one checked
    named(PredictionServiceGrpc.getMultiInferenceMethod(), Scope.INFER,
        (MultiInferenceRequest r) -> r.getTasksCount() == 0 ? "" : r.getTasks(0).getModelSpec().getName());
    named(PredictionServiceGrpc.getGetModelMetadataMethod(), Scope.MODELS_READ,
        (io.jointspace.tensorflow.serving.GetModelMetadataRequest r) -> r.getModelSpec().getName());
    named(io.jointspace.tensorflow.serving.ModelServiceGrpc.getGetModelStatusMethod(), Scope.MODELS_READ,
        (io.jointspace.tensorflow.serving.GetModelStatusRequest r) -> r.getModelSpec().getName());
    // refused by the service whoever calls; admin, as reloading the configuration would be
    unnamed(io.jointspace.tensorflow.serving.ModelServiceGrpc.getHandleReloadConfigRequestMethod(), Scope.ADMIN);

    // ModelService
    unnamed(ModelServiceGrpc.getListModelsMethod(), Scope.MODELS_READ);
    named(ModelServiceGrpc.getGetModelStatusMethod(), Scope.MODELS_READ, (GetModelStatusRequest r) -> r.getName());
    named(ModelServiceGrpc.getGetModelMetadataMethod(), Scope.MODELS_READ,
        (GetModelMetadataRequest r) -> r.getModel().getName());
    named(ModelServiceGrpc.getListLabelHistoryMethod(), Scope.MODELS_READ,
        (ListLabelHistoryRequest r) -> r.getModel());
    named(ModelServiceGrpc.getSetLabelMethod(), Scope.MODELS_WRITE, (SetLabelRequest r) -> r.getModel());
    named(ModelServiceGrpc.getDeleteLabelMethod(), Scope.MODELS_WRITE, (DeleteLabelRequest r) -> r.getModel());
    // the header (first message) names the model; the chunks after it name nothing
    named(ModelServiceGrpc.getUploadVersionMethod(), Scope.MODELS_WRITE,
        (UploadVersionRequest r) -> r.hasHeader() ? r.getHeader().getModel() : null);
    named(ModelServiceGrpc.getDeleteVersionMethod(), Scope.MODELS_WRITE, (DeleteVersionRequest r) -> r.getModel());

    // CollectionService
    named(CollectionServiceGrpc.getCreateCollectionMethod(), Scope.COLLECTIONS_WRITE,
        (CreateCollectionRequest r) -> r.getName());
    named(CollectionServiceGrpc.getGetCollectionMethod(), Scope.COLLECTIONS_READ,
        (GetCollectionRequest r) -> r.getName());
    unnamed(CollectionServiceGrpc.getListCollectionsMethod(), Scope.COLLECTIONS_READ);
    named(CollectionServiceGrpc.getUpdateCollectionMethod(), Scope.COLLECTIONS_WRITE,
        (UpdateCollectionRequest r) -> r.getName());
    named(CollectionServiceGrpc.getDeleteCollectionMethod(), Scope.COLLECTIONS_WRITE,
        (DeleteCollectionRequest r) -> r.getName());
    named(CollectionServiceGrpc.getUpsertMethod(), Scope.COLLECTIONS_WRITE, (UpsertRequest r) -> r.getCollection());
    // later messages may leave the collection empty: they write the first one's
    named(CollectionServiceGrpc.getUpsertStreamMethod(), Scope.COLLECTIONS_WRITE,
        (UpsertStreamRequest r) -> r.getCollection().isEmpty() ? null : r.getCollection());
    named(CollectionServiceGrpc.getGetMethod(), Scope.COLLECTIONS_READ, (GetRequest r) -> r.getCollection());
    named(CollectionServiceGrpc.getDeleteMethod(), Scope.COLLECTIONS_WRITE, (DeleteRequest r) -> r.getCollection());
    named(CollectionServiceGrpc.getSearchMethod(), Scope.COLLECTIONS_READ, (SearchRequest r) -> r.getCollection());

    // RolloutService: a rollout belongs to its collection
    named(RolloutServiceGrpc.getStartRolloutMethod(), Scope.COLLECTIONS_WRITE,
        (StartRolloutRequest r) -> r.getCollection());
    named(RolloutServiceGrpc.getGetRolloutMethod(), Scope.COLLECTIONS_READ, (GetRolloutRequest r) -> r.getCollection());
    RULES.put(RolloutServiceGrpc.getListRolloutsMethod().getFullMethodName(), new Scoped(Scope.COLLECTIONS_READ,
        r -> ((ListRolloutsRequest) r).getCollection().isEmpty() ? null : ((ListRolloutsRequest) r).getCollection(),
        true));
    named(RolloutServiceGrpc.getWatchRolloutMethod(), Scope.COLLECTIONS_READ,
        (GetRolloutRequest r) -> r.getCollection());
    // evaluating embeds samples with both versions: as heavy as writing, so it needs write
    named(RolloutServiceGrpc.getEvaluateRolloutMethod(), Scope.COLLECTIONS_WRITE,
        (EvaluateRolloutRequest r) -> r.getCollection());
    named(RolloutServiceGrpc.getSetRolloutRateMethod(), Scope.COLLECTIONS_WRITE,
        (SetRolloutRateRequest r) -> r.getCollection());
    for (MethodDescriptor<RolloutRequest, ?> m : java.util.List.of(RolloutServiceGrpc.getPauseRolloutMethod(),
        RolloutServiceGrpc.getResumeRolloutMethod(), RolloutServiceGrpc.getPromoteRolloutMethod(),
        RolloutServiceGrpc.getRollbackRolloutMethod(), RolloutServiceGrpc.getFinalizeRolloutMethod(),
        RolloutServiceGrpc.getAbortRolloutMethod())) {
      named(m, Scope.COLLECTIONS_WRITE, RolloutRequest::getCollection);
    }

    // KeyService
    unnamed(KeyServiceGrpc.getCreateKeyMethod(), Scope.ADMIN);
    unnamed(KeyServiceGrpc.getListKeysMethod(), Scope.ADMIN);
    unnamed(KeyServiceGrpc.getRevokeKeyMethod(), Scope.ADMIN);
  }

  private MethodScopes() {}

  /** The rule of a method by its full name ("jointspace.v1.EmbeddingService/Embed"); empty when it has none. */
  public static Optional<Rule> of(String fullMethodName) {
    Rule rule = RULES.get(fullMethodName);
    if (rule == null) {
      rule = SERVICES.get(MethodDescriptor.extractFullServiceName(fullMethodName));
    }
    return Optional.ofNullable(rule);
  }

  @SuppressWarnings("unchecked")
  private static <Q> void named(MethodDescriptor<Q, ?> method, Scope scope, Function<Q, String> name) {
    put(method, new Scoped(scope, r -> name.apply((Q) r), false));
  }

  private static void unnamed(MethodDescriptor<?, ?> method, Scope scope) {
    put(method, new Scoped(scope, null, true));
  }

  private static void put(MethodDescriptor<?, ?> method, Rule rule) {
    if (RULES.put(method.getFullMethodName(), rule) != null) {
      throw new IllegalStateException(method.getFullMethodName() + " has two rules");
    }
  }
}
