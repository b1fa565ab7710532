package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import io.grpc.CallCredentials;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.lite.ProtoLiteUtils;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.ModelInferRequest;
import io.jointspace.api.inference.ModelMetadataRequest;
import io.jointspace.api.inference.ModelReadyRequest;
import io.jointspace.api.inference.ServerLiveRequest;
import io.jointspace.api.inference.ServerReadyRequest;
import io.jointspace.api.v1.ApiKey;
import io.jointspace.api.v1.ClassifyRequest;
import io.jointspace.api.v1.Collection;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.CreateKeyRequest;
import io.jointspace.api.v1.CreateKeyResponse;
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
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.KeyServiceGrpc;
import io.jointspace.api.v1.ListCollectionsRequest;
import io.jointspace.api.v1.ListKeysRequest;
import io.jointspace.api.v1.ListLabelHistoryRequest;
import io.jointspace.api.v1.ListModelsRequest;
import io.jointspace.api.v1.ListRolloutsRequest;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.RevokeKeyRequest;
import io.jointspace.api.v1.RolloutRequest;
import io.jointspace.api.v1.RolloutServiceGrpc;
import io.jointspace.api.v1.ScoreRequest;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.SetLabelRequest;
import io.jointspace.api.v1.SetRolloutRateRequest;
import io.jointspace.api.v1.StartRolloutRequest;
import io.jointspace.api.v1.UpdateCollectionRequest;
import io.jointspace.api.v1.UploadHeader;
import io.jointspace.api.v1.UploadVersionRequest;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.config.v1.AuthMode;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.auth.ApiKeys;
import io.jointspace.server.store.Database;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.KeyStore;
import io.jointspace.server.store.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.annotation.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * API keys on a real server on loopback with authentication on, over the demo model and a
 * real PostgreSQL: every method of every service the server registers, called without a key,
 * with a wrong, an expired and a revoked key, with a key lacking the scope, a key limited to
 * other names, and a key that holds the scope; list answers of limited keys; health without a
 * key; revocation seen by a second server on the same database within a second.
 */
class ApiKeysTest {
  /** Names the limited keys hold; the walk below names "scratch" (nothing of that name exists). */
  static final String MODELS = "shapes-clip,scratch";
  static final String COLLECTIONS = "allowed,scratch";

  static DatabaseUrl db;
  static ServerFixture fixture;
  static Database direct;
  static ApiKeys keys;
  static String admin;
  static String expired;
  static String revoked;
  /** Per scope: a key with only that scope, limited to the names above. */
  static final Map<String, String> onlyScope = new HashMap<>();
  /** Per scope: a key with every other non-admin scope, unlimited. */
  static final Map<String, String> allBut = new HashMap<>();

  static final List<String> SCOPES = List.of("models:read", "models:write", "infer", "collections:read",
      "collections:write");

  /** What a method needs, and the request it is called with (naming {@code name}). */
  record Expect(String scope, @Nullable String noun, Function<String, Message> request) {}

  static final Map<String, Expect> EXPECTED = new HashMap<>();

  static void expect(MethodDescriptor<?, ?> m, String scope, @Nullable String noun, Function<String, Message> req) {
    EXPECTED.put(m.getFullMethodName(), new Expect(scope, noun, req));
  }

  static ModelSpec model(String n) {
    return ModelSpec.newBuilder().setName(n).build();
  }

  static io.jointspace.tensorflow.serving.ModelSpec tfs(String n) {
    return io.jointspace.tensorflow.serving.ModelSpec.newBuilder().setName(n).build();
  }

