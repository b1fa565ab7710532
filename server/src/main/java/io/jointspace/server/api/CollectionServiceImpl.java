package io.jointspace.server.api;

import io.jointspace.server.auth.Scope;
import com.google.inject.Inject;
import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.DeleteCollectionRequest;
import io.jointspace.api.v1.DeleteCollectionResponse;
import io.jointspace.api.v1.DeleteRequest;
import io.jointspace.api.v1.DeleteResponse;
import io.jointspace.api.v1.GetCollectionRequest;
import io.jointspace.api.v1.GetRequest;
import io.jointspace.api.v1.GetResponse;
import io.jointspace.api.v1.Hit;
import io.jointspace.api.v1.IndexParameters;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.ListCollectionsRequest;
import io.jointspace.api.v1.ListCollectionsResponse;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.SearchResponse;
import io.jointspace.api.v1.UpdateCollectionRequest;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.api.v1.UpsertResponse;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.api.v1.UpsertStreamResponse;
import io.jointspace.api.v1.Vector;
import io.jointspace.registry.ModelHandle;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelRequest;
import io.jointspace.registry.ServableId;
import io.jointspace.server.runtime.Encoder;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.registry.LabelTarget;
import io.jointspace.server.labels.ModelLabels;
import io.jointspace.server.rollout.LabelPolicy;
import io.jointspace.server.store.Collection;
import io.jointspace.server.store.CollectionChangedException;
import io.jointspace.server.store.ConsistencyToken;
import io.jointspace.server.store.Reader;
import io.jointspace.server.store.VersionTable;
import io.jointspace.server.store.CollectionSpec;
import io.jointspace.server.store.ItemWrite;
import io.jointspace.server.store.Metric;
import io.jointspace.server.store.SearchHit;
import io.jointspace.server.store.SearchQuery;
import io.jointspace.server.store.Storage;
import io.jointspace.server.store.StoredItem;
import io.jointspace.server.store.VectorType;
import java.util.List;

/**
 * {@code jointspace.v1.CollectionService}: collections of embeddings in PostgreSQL. Items
 * given as text or images are embedded with the collection's own model version; every write
 * is answered after its transaction commits, with a consistency token. Search, Get,
 * GetCollection and ListCollections are reads: {@link Storage#read} runs them on a streaming
 * replica when the server has one (all of a read on one {@link Reader}), else on the primary.
 */
public final class CollectionServiceImpl extends CollectionServiceGrpc.CollectionServiceImplBase {
  private final ModelManager<ModelVersion> registry;
  private final Storage storage;
  private final ModelLabels labels;
  private final ItemEmbedder embedder;

  @Inject
  CollectionServiceImpl(ModelManager<ModelVersion> registry, Storage storage, ModelLabels labels) {
    this.registry = registry;
    this.storage = storage;
    this.labels = labels;
    this.embedder = new ItemEmbedder(registry);
  }

