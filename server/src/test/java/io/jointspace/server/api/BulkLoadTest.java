package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.FieldValue;
import io.jointspace.api.v1.Filter;
import io.jointspace.api.v1.Hit;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.api.v1.UpsertStreamRequest;
import io.jointspace.api.v1.UpsertStreamResponse;
import io.jointspace.api.v1.Vector;
import io.jointspace.server.Recorder;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * UpsertStream into an empty collection is a bulk load: no HNSW index while it runs, exact
 * answers to searches meanwhile (filtered or not), the index built once the stream ends, and
 * then the same answers as a collection loaded with its index in place.
 */
class BulkLoadTest {
  static ServerFixture fixture;
  static DatabaseUrl db;
  static CollectionServiceGrpc.CollectionServiceBlockingStub stub;
  static final int DIM = 64;
  static final int N = 1200;
  static final List<float[]> VECTORS = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    db = TestDatabase.fresh();
    fixture = DemoCollections.start(db);
    stub = CollectionServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(120, TimeUnit.SECONDS);
    Random rnd = new Random(11);
    for (int i = 0; i < N; i++) {
      float[] v = new float[DIM];
      for (int j = 0; j < DIM; j++) {
        v[j] = (float) rnd.nextGaussian();
      }
      VECTORS.add(v);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    fixture.close();
  }

  static Item item(int i) {
    Vector.Builder v = Vector.newBuilder();
    for (float x : VECTORS.get(i)) {
      v.addValues(x);
    }
    return Item.newBuilder().setId("i" + i).setVector(v)
        .setMetadata(Struct.newBuilder().putFields("odd", Value.newBuilder().setBoolValue(i % 2 == 1).build())).build();
  }

  static void create(String name) {
    stub.createCollection(CreateCollectionRequest.newBuilder().setName(name)
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());
  }

  static String scalar(String sql) throws Exception {
    try (Connection c = TestDatabase.connect(db); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      return r.next() ? r.getString(1) : null;
    }
  }

  static String hnsw(String collection) throws Exception {
    return scalar("SELECT hnsw FROM jointspace.collection_tables WHERE collection = '" + collection + "'");
  }

  static String indexValid(String collection) throws Exception {
    return scalar("SELECT i.indisvalid FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid"
        + " WHERE x.relname = (SELECT table_name FROM jointspace.collection_tables WHERE collection = '" + collection
        + "') || '_hnsw'");
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  /** The exact top k among the first {@code n} items (odd ones only when {@code oddOnly}). */
  static List<String> exact(float[] q, int n, int k, boolean oddOnly) {
    return IntStream.range(0, n).filter(i -> !oddOnly || i % 2 == 1).boxed()
        .sorted(Comparator.comparingDouble(i -> -cosine(q, VECTORS.get(i)))).limit(k).map(i -> "i" + i).toList();
  }

  static List<String> search(String collection, float[] q, int k, boolean oddOnly) {
    return search(collection, q, k, oddOnly, 0);
  }

  /** With {@code ef} (here, over few rows, wide enough that the HNSW scan finds the exact top k). */
  static List<String> search(String collection, float[] q, int k, boolean oddOnly, int ef) {
    Vector.Builder v = Vector.newBuilder();
    for (float x : q) {
      v.addValues(x);
    }
    SearchRequest.Builder r = SearchRequest.newBuilder().setCollection(collection).setVector(v).setTopK(k)
        .setEfSearch(ef);
    if (oddOnly) {
      r.setFilter(Filter.newBuilder().setEquals(FieldValue.newBuilder().setKey("odd")
          .setValue(Value.newBuilder().setBoolValue(true))));
    }
    return stub.search(r.build()).getHitsList().stream().map(Hit::getId).toList();
  }

  @Test
  void bulkStream_hasNoIndexWhileLoading_answersExactly_andBuildsTheIndexAtTheEnd() throws Exception {
    create("bulk");
    create("indexed");
    assertThat(hnsw("bulk")).isEqualTo("ready");
    Recorder<UpsertStreamResponse> acks = new Recorder<>();
    StreamObserver<UpsertStreamRequest> stream = CollectionServiceGrpc.newStub(fixture.channel).upsertStream(acks);
    int half = N / 2;
    for (int from = 0; from < half; from += 200) {
      UpsertStreamRequest.Builder m = UpsertStreamRequest.newBuilder().setCollection("bulk");
      for (int i = from; i < from + 200; i++) {
        m.addItems(item(i));
      }
      stream.onNext(m.build());
    }
    acks.awaitValue(half / 200 - 1, 60);
    assertThat(hnsw("bulk")).as("index state while the stream is open").isEqualTo("absent");
    assertThat(indexValid("bulk")).as("no HNSW index while loading").isNull();
    Random rnd = new Random(5);
    for (int q = 0; q < 10; q++) {
      float[] query = VECTORS.get(rnd.nextInt(N));
      assertThat(search("bulk", query, 10, false)).as("exact while loading").isEqualTo(exact(query, half, 10, false));
      assertThat(search("bulk", query, 5, true)).as("filtered, exact while loading")
          .isEqualTo(exact(query, half, 5, true));
    }
    for (int from = half; from < N; from += 200) {
      UpsertStreamRequest.Builder m = UpsertStreamRequest.newBuilder();
      for (int i = from; i < from + 200; i++) {
        m.addItems(item(i));
      }
      stream.onNext(m.build());
    }
    stream.onCompleted();
    assertThat(acks.ended().get(60, TimeUnit.SECONDS)).isNull();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!("ready".equals(hnsw("bulk")) && "t".equals(indexValid("bulk")))) {
      assertThat(System.nanoTime()).as("index built in time").isLessThan(until);
      Thread.sleep(100);
    }

    // the same items, with the index in place all along
    for (int from = 0; from < N; from += 400) {
      UpsertRequest.Builder up = UpsertRequest.newBuilder().setCollection("indexed");
      for (int i = from; i < from + 400; i++) {
        up.addItems(item(i));
      }
      stub.upsert(up.build());
    }
    assertThat(hnsw("indexed")).isEqualTo("ready");
    for (int q = 0; q < 20; q++) {
      float[] query = VECTORS.get(rnd.nextInt(N));
      assertThat(search("bulk", query, 10, false, 1000)).isEqualTo(search("indexed", query, 10, false, 1000))
          .isEqualTo(exact(query, N, 10, false));
      assertThat(search("bulk", query, 5, true, 1000)).isEqualTo(search("indexed", query, 5, true, 1000))
          .isEqualTo(exact(query, N, 5, true));
    }
  }
}