  static {
    expect(EmbeddingServiceGrpc.getEmbedMethod(), "infer", "model", n -> EmbedRequest.newBuilder().setModel(model(n)).build());
    expect(EmbeddingServiceGrpc.getEmbedStreamMethod(), "infer", "model",
        n -> EmbedStreamRequest.newBuilder().setRequest(EmbedRequest.newBuilder().setModel(model(n))).build());
    expect(EmbeddingServiceGrpc.getClassifyMethod(), "infer", "model", n -> ClassifyRequest.newBuilder().setModel(model(n)).build());
    expect(EmbeddingServiceGrpc.getScoreMethod(), "infer", "model", n -> ScoreRequest.newBuilder().setModel(model(n)).build());
    expect(GRPCInferenceServiceGrpc.getServerLiveMethod(), "open", null, n -> ServerLiveRequest.getDefaultInstance());
    expect(GRPCInferenceServiceGrpc.getServerReadyMethod(), "open", null, n -> ServerReadyRequest.getDefaultInstance());
    expect(GRPCInferenceServiceGrpc.getServerMetadataMethod(), "models:read", null,
        n -> io.jointspace.api.inference.ServerMetadataRequest.getDefaultInstance());
    expect(GRPCInferenceServiceGrpc.getModelReadyMethod(), "models:read", "model", n -> ModelReadyRequest.newBuilder().setName(n).build());
    expect(GRPCInferenceServiceGrpc.getModelMetadataMethod(), "models:read", "model",
        n -> ModelMetadataRequest.newBuilder().setName(n).build());
    expect(GRPCInferenceServiceGrpc.getModelInferMethod(), "infer", "model", n -> ModelInferRequest.newBuilder().setModelName(n).build());
    // TF Serving's API
    expect(io.jointspace.tensorflow.serving.PredictionServiceGrpc.getPredictMethod(), "infer", "model",
        n -> io.jointspace.tensorflow.serving.PredictRequest.newBuilder().setModelSpec(tfs(n)).build());
    expect(io.jointspace.tensorflow.serving.PredictionServiceGrpc.getClassifyMethod(), "infer", "model",
        n -> io.jointspace.tensorflow.serving.ClassificationRequest.newBuilder().setModelSpec(tfs(n)).build());
    expect(io.jointspace.tensorflow.serving.PredictionServiceGrpc.getRegressMethod(), "infer", "model",
        n -> io.jointspace.tensorflow.serving.RegressionRequest.newBuilder().setModelSpec(tfs(n)).build());
    expect(io.jointspace.tensorflow.serving.PredictionServiceGrpc.getMultiInferenceMethod(), "infer", "model",
        n -> io.jointspace.tensorflow.serving.MultiInferenceRequest.newBuilder()
            .addTasks(io.jointspace.tensorflow.serving.InferenceTask.newBuilder().setModelSpec(tfs(n))).build());
    expect(io.jointspace.tensorflow.serving.PredictionServiceGrpc.getGetModelMetadataMethod(), "models:read", "model",
        n -> io.jointspace.tensorflow.serving.GetModelMetadataRequest.newBuilder().setModelSpec(tfs(n)).build());
    expect(io.jointspace.tensorflow.serving.ModelServiceGrpc.getGetModelStatusMethod(), "models:read", "model",
        n -> io.jointspace.tensorflow.serving.GetModelStatusRequest.newBuilder().setModelSpec(tfs(n)).build());
    expect(io.jointspace.tensorflow.serving.ModelServiceGrpc.getHandleReloadConfigRequestMethod(), "admin", null,
        n -> io.jointspace.tensorflow.serving.ReloadConfigRequest.getDefaultInstance());
    expect(ModelServiceGrpc.getListModelsMethod(), "models:read", null, n -> ListModelsRequest.getDefaultInstance());
    expect(ModelServiceGrpc.getGetModelStatusMethod(), "models:read", "model", n -> GetModelStatusRequest.newBuilder().setName(n).build());
    expect(ModelServiceGrpc.getGetModelMetadataMethod(), "models:read", "model",
        n -> GetModelMetadataRequest.newBuilder().setModel(model(n)).build());
    expect(ModelServiceGrpc.getListLabelHistoryMethod(), "models:read", "model",
        n -> ListLabelHistoryRequest.newBuilder().setModel(n).build());
    expect(ModelServiceGrpc.getSetLabelMethod(), "models:write", "model",
        n -> SetLabelRequest.newBuilder().setModel(n).setLabel("x").build());
    expect(ModelServiceGrpc.getDeleteLabelMethod(), "models:write", "model",
        n -> DeleteLabelRequest.newBuilder().setModel(n).setLabel("x").build());
    expect(ModelServiceGrpc.getUploadVersionMethod(), "models:write", "model",
        n -> UploadVersionRequest.newBuilder().setHeader(UploadHeader.newBuilder().setModel(n).setVersion(999)).build());
    expect(ModelServiceGrpc.getDeleteVersionMethod(), "models:write", "model",
        n -> DeleteVersionRequest.newBuilder().setModel(n).setVersion(999).build());
    expect(CollectionServiceGrpc.getCreateCollectionMethod(), "collections:write", "collection",
        n -> CreateCollectionRequest.newBuilder().setName(n).build());
    expect(CollectionServiceGrpc.getGetCollectionMethod(), "collections:read", "collection",
        n -> GetCollectionRequest.newBuilder().setName(n).build());
    expect(CollectionServiceGrpc.getListCollectionsMethod(), "collections:read", null,
        n -> ListCollectionsRequest.getDefaultInstance());
    expect(CollectionServiceGrpc.getUpdateCollectionMethod(), "collections:write", "collection",
        n -> UpdateCollectionRequest.newBuilder().setName(n).build());
    expect(CollectionServiceGrpc.getDeleteCollectionMethod(), "collections:write", "collection",
        n -> DeleteCollectionRequest.newBuilder().setName(n).build());
    expect(CollectionServiceGrpc.getUpsertMethod(), "collections:write", "collection",
        n -> UpsertRequest.newBuilder().setCollection(n).build());
    expect(CollectionServiceGrpc.getUpsertStreamMethod(), "collections:write", "collection",
        n -> UpsertStreamRequest.newBuilder().setCollection(n).build());
    expect(CollectionServiceGrpc.getGetMethod(), "collections:read", "collection", n -> GetRequest.newBuilder().setCollection(n).build());
    expect(CollectionServiceGrpc.getDeleteMethod(), "collections:write", "collection",
        n -> DeleteRequest.newBuilder().setCollection(n).build());
    expect(CollectionServiceGrpc.getSearchMethod(), "collections:read", "collection",
        n -> SearchRequest.newBuilder().setCollection(n).build());
    expect(RolloutServiceGrpc.getStartRolloutMethod(), "collections:write", "collection",
        n -> StartRolloutRequest.newBuilder().setCollection(n).build());
    expect(RolloutServiceGrpc.getGetRolloutMethod(), "collections:read", "collection",
        n -> GetRolloutRequest.newBuilder().setCollection(n).build());
    expect(RolloutServiceGrpc.getListRolloutsMethod(), "collections:read", "collection",
        n -> ListRolloutsRequest.newBuilder().setCollection(n).build());
    expect(RolloutServiceGrpc.getWatchRolloutMethod(), "collections:read", "collection",
        n -> GetRolloutRequest.newBuilder().setCollection(n).build());
    expect(RolloutServiceGrpc.getEvaluateRolloutMethod(), "collections:write", "collection",
        n -> EvaluateRolloutRequest.newBuilder().setCollection(n).build());
    expect(RolloutServiceGrpc.getSetRolloutRateMethod(), "collections:write", "collection",
        n -> SetRolloutRateRequest.newBuilder().setCollection(n).build());
    for (MethodDescriptor<RolloutRequest, ?> m : List.of(RolloutServiceGrpc.getPauseRolloutMethod(),
        RolloutServiceGrpc.getResumeRolloutMethod(), RolloutServiceGrpc.getPromoteRolloutMethod(),
        RolloutServiceGrpc.getRollbackRolloutMethod(), RolloutServiceGrpc.getFinalizeRolloutMethod(),
        RolloutServiceGrpc.getAbortRolloutMethod())) {
      expect(m, "collections:write", "collection", n -> RolloutRequest.newBuilder().setCollection(n).build());
    }
    expect(KeyServiceGrpc.getCreateKeyMethod(), "admin", null, n -> CreateKeyRequest.getDefaultInstance());
    expect(KeyServiceGrpc.getListKeysMethod(), "admin", null, n -> ListKeysRequest.getDefaultInstance());
    expect(KeyServiceGrpc.getRevokeKeyMethod(), "admin", null,
        n -> RevokeKeyRequest.newBuilder().setId("0000000000000000").build());
  }