  @Override
  public void createCollection(CreateCollectionRequest request,
      StreamObserver<io.jointspace.api.v1.Collection> observer) {
    StatusMapper.answer(observer, () -> {
      if (!request.hasModel()) {
        throw new InvalidInputException("model is not set; name the model that embeds this collection");
      }
      ModelRequest wanted = ProtoMapper.modelRequest(request.getModel(), "model");
      // the collection's model runs on every write and search: choosing it is running it
      Caller.require(Scope.INFER, request.getModel().getName());
      Collection.Following following = null;
      if (request.getModel().hasLabel()) {
        // a collection on a label lives on the label's main version, and follows the label
        String label = request.getModel().getLabel();
        LabelTarget target = labels.targets(request.getModel().getName()).get(label);
        if (target != null) {
          wanted = ModelRequest.version(request.getModel().getName(), target.primary());
        }
        following = new Collection.Following(label, LabelPolicies.fromProto(request.getLabelPolicy()).toJson());
      } else if (request.hasLabelPolicy()) {
        throw new InvalidInputException("label_policy: the collection follows no label; create it with model.label"
            + " to have it follow one");
      }
      long version;
      int dimension;
      try (ModelHandle<ModelVersion> model = CallModel.acquire(registry, wanted)) {
        version = model.id().version();
        dimension = model.get().encoder().map(Encoder::dimension).orElse(0);
      }
      if (request.getDimension() < 0) {
        throw new InvalidInputException("dimension must not be negative, got " + request.getDimension());
      }
      if (dimension == 0) {
        if (request.getDimension() == 0) {
          throw new InvalidInputException("dimension: model " + request.getModel().getName() + " version " + version
              + " has no encoder spec, so its embedding size is unknown; give dimension (items then need vectors)");
        }
        dimension = request.getDimension();
      } else if (request.getDimension() != 0 && request.getDimension() != dimension) {
        throw new InvalidInputException("dimension " + request.getDimension() + " differs from the model's "
            + dimension);
      }
      IndexParameters index = request.getIndex();
      if (index.getM() < 0 || index.getEfConstruction() < 0) {
        throw new InvalidInputException("index.m and index.ef_construction must not be negative");
      }
      CollectionSpec spec = new CollectionSpec(request.getName(), request.getModel().getName(), version, dimension,
          metric(request), vectorType(request),
          index.getM() == 0 ? CollectionSpec.DEFAULT_M : index.getM(),
          index.getEfConstruction() == 0 ? CollectionSpec.DEFAULT_EF_CONSTRUCTION : index.getEfConstruction(),
          !request.hasKeepSources() || request.getKeepSources(), request.getDescription(),
          request.getIndexedKeysList());
      Collection created = storage.catalog().create(spec, following);
      return collection(created, 0);
    });
  }

  private static Metric metric(CreateCollectionRequest r) {
    return switch (r.getMetric()) {
      case METRIC_UNSPECIFIED, COSINE -> Metric.COSINE;
      case INNER_PRODUCT -> Metric.INNER_PRODUCT;
      case L2 -> Metric.L2;
      case UNRECOGNIZED -> throw new InvalidInputException("metric " + r.getMetricValue() + " is unknown");
    };
  }

  private static VectorType vectorType(CreateCollectionRequest r) {
    return switch (r.getVectorType()) {
      case VECTOR_TYPE_UNSPECIFIED, VECTOR -> VectorType.VECTOR;
      case HALFVEC -> VectorType.HALFVEC;
      case UNRECOGNIZED -> throw new InvalidInputException("vector_type " + r.getVectorTypeValue() + " is unknown");
    };
  }

  @Override
  public void getCollection(GetCollectionRequest request, StreamObserver<io.jointspace.api.v1.Collection> observer) {
    StatusMapper.answer(observer, () -> storage.read(token(request.getConsistencyToken()), r -> {
      Collection c = r.catalog().get(request.getName());
      return collection(c, r.catalog().count(c));
    }));
  }

  @Override
  public void updateCollection(UpdateCollectionRequest request,
      StreamObserver<io.jointspace.api.v1.Collection> observer) {
    StatusMapper.answer(observer, () -> {
      if (!request.hasUpdateMask() || request.getUpdateMask().getPathsCount() == 0) {
        throw new InvalidInputException("update_mask is empty; name the fields to change (description,"
            + " indexed_keys)");
      }
      String description = null;
      List<String> indexedKeys = null;
      for (int i = 0; i < request.getUpdateMask().getPathsCount(); i++) {
        String path = request.getUpdateMask().getPaths(i);
        switch (path) {
          case "description" -> description = request.getDescription();
          case "indexed_keys" -> indexedKeys = request.getIndexedKeysList();
          default -> throw new InvalidInputException("update_mask.paths[" + i + "]: '" + path
              + "' cannot be updated; updatable: description, indexed_keys");
        }
      }
      Collection updated = storage.catalog().update(request.getName(), description, indexedKeys);
      if (indexedKeys != null) {
        storage.indexBuilds().keysChanged();
      }
      // an estimate, as ListCollections gives: an exact count would read the whole table
      long estimate = storage.catalog().estimatedCounts(List.of(updated)).getOrDefault(updated.name(), 0L);
      return collection(updated, estimate);
    });
  }

