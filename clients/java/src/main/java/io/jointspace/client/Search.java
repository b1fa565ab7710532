package io.jointspace.client;

import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.SearchResponse;
import io.jointspace.api.v1.Vector;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * One search, built fluently: {@code client.search("scenes").text("a red star")
 * .filter(Filter.eq("color", "red")).topK(5).run()}. Not thread-safe; make one per search.
 */
public final class Search {
  private final JointspaceClient client;
  private final SearchRequest.Builder request;

  Search(JointspaceClient client, String collection) {
    this.client = client;
    this.request = SearchRequest.newBuilder().setCollection(collection);
  }

  /** Query by text, embedded by the collection's model version. */
  public Search text(String text) {
    request.setInput(JointspaceClient.text(text));
    return this;
  }

  /** Query by an image file, embedded by the collection's model version. */
  public Search image(Path file) {
    request.setInput(JointspaceClient.image(file));
    return this;
  }

  public Search input(Input input) {
    request.setInput(input);
    return this;
  }

  public Search vector(float[] v) {
    Vector.Builder b = Vector.newBuilder();
    for (float x : v) {
      b.addValues(x);
    }
    request.setVector(b);
    return this;
  }

  /** Query by a stored item (left out of the hits). */
  public Search id(String id) {
    request.setId(id);
    return this;
  }

  public Search filter(Filter filter) {
    request.setFilter(filter.toProto());
    return this;
  }

  /** 1 to 1000; default 10. */
  public Search topK(int k) {
    request.setTopK(k);
    return this;
  }

  /**
   * The HNSW candidate list size for this search (pgvector's hnsw.ef_search): higher finds
   * more of the true nearest neighbours, slower; 1 to 1000, or 0 (the default) for the server's
   * choice (see SearchRequest.ef_search).
   */
  public Search efSearch(int efSearch) {
    request.setEfSearch(efSearch);
    return this;
  }

  public Search includeVectors(boolean include) {
    request.setIncludeVectors(include);
    return this;
  }

  /** During a rollout: search this version instead of the collection's. */
  public Search modelVersion(long version) {
    request.setModelVersion(version);
    return this;
  }

  /**
   * Read-your-writes: the consistency token of a write's response ({@link
   * JointspaceClient#upsert(io.jointspace.api.v1.UpsertRequest)}, {@link
   * JointspaceClient#delete(io.jointspace.api.v1.DeleteRequest)}).
   * A server reading from streaming replicas then answers only from one that has that write,
   * else from the primary.
   */
  public Search consistencyToken(String token) {
    request.setConsistencyToken(token);
    return this;
  }

  public SearchRequest toProto() {
    return request.build();
  }

  public SearchResponse run() {
    return client.search(request.build());
  }

  public CompletableFuture<SearchResponse> runAsync() {
    return client.searchAsync(request.build());
  }
}
