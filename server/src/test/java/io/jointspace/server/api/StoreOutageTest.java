package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.GetCollectionRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.store.PrivateCluster;
import io.jointspace.server.store.TestDatabase;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The database goes away under a running server: collection calls answer UNAVAILABLE (the
 * rest of the server keeps serving), and once it is back they succeed again without a restart.
 */
class StoreOutageTest {

  @Test
  void databaseDown_answersUnavailable_thenRecoversByItself() throws Exception {
    Path home = TestDatabase.projectRoot();
    Path dir = TestDatabase.emptyClusterDir("pg-outage");
    PrivateCluster cluster = PrivateCluster.start(home, dir);
    ServerConfig.Builder config = ServerConfig.newBuilder();
    config.getModelRepositoryBuilder().setOnlyConfiguredModels(true);
    config.addModelsBuilder().setName("shapes-clip").setBasePath(DemoModelTest.DEMO.toString());
    config.getStorageBuilder().setDatabaseUrl(TestDatabase.configUrl(cluster.databaseUrl())).setConnectionTimeoutMs(1000);
    try (ServerFixture fixture = ServerFixture.start(config, DemoModelTest.DEMO.getParent())) {
      var stub = CollectionServiceGrpc.newBlockingStub(fixture.channel);
      String name = "outage_" + System.nanoTime();
      stub.withDeadlineAfter(60, TimeUnit.SECONDS).createCollection(CreateCollectionRequest.newBuilder().setName(name)
          .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());
      stub.withDeadlineAfter(60, TimeUnit.SECONDS).upsert(item(name, "before"));

      cluster.close();
      for (Runnable call : new Runnable[] {
          () -> stub.withDeadlineAfter(30, TimeUnit.SECONDS).upsert(item(name, "during")),
          () -> stub.withDeadlineAfter(30, TimeUnit.SECONDS).search(SearchRequest.newBuilder().setCollection(name)
              .setInput(Input.newBuilder().setText("a red circle")).build()),
          () -> stub.withDeadlineAfter(30, TimeUnit.SECONDS).getCollection(
              GetCollectionRequest.newBuilder().setName(name).build())}) {
        long t0 = System.nanoTime();
        try {
          call.run();
          throw new AssertionError("a call succeeded while the database was down");
        } catch (StatusRuntimeException e) {
          assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).contains("database");
        }
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).as("answered promptly").isLessThan(15);
      }
      // embedding does not need the database
      assertThat(io.jointspace.api.v1.EmbeddingServiceGrpc.newBlockingStub(fixture.channel)
          .withDeadlineAfter(30, TimeUnit.SECONDS)
          .embed(io.jointspace.api.v1.EmbedRequest.newBuilder().setModel(ModelSpec.newBuilder().setName("shapes-clip"))
              .addInputs(Input.newBuilder().setText("a red circle")).build()).getDimension()).isEqualTo(64);

      cluster = PrivateCluster.start(home, dir);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        try {
          stub.withDeadlineAfter(30, TimeUnit.SECONDS).upsert(item(name, "after"));
          break;
        } catch (StatusRuntimeException e) {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(System.nanoTime()).as("recovered within 60 s").isLessThan(deadline);
          Thread.sleep(250);
        }
      }
      assertThat(stub.withDeadlineAfter(30, TimeUnit.SECONDS).getCollection(
          GetCollectionRequest.newBuilder().setName(name).build()).getItemCount()).isEqualTo(2);
    } finally {
      cluster.close();
    }
  }

  private static UpsertRequest item(String collection, String id) {
    return UpsertRequest.newBuilder().setCollection(collection)
        .addItems(Item.newBuilder().setId(id).setInput(Input.newBuilder().setText("a small " + id + " star")))
        .build();
  }
}