  @Override
  public void listCollections(ListCollectionsRequest request, StreamObserver<ListCollectionsResponse> observer) {
    StatusMapper.answer(observer, () -> storage.read(token(request.getConsistencyToken()), r -> {
      ListCollectionsResponse.Builder out = ListCollectionsResponse.newBuilder();
      List<Collection> collections = r.catalog().list().stream()
          .filter(c -> Caller.sees(Scope.COLLECTIONS_READ, c.name())) // a key limited to other collections
          .toList();
      java.util.Map<String, Long> counts = r.catalog().estimatedCounts(collections);
      for (Collection c : collections) {
        out.addCollections(collection(c, counts.getOrDefault(c.name(), 0L)));
      }
      return out.build();
    }));
  }

  @Override
  public void deleteCollection(DeleteCollectionRequest request, StreamObserver<DeleteCollectionResponse> observer) {
    StatusMapper.answer(observer, () -> {
      storage.catalog().delete(request.getName());
      return DeleteCollectionResponse.newBuilder().setConsistencyToken(storage.writeToken().toString()).build();
    });
  }

  @Override
  public void upsert(UpsertRequest request, StreamObserver<UpsertResponse> observer) {
    StatusMapper.answer(observer, () -> {
      Collection first = storage.catalog().get(ProtoMapper.collectionName(request.getCollection(), "collection"));
      return write(first, c -> {
        List<ItemWrite> items = embedder.items(c, request.getItemsList(), "items",
            io.jointspace.server.store.Limits.MAX_ITEMS_PER_UPSERT);
        int n = storage.items().upsert(c, items, embedder.replicaItems(c, request.getItemsList(), items, "items"), "items");
        return UpsertResponse.newBuilder().setUpsertedCount(n).setModel(model(c));
      }).result().setConsistencyToken(storage.writeToken().toString()).build();
    });
  }

  @Override
  public StreamObserver<UpsertStreamRequest> upsertStream(StreamObserver<UpsertStreamResponse> observer) {
    StreamPacing pacing = StreamPacing.start(observer);
    return new StreamObserver<>() {
      private Collection collection;
      private long index;
      private long total;
      private boolean failed;
      // a bulk load: open from the first message until the stream ends, however it ends
      private io.jointspace.server.store.IndexBuilds.Load bulk;

      @Override
      public void onNext(UpsertStreamRequest message) {
        if (failed) {
          return;
        }
        try {
          String name = message.getCollection();
          if (collection == null) {
            collection = storage.catalog().get(ProtoMapper.collectionName(name, "collection"));
            bulk = storage.indexBuilds().begin(collection);
          } else if (!name.isEmpty() && !name.equals(collection.name())) {
            throw new InvalidInputException("collection '" + name + "' differs from the stream's '"
                + collection.name() + "'; one stream writes one collection");
          }
          Written<Integer> written = write(collection, c -> {
            List<ItemWrite> items = embedder.items(c, message.getItemsList(), "items",
                io.jointspace.server.store.Limits.MAX_ITEMS_PER_STREAM_MESSAGE);
            return storage.items().copyUpsert(c, items, embedder.replicaItems(c, message.getItemsList(), items, "items"),
                "items");
          });
          collection = written.collection();
          int n = written.result();
          total += n;
          observer.onNext(UpsertStreamResponse.newBuilder()
              .setCommittedCount(n).setTotalCommitted(total).setMessageIndex(index++)
              .setConsistencyToken(storage.writeToken().toString()).build());
          pacing.next();
        } catch (RuntimeException e) {
          failed = true;
          endBulk();
          observer.onError(StatusMapper.toStatus(e, "message " + index + ": ",
              " (" + total + " items committed before it)"));
        }
      }

      @Override
      public void onError(Throwable t) {
        // the client went away; what was answered is committed
        endBulk();
      }

      @Override
      public void onCompleted() {
        endBulk();
        if (!failed) {
          observer.onCompleted();
        }
      }

      private void endBulk() {
        if (bulk != null) {
          bulk.close(); // the last bulk load on the table builds its index, in the background
          bulk = null;
        }
      }
    };
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> observer) {
    StatusMapper.answer(observer, () -> {
      String name = ProtoMapper.collectionName(request.getCollection(), "collection");
      return storage.read(token(request.getConsistencyToken()), r -> read(r, name, c -> get(r, c, request)));
    });
  }

