package io.jointspace.client;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteString;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.jointspace.api.v1.ClassifyRequest;
import io.jointspace.api.v1.ClassifyResponse;
import io.jointspace.api.v1.Collection;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.DeleteCollectionRequest;
import io.jointspace.api.v1.DeleteRequest;
import io.jointspace.api.v1.DeleteResponse;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.EvaluateRolloutRequest;
import io.jointspace.api.v1.Evaluation;
import io.jointspace.api.v1.GetCollectionRequest;
import io.jointspace.api.v1.GetModelMetadataRequest;
import io.jointspace.api.v1.GetModelMetadataResponse;
import io.jointspace.api.v1.GetModelStatusRequest;
import io.jointspace.api.v1.GetModelStatusResponse;
import io.jointspace.api.v1.GetRequest;
import io.jointspace.api.v1.GetResponse;
import io.jointspace.api.v1.GetRolloutRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.KeyServiceGrpc;
import io.jointspace.api.v1.LabelChange;
import io.jointspace.api.v1.ListCollectionsRequest;
import io.jointspace.api.v1.ListLabelHistoryRequest;
import io.jointspace.api.v1.ListModelsRequest;
import io.jointspace.api.v1.ListModelsResponse;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.Rollout;
import io.jointspace.api.v1.RolloutRequest;
import io.jointspace.api.v1.RolloutServiceGrpc;
import io.jointspace.api.v1.ScoreRequest;
import io.jointspace.api.v1.ScoreResponse;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.SearchResponse;
import io.jointspace.api.v1.SetLabelRequest;
import io.jointspace.api.v1.StartRolloutRequest;
import io.jointspace.api.v1.StoredItem;
import io.jointspace.api.v1.UpdateCollectionRequest;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.api.v1.UpsertResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;
import java.util.function.Supplier;

/**
 * A connection to a Jointspace server and the calls users make: embed, classify, score,
 * models and labels, collections (create, ingest, get, delete, search) and rollouts.
 *
 * <p>Every call has a deadline (30 s unless the builder says otherwise; ingest and watches
 * have none of their own). Calls that can be repeated without harm (embedding, reads,
 * searches, upserts and deletes by id) are retried by gRPC on UNAVAILABLE and
 * RESOURCE_EXHAUSTED with exponential backoff; creating, starting and switching are not. A
 * failed call throws {@link JointspaceException} with the status code and the field the
 * server named. Thread-safe; {@link #close()} when done.
 */
public final class JointspaceClient implements AutoCloseable {
  private final ManagedChannel channel;
  private final Duration deadline;
  private final EmbeddingServiceGrpc.EmbeddingServiceBlockingStub embeddings;
  private final EmbeddingServiceGrpc.EmbeddingServiceFutureStub embeddingsAsync;
  private final ModelServiceGrpc.ModelServiceBlockingStub models;
  private final CollectionServiceGrpc.CollectionServiceBlockingStub collections;
  private final CollectionServiceGrpc.CollectionServiceFutureStub collectionsAsync;
  private final CollectionServiceGrpc.CollectionServiceStub collectionsStreaming;
  private final RolloutServiceGrpc.RolloutServiceBlockingStub rollouts;

  private final KeyServiceGrpc.KeyServiceBlockingStub keys;
  @javax.annotation.Nullable private final io.grpc.CallCredentials credentials;

