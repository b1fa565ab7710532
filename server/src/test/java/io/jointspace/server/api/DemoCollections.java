package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.UpsertRequest;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.TestDatabase;
import io.jointspace.trainer.Scene;
import io.jointspace.trainer.SceneGenerator;
import io.jointspace.trainer.Split;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The demo model served with a database, and the captioned-scene collection that tests and docs/sql.md use. */
final class DemoCollections {
  private DemoCollections() {}

  /**
   * A server on models/shapes-clip (its newest version) storing collections in {@code db}, with
   * an HTTP port (its metrics: {@code Scrape.metrics(fixture.server.httpPort())}).
   */
  static ServerFixture start(DatabaseUrl db) throws Exception {
    ServerConfig.Builder config = ServerConfig.newBuilder();
    config.setHttpPort(ServerFixture.freePort());
    config.getModelRepositoryBuilder().setOnlyConfiguredModels(true);
    config.addModelsBuilder().setName("shapes-clip").setBasePath(DemoModelTest.DEMO.toString());
    config.getStorageBuilder().setDatabaseUrl(TestDatabase.configUrl(db));
    return ServerFixture.start(config, DemoModelTest.DEMO.getParent());
  }

  static String color(Scene s) {
    return s.combo().color().name().toLowerCase(Locale.ROOT);
  }

  static String shape(Scene s) {
    return s.combo().shape().name().toLowerCase(Locale.ROOT);
  }

  /**
   * Creates collection {@code name} and upserts 96 generated scenes (seed 77) as PNG images,
   * ids {@code scene-0..95}, metadata {caption, color, shape, n, info{even}}.
   *
   * @return the scenes, in id order
   */
  static List<Scene> createScenes(CollectionServiceGrpc.CollectionServiceBlockingStub stub, String name)
      throws Exception {
    stub.createCollection(CreateCollectionRequest.newBuilder().setName(name)
        .setModel(ModelSpec.newBuilder().setName("shapes-clip")).build());
    SceneGenerator gen = new SceneGenerator(77, Split.ALL, 64, 64);
    List<Scene> scenes = new ArrayList<>();
    UpsertRequest.Builder up = UpsertRequest.newBuilder().setCollection(name);
    for (int i = 0; i < 96; i++) {
      Scene s = gen.next();
      scenes.add(s);
      up.addItems(Item.newBuilder().setId("scene-" + i)
          .setInput(Input.newBuilder().setImage(DemoModelTest.encode(gen.render(s), "png")))
          .setMetadata(Struct.newBuilder()
              .putFields("caption", Value.newBuilder().setStringValue(s.caption()).build())
              .putFields("color", Value.newBuilder().setStringValue(color(s)).build())
              .putFields("shape", Value.newBuilder().setStringValue(shape(s)).build())
              .putFields("n", Value.newBuilder().setNumberValue(i).build())
              .putFields("info", Value.newBuilder().setStructValue(Struct.newBuilder()
                  .putFields("even", Value.newBuilder().setBoolValue(i % 2 == 0).build())).build())));
    }
    assertThat(stub.upsert(up.build()).getUpsertedCount()).isEqualTo(96);
    return List.copyOf(scenes);
  }
}