  private GetResponse get(Reader r, Collection collection, GetRequest request) {
    Collection c = request.getModelVersion() == 0 ? collection
        : collection.atVersion(request.getModelVersion(), "model_version");
    GetResponse.Builder out = GetResponse.newBuilder().setModel(model(c));
    for (StoredItem item : r.items().get(c, request.getIdsList(), request.getIncludeVectors(),
        request.getIncludeSources())) {
      io.jointspace.api.v1.StoredItem.Builder b = io.jointspace.api.v1.StoredItem.newBuilder()
          .setId(item.id())
          .setMetadata(Json.struct(item.metadataJson()))
          .setCreatedAt(ProtoMapper.timestamp(item.createdAt()))
          .setUpdatedAt(ProtoMapper.timestamp(item.updatedAt()));
      if (item.vector() != null) {
        b.setVector(vector(item.vector()));
      }
      if (item.sourceText() != null) {
        b.setSource(Input.newBuilder().setText(item.sourceText()));
      } else if (item.sourceImage() != null) {
        b.setSource(Input.newBuilder().setImage(ByteString.copyFrom(item.sourceImage())));
      }
      out.addItems(b);
    }
    return out.build();
  }

  @Override
  public void delete(DeleteRequest request, StreamObserver<DeleteResponse> observer) {
    StatusMapper.answer(observer, () -> {
      Collection first = storage.catalog().get(ProtoMapper.collectionName(request.getCollection(), "collection"));
      return write(first, c -> DeleteResponse.newBuilder()
          .setDeletedCount(storage.items().delete(c, request.getIdsList()))).result()
          .setConsistencyToken(storage.writeToken().toString()).build();
    });
  }

  @Override
  public void search(SearchRequest request, StreamObserver<SearchResponse> observer) {
    StatusMapper.answer(observer, () -> {
      String name = ProtoMapper.collectionName(request.getCollection(), "collection");
      return storage.read(token(request.getConsistencyToken()), r -> {
        // the catalog entry this process read last from this server: the search checks it in its own statement
        Collection cached = r.catalog().cached(name);
        try {
          return search(r, cached, request);
        } catch (io.jointspace.server.store.CollectionChangedException
            | io.jointspace.server.store.CollectionNotFoundException e) {
          // a rollout step or another server changed the collection since: as the catalog has it now
          return read(r, name, c -> search(r, c, request));
        }
      });
    });
  }

  private SearchResponse search(Reader r, Collection collection, SearchRequest request) {
    Collection c = request.getModelVersion() == 0 ? collection
        : collection.atVersion(request.getModelVersion(), "model_version");
    int topK = request.getTopK() == 0 ? 10 : request.getTopK();
    var filter = request.hasFilter() ? FilterMapper.condition(request.getFilter(), "filter") : null;
    boolean metadata = !request.hasIncludeMetadata() || request.getIncludeMetadata();
    SearchQuery query = switch (request.getQueryCase()) {
      case VECTOR -> new SearchQuery(ItemEmbedder.floats(request.getVector()), null, topK, filter,
          request.getIncludeVectors(), metadata);
      case ID -> new SearchQuery(null, request.getId(), topK, filter, request.getIncludeVectors(), metadata);
      case INPUT -> {
        List<float[]> v = embedder.embed(c, List.of(request.getInput()), i -> "input");
        yield new SearchQuery(v.get(0), null, topK, filter, request.getIncludeVectors(), metadata);
      }
      case QUERY_NOT_SET -> throw new InvalidInputException("query is not set; give input, vector or id");
    };
    SearchResponse.Builder out = SearchResponse.newBuilder().setModel(model(c));
    for (SearchHit h : r.items().search(c, query, request.getEfSearch())) {
      Hit.Builder hit = Hit.newBuilder().setId(h.id()).setScore(h.score());
      if (h.metadataJson() != null) {
        hit.setMetadata(Json.struct(h.metadataJson()));
      }
      if (h.vector() != null) {
        hit.setVector(vector(h.vector()));
      }
      out.addHits(hit);
    }
    return out.build();
  }