  @BeforeAll
  static void start() throws Exception {
    db = TestDatabase.fresh();
    fixture = ServerFixture.start(config(db), DemoModelTest.DEMO.getParent());
    direct = new Database(db, 2, Duration.ofSeconds(5));
    keys = new ApiKeys(new KeyStore(direct));
    admin = keys.create("admin", List.of("admin"), "test", null).key();
    expired = keys.create("expired", List.of("admin"), "test", Instant.now().minusSeconds(5)).key();
    ApiKeys.Created r = keys.create("revoked", List.of("admin"), "test", null);
    keys.revoke(r.stored().id());
    revoked = r.key();
    for (String s : SCOPES) {
      String names = s.startsWith("collections") ? COLLECTIONS : MODELS;
      onlyScope.put(s, keys.create("only " + s, List.of(s + "=" + names), "test", null).key());
      allBut.put(s, keys.create("all but " + s, SCOPES.stream().filter(o -> !o.equals(s)).toList(), "test", null).key());
    }
    // made straight in the database: the server reads them on the notification
    awaitKnown(fixture.channel, allBut.get(SCOPES.get(SCOPES.size() - 1)));
    CollectionServiceGrpc.CollectionServiceBlockingStub collections =
        CollectionServiceGrpc.newBlockingStub(fixture.channel).withCallCredentials(bearer(admin));
    for (String name : List.of("allowed", "other")) {
      collections.createCollection(CreateCollectionRequest.newBuilder().setName(name).setModel(model("shapes-clip")).build());
    }
  }

  static ServerConfig.Builder config(DatabaseUrl db) {
    ServerConfig.Builder config = ServerConfig.newBuilder().setAuth(AuthMode.AUTH_ON)
        .setMetricsPort(freePort());
    config.getModelRepositoryBuilder().setOnlyConfiguredModels(true);
    config.addModelsBuilder().setName("shapes-clip").setBasePath(DemoModelTest.DEMO.toString());
    config.getStorageBuilder().setDatabaseUrl(TestDatabase.configUrl(db));
    return config;
  }