  private JointspaceClient(ManagedChannel managed, Duration deadline,
      @javax.annotation.Nullable io.grpc.CallCredentials credentials) {
    this.channel = managed;
    this.credentials = credentials;
    // every call carries the key: the stubs below are made on a channel that adds it
    io.grpc.Channel channel = credentials == null ? managed : io.grpc.ClientInterceptors.intercept(managed,
        new io.grpc.ClientInterceptor() {
          @Override
          public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> method,
              io.grpc.CallOptions options, io.grpc.Channel next) {
            return next.newCall(method, options.withCallCredentials(credentials));
          }
        });
    this.keys = KeyServiceGrpc.newBlockingStub(channel);
    this.deadline = deadline;
    this.embeddings = EmbeddingServiceGrpc.newBlockingStub(channel);
    this.embeddingsAsync = EmbeddingServiceGrpc.newFutureStub(channel);
    this.models = ModelServiceGrpc.newBlockingStub(channel);
    this.collections = CollectionServiceGrpc.newBlockingStub(channel);
    this.collectionsAsync = CollectionServiceGrpc.newFutureStub(channel);
    this.collectionsStreaming = CollectionServiceGrpc.newStub(channel);
    this.rollouts = RolloutServiceGrpc.newBlockingStub(channel);
  }

  /** A client of the server at {@code host:port} (plaintext), with the defaults; {@link #builder} for TLS. */
  public static JointspaceClient connect(String address) {
    return builder(address).build();
  }

  public static Builder builder(String address) {
    return new Builder(address);
  }

  /** How to connect. */
  public static final class Builder {
    private final String address;
    private Duration deadline = Duration.ofSeconds(30);
    private int maxMessageBytes = 64 << 20;
    private int maxAttempts = 4;
    private String apiKey;
    private boolean tls;
    @Nullable private Path trustedCas;
    @Nullable private Path clientCert;
    @Nullable private Path clientKey;

    private Builder(String address) {
      this.address = address;
    }

    /** Deadline of each unary call. Default 30 s. */
    public Builder deadline(Duration deadline) {
      this.deadline = deadline;
      return this;
    }

    /** Largest answer taken. Default 64 MiB, the server's own limit. */
    public Builder maxMessageBytes(int bytes) {
      this.maxMessageBytes = bytes;
      return this;
    }

    /** Tries per repeatable call, the first included; 1 turns retries off. Default 4. */
    public Builder maxAttempts(int attempts) {
      this.maxAttempts = attempts;
      return this;
    }

    /**
     * The API key sent with every call ({@code authorization: Bearer <key>}), for a server that
     * requires keys. Default: none. Null or empty: none.
     */
    public Builder apiKey(String key) {
      this.apiKey = key == null || key.isBlank() ? null : key;
      return this;
    }

    /**
     * Connects over TLS and trusts the server's certificate when one of the CAs in
     * {@code caPem} (PEM) issued it; null trusts the system's CAs. The certificate must name
     * the host of the address (its IP address or DNS name). Default: plaintext.
     */
    public Builder tls(@Nullable Path caPem) {
      this.tls = true;
      this.trustedCas = caPem;
      return this;
    }

    /**
     * Presents this client certificate, for a server that requires one ({@code
     * --tls-client-ca}, mTLS); implies TLS. {@code certPem}: the certificate chain, PEM;
     * {@code keyPem}: its private key, unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY").
     */
    public Builder clientCertificate(Path certPem, Path keyPem) {
      this.tls = true;
      this.clientCert = certPem;
      this.clientKey = keyPem;
      return this;
    }

    /**
     * The channel to the server.
     *
     * @throws IllegalArgumentException when a TLS file cannot be read or is not PEM of the
     *     right kind, naming the file
     */
    public JointspaceClient build() {
      NettyChannelBuilder b = tls ? tlsChannel() : NettyChannelBuilder.forTarget(address).usePlaintext();
      b.maxInboundMessageSize(maxMessageBytes);
      if (maxAttempts > 1) {
        b.defaultServiceConfig(RetryPolicy.serviceConfig(maxAttempts)).enableRetry();
      } else {
        b.disableRetry();
      }
      return new JointspaceClient(b.build(), deadline, apiKey == null ? null : new ApiKeyCredentials(apiKey));
    }

    private NettyChannelBuilder tlsChannel() {
      TlsChannelCredentials.Builder credentials = TlsChannelCredentials.newBuilder();
      try {
        if (trustedCas != null) {
          credentials.trustManager(trustedCas.toFile());
        }
        if (clientCert != null) {
          credentials.keyManager(clientCert.toFile(), clientKey.toFile());
        }
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read " + e.getMessage(), e);
      }
      try {
        return NettyChannelBuilder.forTarget(address, credentials.build());
      } catch (IllegalArgumentException e) {
        // what grpc-java could not parse: a file that is not PEM, a key it cannot read
        throw new IllegalArgumentException("TLS files " + describeFiles() + " not usable: " + e.getMessage(), e);
      }
    }

    private String describeFiles() {
      List<String> files = new ArrayList<>();
      if (trustedCas != null) {
        files.add("CA " + trustedCas);
      }
      if (clientCert != null) {
        files.add("certificate " + clientCert + ", key " + clientKey);
      }
      return files.isEmpty() ? "(none)" : "(" + String.join(", ", files) + ")";
    }
  }

  // ---- inputs and models

  public static Input text(String text) {
    return Input.newBuilder().setText(text).build();
  }

  public static Input image(byte[] encoded) {
    return Input.newBuilder().setImage(ByteString.copyFrom(encoded)).build();
  }

  /** An image from a file (PNG, JPEG, GIF or BMP). */
  public static Input image(Path file) {
    try {
      return Input.newBuilder().setImage(ByteString.copyFrom(Files.readAllBytes(file))).build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read image " + file + ": " + e.getMessage(), e);
    }
  }

  /** The newest AVAILABLE version of {@code name}. */
  public static ModelSpec model(String name) {
    return ModelSpec.newBuilder().setName(name).build();
  }

  public static ModelSpec model(String name, long version) {
    return ModelSpec.newBuilder().setName(name).setVersion(version).build();
  }

  public static ModelSpec label(String name, String label) {
    return ModelSpec.newBuilder().setName(name).setLabel(label).build();
  }

  // ---- embedding

  /** One vector per input, in order. */
  public List<float[]> embed(ModelSpec model, List<Input> inputs) {
    return vectors(embedResponse(model, inputs));
  }

  /** The whole answer: vectors, dimension, the version that embedded them. */
  public EmbedResponse embedResponse(ModelSpec model, List<Input> inputs) {
    return embedResponse(EmbedRequest.newBuilder().setModel(model).addAllInputs(inputs).build());
  }

  /**
   * Sends {@code request} as it is, {@code output_name} for tensor inputs included: built once,
   * it can be sent again and again, as a load generator does. The whole answer.
   */
  public EmbedResponse embedResponse(EmbedRequest request) {
    return call(() -> timed(embeddings).embed(request));
  }

  /**
   * As {@link #embedResponse(EmbedRequest)}, without blocking: nothing is built or converted
   * per call. A refused call completes the future with a {@link JointspaceException}.
   */
  public CompletableFuture<EmbedResponse> embedResponseAsync(EmbedRequest request) {
    return future(timed(embeddingsAsync).embed(request));
  }

  /** As {@link #embed}, without blocking. */
  public CompletableFuture<List<float[]>> embedAsync(ModelSpec model, List<Input> inputs) {
    return embedResponseAsync(EmbedRequest.newBuilder().setModel(model).addAllInputs(inputs).build())
        .thenApply(JointspaceClient::vectors);
  }

  /** Zero-shot: each input scored against {@code labels} (the server's default templates). */
  public ClassifyResponse classify(ModelSpec model, List<Input> inputs, List<String> labels) {
    ClassifyRequest request = ClassifyRequest.newBuilder().setModel(model).addAllInputs(inputs)
        .addAllLabels(labels).build();
    return call(() -> timed(embeddings).classify(request));
  }

  /** Cosine similarity of every query to every candidate. */
  public ScoreResponse score(ModelSpec model, List<Input> queries, List<Input> candidates) {
    ScoreRequest request = ScoreRequest.newBuilder().setModel(model).addAllQueries(queries)
        .addAllCandidates(candidates).build();
    return call(() -> timed(embeddings).score(request));
  }

  // ---- models and labels

  public ListModelsResponse listModels() {
    return call(() -> timed(models)
        .listModels(ListModelsRequest.getDefaultInstance()));
  }

  public GetModelStatusResponse modelStatus(String model) {
    return call(() -> timed(models)
        .getModelStatus(GetModelStatusRequest.newBuilder().setName(model).build()));
  }

  /**
   * The version that answers for {@code model} (name, and version or label if set): its
   * signatures, embedding dimension and encoder spec (unset for raw tensors only). NOT_FOUND
   * or UNAVAILABLE until that version is loaded.
   */
  public GetModelMetadataResponse modelMetadata(ModelSpec model) {
    return call(() -> timed(models)
        .getModelMetadata(GetModelMetadataRequest.newBuilder().setModel(model).build()));
  }

  /** Points {@code label} of {@code model} at {@code version}. */
  public LabelChange setLabel(String model, String label, long version) {
    return call(() -> timed(models)
        .setLabel(SetLabelRequest.newBuilder().setModel(model).setLabel(label).setVersion(version).build()));
  }

  /** Every change of {@code label} (every label when empty), oldest first. */
  public List<LabelChange> labelHistory(String model, String label) {
    return call(() -> timed(models)
        .listLabelHistory(ListLabelHistoryRequest.newBuilder().setModel(model).setLabel(label).build()))
        .getChangesList();
  }

  // ---- collections

  /** A collection on {@code model} with the server's defaults (cosine, float32, sources kept). */
  public Collection createCollection(String name, ModelSpec model) {
    return createCollection(CreateCollectionRequest.newBuilder().setName(name).setModel(model).build());
  }

  public Collection createCollection(CreateCollectionRequest request) {
    return call(() -> timed(collections)
        .createCollection(request));
  }

  public Collection getCollection(String name) {
    return call(() -> timed(collections)
        .getCollection(GetCollectionRequest.newBuilder().setName(name).build()));
  }

  /**
   * Changes what the request's update_mask names (description, indexed_keys); answers the
   * collection as it is now.
   */
  public Collection updateCollection(UpdateCollectionRequest request) {
    return call(() -> timed(collections)
        .updateCollection(request));
  }

  /** Sets the collection's indexed keys (the whole list): see CreateCollectionRequest.indexed_keys. */
  public Collection setIndexedKeys(String name, List<String> keys) {
    return updateCollection(UpdateCollectionRequest.newBuilder().setName(name)
        .setUpdateMask(com.google.protobuf.FieldMask.newBuilder().addPaths("indexed_keys"))
        .addAllIndexedKeys(keys).build());
  }

  public List<Collection> listCollections() {
    return call(() -> timed(collections)
        .listCollections(ListCollectionsRequest.getDefaultInstance())).getCollectionsList();
  }

  public void deleteCollection(String name) {
    call(() -> timed(collections)
        .deleteCollection(DeleteCollectionRequest.newBuilder().setName(name).build()));
  }

  /** Writes up to 1000 items in one transaction; returns how many. */
  public int upsert(String collection, List<Item> items) {
    UpsertRequest request = UpsertRequest.newBuilder().setCollection(collection).addAllItems(items).build();
    return call(() -> timed(collections).upsert(request))
        .getUpsertedCount();
  }

  /**
   * An Upsert sent as it is; its response carries the consistency token to read the write
   * back from a server that reads from streaming replicas ({@link Search#consistencyToken},
   * {@link #get(GetRequest)}).
   */
  public UpsertResponse upsert(UpsertRequest request) {
    return call(() -> timed(collections).upsert(request));
  }

  /**
   * Bulk ingest over UpsertStream (see {@link Ingest}): batches, flow control, and skipping
   * what an earlier run committed.
   */
  public Ingest.Result ingest(String collection, Iterator<Item> items, Ingest.Options options) {
    return new Ingest(this, collectionsStreaming, collection, options).run(items);
  }

  /** Stored items among {@code ids} (at most 1000), in request order. */
  public List<StoredItem> get(String collection, List<String> ids, boolean vectors, boolean sources) {
    GetRequest request = GetRequest.newBuilder().setCollection(collection).addAllIds(ids)
        .setIncludeVectors(vectors).setIncludeSources(sources).build();
    return call(() -> timed(collections).get(request))
        .getItemsList();
  }

  /** A Get sent as it is (with a consistency token, say). */
  public GetResponse get(GetRequest request) {
    return call(() -> timed(collections).get(request));
  }

  /** A Delete sent as it is; its response carries the consistency token. */
  public DeleteResponse delete(DeleteRequest request) {
    return call(() -> timed(collections).delete(request));
  }

  /** Deletes {@code ids} (at most 1000); returns how many were stored. */
  public int delete(String collection, List<String> ids) {
    DeleteRequest request = DeleteRequest.newBuilder().setCollection(collection).addAllIds(ids).build();
    return call(() -> timed(collections).delete(request))
        .getDeletedCount();
  }

  /** A search of {@code collection}: set the query and options, then {@link Search#run()}. */
  public Search search(String collection) {
    return new Search(this, collection);
  }

  /**
   * A search request built once (for example with {@link Search#toProto()}) and sent as it
   * is: a load generator cycling through prepared queries builds nothing per call.
   */
  public SearchResponse search(SearchRequest request) {
    return call(() -> timed(collections).search(request));
  }

  CompletableFuture<SearchResponse> searchAsync(SearchRequest request) {
    return future(timed(collectionsAsync).search(request));
  }

  // ---- rollouts

  /** Starts moving {@code collection} to {@code target} (see docs/rollouts.md). */
  public Rollout startRollout(String collection, ModelSpec target) {
    return startRollout(StartRolloutRequest.newBuilder().setCollection(collection).setTarget(target).build());
  }

  public Rollout startRollout(StartRolloutRequest request) {
    return call(() -> timed(rollouts).startRollout(request));
  }

  /** The collection's open rollout, else its newest. */
  public Rollout getRollout(String collection) {
    return call(() -> timed(rollouts)
        .getRollout(GetRolloutRequest.newBuilder().setCollection(collection).build()));
  }

  /**
   * The rollout now and at each change, until it is finalized or aborted (or
   * {@code maxWait} passes: the iteration then ends with a DEADLINE_EXCEEDED exception).
   * Close it to stop watching earlier.
   */
  public RolloutWatch watchRollout(String collection, Duration maxWait) {
    Context.CancellableContext context = Context.current().withCancellation();
    Context previous = context.attach();
    try {
      Iterator<Rollout> it = rollouts.withDeadlineAfter(maxWait.toMillis(), TimeUnit.MILLISECONDS)
          .watchRollout(GetRolloutRequest.newBuilder().setCollection(collection).build());
      return new RolloutWatch(it, context);
    } finally {
      context.detach(previous);
    }
  }

  /** A WatchRollout stream: iterate it, close it when done. */
  public static final class RolloutWatch implements Iterator<Rollout>, AutoCloseable {
    private final Iterator<Rollout> stream;
    private final Context.CancellableContext context;

    private RolloutWatch(Iterator<Rollout> stream, Context.CancellableContext context) {
      this.stream = stream;
      this.context = context;
    }

    @Override
    public boolean hasNext() {
      return call(stream::hasNext);
    }

    @Override
    public Rollout next() {
      return call(stream::next);
    }

    /** Ends the watch (the server stops sending). */
    @Override
    public void close() {
      context.cancel(null);
    }
  }

  public Rollout promote(String collection) {
    return call(() -> timed(rollouts).promoteRollout(on(collection)));
  }

  public Rollout rollback(String collection) {
    return call(() -> timed(rollouts)
        .rollbackRollout(on(collection)));
  }

  public Rollout finalizeRollout(String collection) {
    return call(() -> timed(rollouts)
        .finalizeRollout(on(collection)));
  }

  public Rollout abort(String collection) {
    return call(() -> timed(rollouts).abortRollout(on(collection)));
  }

  public Evaluation evaluate(EvaluateRolloutRequest request) {
    return call(() -> timed(rollouts)
        .evaluateRollout(request));
  }

  private static RolloutRequest on(String collection) {
    return RolloutRequest.newBuilder().setCollection(collection).build();
  }

  // ---- plumbing

  /**
   * The channel, for the services this class does not cover (KServe v2, health). Calls made on
   * it carry no API key: add {@link #callCredentials()} to their stubs.
   */
  public ManagedChannel channel() {
    return channel;
  }

  /** The API key's credentials given to the builder; empty without one. */
  public java.util.Optional<io.grpc.CallCredentials> callCredentials() {
    return java.util.Optional.ofNullable(credentials);
  }

  // ---- API keys (KeyService; each call needs an admin key)

  /** Makes a key with {@code scopes} ("infer", "collections:read=a,b"); the answer holds the key, shown only once. */
  public io.jointspace.api.v1.CreateKeyResponse createKey(String name, List<String> scopes,
      @javax.annotation.Nullable java.time.Instant expiresAt) {
    io.jointspace.api.v1.CreateKeyRequest.Builder r = io.jointspace.api.v1.CreateKeyRequest.newBuilder()
        .setName(name).addAllScopes(scopes);
    if (expiresAt != null) {
      r.setExpiresAt(com.google.protobuf.Timestamp.newBuilder().setSeconds(expiresAt.getEpochSecond())
          .setNanos(expiresAt.getNano()));
    }
    return call(() -> timed(keys).createKey(r.build()));
  }

  /** Every key, newest first, without secrets. */
  public List<io.jointspace.api.v1.ApiKey> listKeys() {
    return call(() -> timed(keys)
        .listKeys(io.jointspace.api.v1.ListKeysRequest.getDefaultInstance())).getKeysList();
  }

  /** Revokes a key by its id (or the whole key); every server sharing the database refuses it within a second. */
  public io.jointspace.api.v1.ApiKey revokeKey(String id) {
    return call(() -> timed(keys)
        .revokeKey(io.jointspace.api.v1.RevokeKeyRequest.newBuilder().setId(id).build()));
  }

  /** {@code stub} with this client's deadline, counted from now: every call gets one. */
  private <S extends io.grpc.stub.AbstractStub<S>> S timed(S stub) {
    return stub.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  static <T> T call(Supplier<T> call) {
    try {
      return call.get();
    } catch (StatusRuntimeException e) {
      throw JointspaceException.of(e);
    }
  }

  private static <T> CompletableFuture<T> future(ListenableFuture<T> f) {
    CompletableFuture<T> out = new CompletableFuture<>();
    Futures.addCallback(f, new FutureCallback<>() {
      @Override
      public void onSuccess(T result) {
        out.complete(result);
      }

      @Override
      public void onFailure(Throwable t) {
        out.completeExceptionally(t instanceof StatusRuntimeException e ? JointspaceException.of(e) : t);
      }
    }, MoreExecutors.directExecutor());
    return out;
  }

  private static List<float[]> vectors(EmbedResponse r) {
    List<float[]> out = new ArrayList<>(r.getEmbeddingsCount());
    r.getEmbeddingsList().forEach(e -> {
      float[] v = new float[e.getValuesCount()];
      for (int i = 0; i < v.length; i++) {
        v[i] = e.getValues(i);
      }
      out.add(v);
    });
    return out;
  }

  @Override
  public void close() {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