  /** A write's result, and the collection as it was when the write committed. */
  private record Written<T>(Collection collection, T result) {}

  private static final int MAX_WRITE_ATTEMPTS = 4;

  /**
   * Runs {@code write} (embed, then store) for the collection's tables; when they changed
   * before it committed (a rollout began or switched: nothing was written), reads the
   * collection again and prepares the write anew for its tables now, a few times at most.
   */
  private <T> Written<T> write(Collection first, java.util.function.Function<Collection, T> write) {
    Collection c = first;
    for (int attempt = 1; ; attempt++) {
      try {
        return new Written<>(c, write.apply(c));
      } catch (CollectionChangedException e) {
        if (attempt >= MAX_WRITE_ATTEMPTS) {
          throw e;
        }
        c = storage.catalog().get(c.name());
      }
    }
  }

  /**
   * Runs {@code read} on the collection; when the table it read went away under it (a rollout
   * finalized or aborted meanwhile), once more on the tables the catalog names now.
   */
  private static <T> T read(Reader r, String name, java.util.function.Function<Collection, T> read) {
    try {
      return read.apply(r.catalog().get(name));
    } catch (io.jointspace.server.store.CollectionNotFoundException e) {
      return read.apply(r.catalog().get(name));
    }
  }

  /** A read request's consistency_token: which write its answer must include. */
  private static ConsistencyToken token(String text) {
    return ConsistencyToken.parse(text, "consistency_token");
  }

  private static Vector vector(float[] v) {
    Vector.Builder b = Vector.newBuilder();
    for (float x : v) {
      b.addValues(x);
    }
    return b.build();
  }

  private static io.jointspace.api.v1.ModelSpec model(Collection c) {
    return ProtoMapper.resolved(new ServableId(c.spec().modelName(), c.spec().modelVersion()), "");
  }

  private static io.jointspace.api.v1.Collection collection(Collection c, long count) {
    CollectionSpec s = c.spec();
    io.jointspace.api.v1.Collection.Builder b = io.jointspace.api.v1.Collection.newBuilder()
        .setName(s.name())
        .setModel(model(c))
        .setDimension(s.dimension())
        .setMetric(switch (s.metric()) {
          case COSINE -> io.jointspace.api.v1.Metric.COSINE;
          case INNER_PRODUCT -> io.jointspace.api.v1.Metric.INNER_PRODUCT;
          case L2 -> io.jointspace.api.v1.Metric.L2;
        })
        .setVectorType(s.vectorType() == VectorType.HALFVEC ? io.jointspace.api.v1.VectorType.HALFVEC
            : io.jointspace.api.v1.VectorType.VECTOR)
        .setIndex(IndexParameters.newBuilder().setM(s.m()).setEfConstruction(s.efConstruction()))
        .setKeepSources(s.keepSources())
        .setDescription(s.description())
        .addAllIndexedKeys(s.indexedKeys())
        .setItemCount(count)
        .setCreatedAt(ProtoMapper.timestamp(c.createdAt()))
        .setView(c.view());
    if (c.following() != null) {
      b.setFollowsLabel(c.following().label())
          .setLabelPolicy(LabelPolicies.toProto(LabelPolicy.fromJson(c.following().policyJson())));
    }
    if (c.rollout() != null) {
      VersionTable other = c.rollout().replica();
      b.setRolloutId(c.rollout().id())
          .setRolloutOther(ProtoMapper.resolved(new ServableId(other.modelName(), other.version()), ""));
    }
    return b.build();
  }
}