  static int freePort() {
    try {
      return ServerFixture.freePort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
    if (direct != null) {
      direct.close();
    }
  }

  /** Sends {@code authorization: Bearer <key>} with every call, as a client library does. */
  static CallCredentials bearer(String key) {
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        Metadata m = new Metadata();
        m.put(AuthInterceptor.AUTHORIZATION, "Bearer " + key);
        applier.apply(m);
      }
    };
  }

  /** How a call ended. A server-streaming call that sent a message is cancelled then: CANCELLED. */
  static Status call(Channel channel, MethodDescriptor<?, ?> method, Message request, @Nullable String key) {
    return start(channel, method, request, key, 20).join();
  }

  /** Starts a call as {@link #call} makes it, with a deadline of {@code seconds}; completes with how it ended. */
  static CompletableFuture<Status> start(Channel channel, MethodDescriptor<?, ?> method, Message request,
      @Nullable String key, int seconds) {
    @SuppressWarnings("unchecked")
    MethodDescriptor<Message, Object> m = ((MethodDescriptor<Message, Object>) method).toBuilder(
        ProtoLiteUtils.marshaller(request.getDefaultInstanceForType()),
        (MethodDescriptor.Marshaller<Object>) method.getResponseMarshaller()).build();
    CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(seconds, TimeUnit.SECONDS);
    if (key != null) {
      options = options.withCallCredentials(bearer(key));
    }
    ClientCall<Message, Object> call = channel.newCall(m, options);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(Object message) {
        if (!method.getType().serverSendsOneMessage()) {
          call.cancel("seen enough", null);
        }
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.sendMessage(request);
    call.halfClose();
    call.request(10); // only now: the listener may cancel the call on its first message
    return closed;
  }

  static List<ServerMethodDefinition<?, ?>> methods() {
    List<ServerMethodDefinition<?, ?>> out = new ArrayList<>();
    for (ServerServiceDefinition s : fixture.server.services()) {
      out.addAll(s.getMethods());
    }
    return out;
  }

  static Message sample(MethodDescriptor<?, ?> m, String name) {
    Expect e = EXPECTED.get(m.getFullMethodName());
    if (e != null) {
      return e.request().apply(name);
    }
    return ((MethodDescriptor.PrototypeMarshaller<?>) m.getRequestMarshaller()).getMessagePrototype() instanceof Message p
        ? p : null;
  }

  static String expectedScope(String method) {
    Expect e = EXPECTED.get(method);
    if (e != null) {
      return e.scope();
    }
    if (method.equals("grpc.health.v1.Health/Check") || method.equals("grpc.health.v1.Health/Watch")) {
      return "open";
    }
    if (method.startsWith("grpc.reflection.")) {
      return "any";
    }
    throw new AssertionError(method + " is new: add what it needs to MethodScopes and to this test");
  }

  static final Set<Status.Code> REFUSED = EnumSet.of(Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED);

  @Test
  void everyMethodOfEveryService_hasAScope() {
    List<ServerMethodDefinition<?, ?>> methods = methods();
    assertThat(methods).hasSizeGreaterThan(40);
    for (ServerMethodDefinition<?, ?> d : methods) {
      String name = d.getMethodDescriptor().getFullMethodName();
      MethodScopes.Rule rule = MethodScopes.of(name).orElseThrow(() -> new AssertionError(name + " has no scope"));
      String scope = expectedScope(name);
      switch (scope) {
        case "open" -> assertThat(rule).as(name).isInstanceOf(MethodScopes.Open.class);
        case "any" -> assertThat(rule).as(name).isInstanceOf(MethodScopes.AnyKey.class);
        default -> assertThat(((MethodScopes.Scoped) rule).scope().text()).as(name).isEqualTo(scope);
      }
    }
  }

  @Test
  void health_isOpenForCheckAndWatchOnly_notForTheWholeService() {
    assertThat(MethodScopes.of(HealthGrpc.getCheckMethod().getFullMethodName())).containsInstanceOf(MethodScopes.Open.class);
    assertThat(MethodScopes.of(HealthGrpc.getWatchMethod().getFullMethodName())).containsInstanceOf(MethodScopes.Open.class);
    // a method a later grpc-java may add to the service is refused to every caller until it has a rule
    assertThat(MethodScopes.of("grpc.health.v1.Health/List")).isEmpty();
  }

  @Test
  void withoutKey_wrongKey_expired_revoked_areUnauthenticated_butHealthIsOpen() {
    String wrong = admin.substring(0, admin.length() - 4) + (admin.endsWith("AAAA") ? "BBBB" : "AAAA");
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("none", null);
    cases.put("garbage", "not-a-key");
    cases.put("wrong secret", wrong);
    cases.put("unknown id", "js_0123456789abcdef_" + admin.substring(admin.length() - 43));
    cases.put("expired", expired);
    cases.put("revoked", revoked);
    for (ServerMethodDefinition<?, ?> d : methods()) {
      MethodDescriptor<?, ?> m = d.getMethodDescriptor();
      String scope = expectedScope(m.getFullMethodName());
      cases.forEach((what, key) -> {
        Status s = call(fixture.channel, m, sample(m, "scratch"), key);
        if (scope.equals("open")) {
          assertThat(s.getCode()).as(m.getFullMethodName() + " " + what).isNotIn(REFUSED);
        } else {
          assertThat(s.getCode()).as(m.getFullMethodName() + " " + what + ": " + s).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(s.getDescription()).doesNotContain("js_");
        }
      });
    }
    assertThat(HealthGrpc.newBlockingStub(fixture.channel).check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(GRPCInferenceServiceGrpc.newBlockingStub(fixture.channel).serverReady(ServerReadyRequest.getDefaultInstance())
        .getReady()).isTrue();
    assertThat(call(fixture.channel, EmbeddingServiceGrpc.getEmbedMethod(), sample(EmbeddingServiceGrpc.getEmbedMethod(),
        "shapes-clip"), expired).getDescription()).isEqualTo("the API key has expired");
    assertThat(call(fixture.channel, EmbeddingServiceGrpc.getEmbedMethod(), sample(EmbeddingServiceGrpc.getEmbedMethod(),
        "shapes-clip"), revoked).getDescription()).isEqualTo("the API key was revoked");
  }

  @Test
  void outOfScope_isPermissionDeniedNamingTheScope_inScope_passes() {
    for (ServerMethodDefinition<?, ?> d : methods()) {
      MethodDescriptor<?, ?> m = d.getMethodDescriptor();
      String name = m.getFullMethodName();
      String scope = expectedScope(name);
      if (scope.equals("open")) {
        continue;
      }
      if (scope.equals("any")) {
        for (String key : List.of(onlyScope.get("infer"), admin)) {
          assertThat(call(fixture.channel, m, sample(m, "scratch"), key).getCode()).as(name).isNotIn(REFUSED);
        }
        continue;
      }
      if (scope.equals("admin")) {
        Status s = call(fixture.channel, m, sample(m, "scratch"), allBut.get("infer"));
        assertThat(s.getCode()).as(name).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(s.getDescription()).isEqualTo("needs admin");
        assertThat(call(fixture.channel, m, sample(m, "scratch"), admin).getCode()).as(name).isNotIn(REFUSED);
        continue;
      }
      Expect e = EXPECTED.get(name);
      // a key without the scope at all
      Status lacking = call(fixture.channel, m, sample(m, "scratch"), allBut.get(scope));
      assertThat(lacking.getCode()).as(name + " " + lacking).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(lacking.getDescription()).as(name).startsWith("needs " + scope);
      if (e.noun() != null) {
        // a key with the scope on other names
        Status other = call(fixture.channel, m, sample(m, "other"), onlyScope.get(scope));
        assertThat(other.getCode()).as(name).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(other.getDescription()).as(name).isEqualTo("needs " + scope + " on " + e.noun() + " 'other'");
      }
      // the scope, limited to the name the request gives; admin has every scope
      for (String key : List.of(onlyScope.get(scope), admin)) {
        Status in = call(fixture.channel, m, sample(m, "scratch"), key);
        assertThat(in.getCode()).as(name + " " + in).isNotIn(REFUSED);
      }
    }
  }

  @Test
  void limitedKey_seesOnlyItsNamesInLists_andWorksOnThem() {
    CollectionServiceGrpc.CollectionServiceBlockingStub limited = CollectionServiceGrpc.newBlockingStub(fixture.channel)
        .withCallCredentials(bearer(onlyScope.get("collections:read")));
    assertThat(limited.listCollections(ListCollectionsRequest.getDefaultInstance()).getCollectionsList())
        .extracting(Collection::getName).containsExactly("allowed");
    assertThat(CollectionServiceGrpc.newBlockingStub(fixture.channel).withCallCredentials(bearer(admin))
        .listCollections(ListCollectionsRequest.getDefaultInstance()).getCollectionsList())
        .extracting(Collection::getName).contains("allowed", "other");
    assertThat(limited.getCollection(GetCollectionRequest.newBuilder().setName("allowed").build()).getName())
        .isEqualTo("allowed");
    assertThat(ModelServiceGrpc.newBlockingStub(fixture.channel).withCallCredentials(bearer(onlyScope.get("models:read")))
        .listModels(ListModelsRequest.getDefaultInstance()).getModelsList()).extracting(m -> m.getName())
        .containsExactly("shapes-clip");
    // a real call in scope
    assertThat(EmbeddingServiceGrpc.newBlockingStub(fixture.channel).withCallCredentials(bearer(onlyScope.get("infer")))
        .embed(EmbedRequest.newBuilder().setModel(model("shapes-clip")).addInputs(Input.newBuilder().setText("a red circle"))
            .build()).getEmbeddingsCount()).isEqualTo(1);
    // a stream whose later message names a collection the key does not hold is ended
    Status mixed = streamTwo(onlyScope.get("collections:write"), "allowed", "other");
    assertThat(mixed.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(mixed.getDescription()).isEqualTo("needs collections:write on collection 'other'");
  }

  /** An UpsertStream of two messages naming {@code first} and {@code second}. */
  static Status streamTwo(String key, String first, String second) {
    ClientCall<UpsertStreamRequest, io.jointspace.api.v1.UpsertStreamResponse> call = fixture.channel.newCall(CollectionServiceGrpc.getUpsertStreamMethod(),
        CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS).withCallCredentials(bearer(key)));
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.request(10);
    call.sendMessage(UpsertStreamRequest.newBuilder().setCollection(first).build());
    call.sendMessage(UpsertStreamRequest.newBuilder().setCollection(second).build());
    call.halfClose();
    return closed.join();
  }

  @Test
  void createKey_showsTheKeyOnce_listNeverShowsSecrets_lastUseIsRecorded() {
    KeyServiceGrpc.KeyServiceBlockingStub stub = KeyServiceGrpc.newBlockingStub(fixture.channel)
        .withCallCredentials(bearer(admin));
    CreateKeyResponse made = stub.createKey(CreateKeyRequest.newBuilder().setName("reader")
        .addScopes("collections:read=allowed").build());
    assertThat(made.getKey()).startsWith("js_" + made.getInfo().getId() + "_");
    assertThat(made.getInfo().getScopesList()).containsExactly("collections:read=allowed");
    assertThat(made.getInfo().getCreatedBy()).isEqualTo(admin.substring(3, 19));
    CollectionServiceGrpc.newBlockingStub(fixture.channel).withCallCredentials(bearer(made.getKey()))
        .getCollection(GetCollectionRequest.newBuilder().setName("allowed").build());
    String secret = made.getKey().substring(20);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    ApiKey listed;
    do {
      var all = stub.listKeys(ListKeysRequest.getDefaultInstance());
      assertThat(all.toString()).doesNotContain(secret);
      listed = all.getKeysList().stream().filter(k -> k.getId().equals(made.getInfo().getId())).findFirst().orElseThrow();
    } while (!listed.hasLastUsedAt() && System.nanoTime() < deadline);
    assertThat(listed.hasLastUsedAt()).isTrue();
    assertThat(listed.hasRevokedAt()).isFalse();
    assertThatThrownBy(() -> stub.createKey(CreateKeyRequest.newBuilder().setName("x").addScopes("collections:rule").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("unknown scope 'collections:rule'");
        });
    assertThatThrownBy(() -> stub.createKey(CreateKeyRequest.newBuilder().setName("x").addScopes("admin=a").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  @Test
  void revocation_isRefusedWithinASecond_byAnotherServerOnTheSameDatabase() throws Exception {
    String key = keys.create("shared", List.of("collections:read"), "test", null).key();
    awaitKnown(fixture.channel, key);
    try (ServerFixture second = ServerFixture.start(config(db), DemoModelTest.DEMO.getParent())) {
      GetCollectionRequest get = GetCollectionRequest.newBuilder().setName("allowed").build();
      var onFirst = CollectionServiceGrpc.newBlockingStub(fixture.channel).withCallCredentials(bearer(key));
      var onSecond = CollectionServiceGrpc.newBlockingStub(second.channel).withCallCredentials(bearer(key));
      onFirst.getCollection(get);
      onSecond.getCollection(get); // cached by both now
      KeyServiceGrpc.newBlockingStub(fixture.channel).withCallCredentials(bearer(admin))
          .revokeKey(RevokeKeyRequest.newBuilder().setId(key).build());
      long revokedAt = System.nanoTime();
      assertThatThrownBy(() -> onFirst.getCollection(get)).isInstanceOfSatisfying(StatusRuntimeException.class,
          e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      long refusedAfter = -1;
      while (System.nanoTime() - revokedAt < TimeUnit.SECONDS.toNanos(5)) {
        try {
          onSecond.getCollection(get);
          Thread.sleep(20);
        } catch (StatusRuntimeException e) {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          refusedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - revokedAt);
          break;
        }
      }
      assertThat(refusedAfter).as("ms until the second server refused the revoked key").isBetween(0L, 1000L);
    }
  }

  @Test
  void keyService_onAServerWithAuthOff_refusesEveryMethod_andChangesNothing() throws Exception {
    ApiKeys.Created victim = keys.create("victim", List.of("infer"), "test", null);
    int before = keys.list().size();
    try (ServerFixture open = ServerFixture.start(config(db).setAuth(AuthMode.AUTH_OFF), DemoModelTest.DEMO.getParent())) {
      KeyServiceGrpc.KeyServiceBlockingStub stub = KeyServiceGrpc.newBlockingStub(open.channel);
      List<Runnable> calls = List.of(
          () -> stub.createKey(CreateKeyRequest.newBuilder().setName("intruder").addScopes("admin").build()),
          () -> stub.listKeys(ListKeysRequest.getDefaultInstance()),
          () -> stub.revokeKey(RevokeKeyRequest.newBuilder().setId(victim.stored().id()).build()));
      for (Runnable c : calls) {
        assertThatThrownBy(c::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).contains("keys are managed on a server with auth on")
              .contains("jointspace keys bootstrap");
        });
      }
      // the rest of the API serves without keys there: lists show everything
      assertThat(CollectionServiceGrpc.newBlockingStub(open.channel).listCollections(ListCollectionsRequest.getDefaultInstance())
          .getCollectionsList()).extracting(Collection::getName).contains("allowed", "other");
      // the same calls with a valid admin key change nothing either: nothing checks it here
      KeyServiceGrpc.KeyServiceBlockingStub withKey = stub.withCallCredentials(bearer(admin));
      assertThatThrownBy(() -> withKey.createKey(CreateKeyRequest.newBuilder().setName("x").addScopes("admin").build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));
    }
    assertThat(keys.list()).hasSize(before).noneMatch(k -> k.name().equals("intruder") || k.name().equals("x"));
    assertThat(keys.list()).filteredOn(k -> k.id().equals(victim.stored().id())).singleElement()
        .satisfies(k -> assertThat(k.revokedAt()).isNull());
  }

  /** A call the test keeps open: what it received, and how it ended. */
  record Open<Q>(ClientCall<Q, ?> call, java.util.concurrent.BlockingQueue<Object> received,
      CompletableFuture<Status> closed) {}

  /** Starts {@code method} with {@code key}, sends {@code first}, and keeps the call open (a stream of requests stays open). */
  static <Q, R> Open<Q> open(Channel channel, MethodDescriptor<Q, R> method, String key, Q first) {
    ClientCall<Q, R> call = channel.newCall(method,
        CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS).withCallCredentials(bearer(key)));
    java.util.concurrent.BlockingQueue<Object> received = new java.util.concurrent.LinkedBlockingQueue<>();
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(R message) {
        received.add(message);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.request(100);
    call.sendMessage(first);
    if (method.getType().clientSendsOneMessage()) {
      call.halfClose();
    }
    return new Open<>(call, received, closed);
  }

  /** Waits until the server has the key (a key made straight in the database reaches it by notification). */
  static void awaitKnown(Channel channel, String key) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    Status s;
    do {
      s = call(channel, ModelServiceGrpc.getListModelsMethod(), ListModelsRequest.getDefaultInstance(), key);
      if (s.getCode() != Status.Code.UNAUTHENTICATED) {
        return;
      }
      Thread.sleep(20);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("the server never took the key: " + s);
  }

  @Test
  void openStreams_endWhenTheirKeyIsRevokedOrExpires_idleOrNot() throws Exception {
    ServerConfig.Builder both = config(db);
    both.getModelsBuilder(0).setVersionPolicy(io.jointspace.config.v1.VersionPolicy.newBuilder()
        .setAll(io.jointspace.config.v1.VersionPolicy.All.getDefaultInstance()));
    try (ServerFixture server = ServerFixture.start(both, DemoModelTest.DEMO.getParent())) {
      CollectionServiceGrpc.newBlockingStub(server.channel).withCallCredentials(bearer(admin))
          .createCollection(CreateCollectionRequest.newBuilder().setName("watched")
              .setModel(ModelSpec.newBuilder().setName("shapes-clip").setVersion(1)).build());
      RolloutServiceGrpc.newBlockingStub(server.channel).withCallCredentials(bearer(admin))
          .startRollout(StartRolloutRequest.newBuilder().setCollection("watched")
              .setTarget(ModelSpec.newBuilder().setName("shapes-clip").setVersion(2)).build());
      List<String> scopes = List.of("infer", "collections:read", "models:read");
      String key = keys.create("streams", scopes, "test", null).key();
      Instant expiry = Instant.now().plusSeconds(3);
      String expiring = keys.create("expiring", scopes, "test", expiry).key();
      awaitKnown(server.channel, key);
      awaitKnown(server.channel, expiring);

      GetRolloutRequest watched = GetRolloutRequest.newBuilder().setCollection("watched").build();
      EmbedStreamRequest embed = EmbedStreamRequest.newBuilder().setRequest(EmbedRequest.newBuilder()
          .setModel(model("shapes-clip")).addInputs(Input.newBuilder().setText("a red circle"))).build();
      Open<GetRolloutRequest> watch = open(server.channel, RolloutServiceGrpc.getWatchRolloutMethod(), key, watched);
      Open<EmbedStreamRequest> stream = open(server.channel, EmbeddingServiceGrpc.getEmbedStreamMethod(), key, embed);
      Open<GetRolloutRequest> watchExpiring =
          open(server.channel, RolloutServiceGrpc.getWatchRolloutMethod(), expiring, watched);
      assertThat(watch.received().poll(20, TimeUnit.SECONDS)).as("the watch's first message").isNotNull();
      assertThat(stream.received().poll(20, TimeUnit.SECONDS)).as("the stream's first answer").isNotNull();
      assertThat(watchExpiring.received().poll(20, TimeUnit.SECONDS)).isNotNull();

      // revoked straight in the database: the server hears of it by notification only
      keys.revoke(key.substring(3, 19));
      long revokedAt = System.nanoTime();
      Status watchEnd = watch.closed().get(5, TimeUnit.SECONDS);
      long watchEndedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - revokedAt);
      assertThat(watchEnd.getCode()).as(watchEnd.toString()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(watchEnd.getDescription()).isEqualTo("the API key was revoked");
      assertThat(watchEndedAfter).as("ms until the idle watch ended").isLessThan(1500);
      stream.received().clear();
      stream.call().sendMessage(embed);
      Status streamEnd = stream.closed().get(5, TimeUnit.SECONDS);
      assertThat(streamEnd.getCode()).as(streamEnd.toString()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(stream.received()).as("answers after the revocation").isEmpty();

      Status expiredEnd = watchExpiring.closed().get(10, TimeUnit.SECONDS);
      assertThat(Instant.now()).isAfterOrEqualTo(expiry);
      assertThat(expiredEnd.getCode()).as(expiredEnd.toString()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(expiredEnd.getDescription()).isEqualTo("the API key has expired");
      assertThat(Duration.between(expiry, Instant.now())).isLessThan(Duration.ofMillis(1500));
    }
  }

  @Test
  void unknownKeys_areRefusedFromMemory_whileTheKeyTableIsLocked() throws Exception {
    String reader = keys.create("reader while locked", List.of("models:read"), "test", null).key();
    awaitKnown(fixture.channel, reader);
    try (java.sql.Connection c = TestDatabase.connect(db); java.sql.Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      // nothing can read the table now: a check that needs the database waits until its deadline
      s.execute("LOCK TABLE jointspace.api_keys IN ACCESS EXCLUSIVE MODE");
      try {
        java.util.Random random = new java.util.Random(7);
        String secret = admin.substring(admin.length() - 43);
        List<CompletableFuture<Status>> flood = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
          String id = String.format("%016x", random.nextLong());
          flood.add(start(fixture.channel, ModelServiceGrpc.getListModelsMethod(), ListModelsRequest.getDefaultInstance(),
              "js_" + id + "_" + secret, 3));
        }
        for (CompletableFuture<Status> f : flood) {
          Status st = f.join();
          assertThat(st.getCode()).as(st.toString()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(st.getDescription()).isEqualTo("the API key is not valid");
        }
        // and the real keys still work, from memory too
        for (String key : List.of(reader, admin)) {
          Status st = start(fixture.channel, ModelServiceGrpc.getListModelsMethod(), ListModelsRequest.getDefaultInstance(),
              key, 3).join();
          assertThat(st.getCode()).as(st.toString()).isEqualTo(Status.Code.OK);
        }
      } finally {
        c.rollback();
      }
    }
  }

  @Test
  void choosingTheModelOfACollectionOrARollout_needsInferOnThatModel() throws Exception {
    String writerOnly = keys.create("writer", List.of("collections:write", "collections:read", "infer=other-model"), "test",
        null).key();
    String writerWithInfer = keys.create("writer with infer", List.of("collections:write", "infer=shapes-clip"), "test",
        null).key();
    awaitKnown(fixture.channel, writerWithInfer);
    CreateCollectionRequest create = CreateCollectionRequest.newBuilder().setName("chosen")
        .setModel(model("shapes-clip")).build();
    var writer = CollectionServiceGrpc.newBlockingStub(fixture.channel).withCallCredentials(bearer(writerOnly));
    assertThatThrownBy(() -> writer.createCollection(create)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(e.getStatus().getDescription()).isEqualTo("needs infer on model 'shapes-clip'");
    });
    assertThatThrownBy(() -> writer.getCollection(GetCollectionRequest.newBuilder().setName("chosen").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    StartRolloutRequest rollout = StartRolloutRequest.newBuilder().setCollection("allowed")
        .setTarget(model("shapes-clip")).setDryRun(true).build();
    assertThatThrownBy(() -> RolloutServiceGrpc.newBlockingStub(fixture.channel).withCallCredentials(bearer(writerOnly))
        .startRollout(rollout)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).isEqualTo("needs infer on model 'shapes-clip'");
        });
    // with infer on the model, the same calls pass the check
    assertThat(CollectionServiceGrpc.newBlockingStub(fixture.channel).withCallCredentials(bearer(writerWithInfer))
        .createCollection(create).getName()).isEqualTo("chosen");
    Status dry = call(fixture.channel, RolloutServiceGrpc.getStartRolloutMethod(), rollout, writerWithInfer);
    assertThat(dry.getCode()).as(dry.toString()).isNotIn(REFUSED);
  }

  @Test
  void caller_failsClosed_whenNoKeyAndNoNoAuthMarkIsSet() throws Exception {
    // what a call sees without the interceptor of either mode (or code outside a call)
    assertThat(Caller.sees(io.jointspace.server.auth.Scope.COLLECTIONS_READ, "allowed")).isFalse();
    assertThatThrownBy(() -> Caller.require(io.jointspace.server.auth.Scope.INFER, "shapes-clip"))
        .isInstanceOf(io.jointspace.server.errors.PermissionDeniedException.class);
    assertThat(Caller.keyId()).isNull();
  }

  @Test
  void theTable_refusesRowsThatCannotBeKeys() throws Exception {
    String good = "'0123456789abcdef', 'by hand', decode(repeat('ab', 32), 'hex'), ARRAY['infer']";
    Map<String, String> bad = Map.of(
        "api_keys_id_form", "'0123456789ABCDEF', 'by hand', decode(repeat('ab', 32), 'hex'), ARRAY['infer']",
        "api_keys_secret_sha256_length", "'0123456789abcdef', 'by hand', decode('ab', 'hex'), ARRAY['infer']",
        "api_keys_scopes_not_empty", "'0123456789abcdef', 'by hand', decode(repeat('ab', 32), 'hex'), ARRAY[]::text[]");
    try (java.sql.Connection c = TestDatabase.connect(db); java.sql.Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      try {
        for (Map.Entry<String, String> e : bad.entrySet()) {
          java.sql.Savepoint before = c.setSavepoint();
          assertThatThrownBy(() -> s.execute("INSERT INTO jointspace.api_keys (id, name, secret_sha256, scopes, created_by)"
              + " VALUES (" + e.getValue() + ", 'test')")).as(e.getKey())
              .isInstanceOfSatisfying(java.sql.SQLException.class, x -> {
                assertThat(x.getSQLState()).isEqualTo("23514");
                assertThat(x.getMessage()).contains(e.getKey());
              });
          c.rollback(before);
        }
        s.execute("INSERT INTO jointspace.api_keys (id, name, secret_sha256, scopes, created_by) VALUES (" + good + ", 'test')");
      } finally {
        c.rollback();
      }
    }
  }

  @Test
  void keyServiceErrors_nameTheField_andNeverRepeatAKey() {
    KeyServiceGrpc.KeyServiceBlockingStub stub = KeyServiceGrpc.newBlockingStub(fixture.channel)
        .withCallCredentials(bearer(admin));
    // a whole key with a damaged secret, as pasted by mistake: only its id part comes back
    String damaged = "js_0123456789abcdef_" + "S3cr3t".repeat(5);
    assertThatThrownBy(() -> stub.revokeKey(RevokeKeyRequest.newBuilder().setId(damaged).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).isEqualTo("no API key with id '0123456789abcdef'");
        });
    for (String notAnId : List.of("js_short_" + "S3cr3t".repeat(7), "S3cr3t".repeat(7))) {
      assertThatThrownBy(() -> stub.revokeKey(RevokeKeyRequest.newBuilder().setId(notAnId).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("not a key id").doesNotContain("S3cr3t");
          });
    }
    for (long seconds : new long[] {Long.MAX_VALUE, 253_402_300_800L, Long.MIN_VALUE}) {
      CreateKeyRequest far = CreateKeyRequest.newBuilder().setName("far").addScopes("infer")
          .setExpiresAt(com.google.protobuf.Timestamp.newBuilder().setSeconds(seconds)).build();
      assertThatThrownBy(() -> stub.createKey(far)).as("seconds %d", seconds)
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).startsWith("expires_at is ");
          });
    }
  }

  @Test
  void aBareBearer_isAMissingKey_notAnInvalidOne() {
    for (String value : List.of("Bearer", "Bearer   ", "bearer")) {
      Metadata headers = new Metadata();
      headers.put(AuthInterceptor.AUTHORIZATION, value);
      assertThatThrownBy(() -> ModelServiceGrpc.newBlockingStub(fixture.channel)
          .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers))
          .listModels(ListModelsRequest.getDefaultInstance())).as("'%s'", value)
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(e.getStatus().getDescription()).isEqualTo(
                io.jointspace.server.auth.Verdict.Reason.MISSING.message());
          });
    }
  }

  @Test
  void refusals_areCountedByReason() throws Exception {
    call(fixture.channel, ModelServiceGrpc.getListModelsMethod(), ListModelsRequest.getDefaultInstance(), null);
    call(fixture.channel, ModelServiceGrpc.getListModelsMethod(), ListModelsRequest.getDefaultInstance(), revoked);
    call(fixture.channel, KeyServiceGrpc.getListKeysMethod(), ListKeysRequest.getDefaultInstance(), onlyScope.get("infer"));
    String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + fixture.server.metricsPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    for (String reason : List.of("missing", "revoked", "scope")) {
      assertThat(text).containsPattern("jointspace_auth_refusals_total\\{reason=\"" + reason + "\"} [1-9]");
    }
    assertThat(text).doesNotContain("js_");
  }
}
