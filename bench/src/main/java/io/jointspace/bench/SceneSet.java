package io.jointspace.bench;

import com.google.protobuf.ByteString;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.SearchRequest;
import io.jointspace.client.JointspaceClient;
import io.jointspace.trainer.Captions;
import io.jointspace.trainer.SceneGenerator;
import io.jointspace.trainer.Split;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The cross-modal search set: a collection of scenes rendered by the demo's SceneGenerator and
 * embedded by the server with {@code shapes-clip}, searched by text (captions of other scenes,
 * phrased as the trainer phrases them) and, for comparison, by images of other scenes. Exact
 * answers are brute force over the stored vectors, the query embedded by Embed with the
 * collection's model version.
 */
final class SceneSet {
  static final String COLLECTION = "bench_scenes";
  static final String MODEL = "shapes-clip";

  final VectorData data;
  /** Each scene's color (its metadata's), by item number. */
  final String[] colors;
  final long version;
  final boolean reused;
  final double ingestSeconds;

  private SceneSet(VectorData data, String[] colors, long version, boolean reused, double ingestSeconds) {
    this.data = data;
    this.colors = colors;
    this.version = version;
    this.reused = reused;
    this.ingestSeconds = ingestSeconds;
  }

  /**
   * The collection of {@code count} scenes (seed {@code seed}), made and filled with UpsertStream
   * unless {@code reuse} and an earlier run left one with the same marker and count.
   */
  static SceneSet ensure(JointspaceClient client, StorageClient storage, DirectDb db, int count, long seed,
      boolean reuse) throws Exception {
    String marker = "search benchmark, cross-modal: " + count + " scenes of 64x64, seed " + seed;
    boolean reused = reuse && SearchSuite.reusable(client, COLLECTION, marker, count);
    double seconds = 0;
    if (!reused) {
      StorageSuite.drop(client, COLLECTION);
      client.createCollection(CreateCollectionRequest.newBuilder().setName(COLLECTION)
          .setModel(JointspaceClient.model(MODEL)).setKeepSources(false).setDescription(marker).build());
      SceneGenerator gen = new SceneGenerator(seed, Split.ALL, 64, 64);
      SearchSuite.log("cross-modal: %d scenes into %s (UpsertStream, the server embeds them)", count, COLLECTION);
      StorageClient.Ingest in = storage.ingest(COLLECTION, RolloutClient.scenes(gen, "item", count), 250, 2);
      seconds = in.seconds();
      SearchSuite.log("cross-modal: %d scenes in %.1f s (%.0f items/s)", in.rows(), seconds, in.rowsPerSecond());
      db.vacuumAnalyze(db.tableOf(COLLECTION));
    }
    long version = client.getCollection(COLLECTION).getModel().getVersion();
    float[][] vectors = db.vectors(db.tableOf(COLLECTION), count);
    return new SceneSet(VectorData.of(vectors), db.metadataText(db.tableOf(COLLECTION), "color", count), version,
        reused, seconds);
  }

  ModelSpec model() {
    return JointspaceClient.model(MODEL, version);
  }

  /** {@code count} text queries: a caption of a new scene each, phrased as {@link Captions#sample} phrases it. */
  static List<Input> texts(int count, long seed) {
    SceneGenerator gen = new SceneGenerator(seed, Split.ALL, 64, 64);
    SplittableRandom rng = new SplittableRandom(seed);
    List<Input> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(JointspaceClient.text(Captions.sample(gen.next(), rng).text()));
    }
    return out;
  }

  /** {@code count} image queries: new scenes as PNG. */
  static List<Input> images(int count, long seed) {
    SceneGenerator gen = new SceneGenerator(seed, Split.ALL, 64, 64);
    List<Input> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(Input.newBuilder().setImage(ByteString.copyFrom(Workload.png(gen, gen.next()))).build());
    }
    return out;
  }

  /** The queries embedded as the server embeds a Search's input (Embed, the collection's version), normalized. */
  float[][] embed(JointspaceClient client, List<Input> inputs) {
    float[][] out = new float[inputs.size()][];
    for (int from = 0; from < inputs.size(); from += 64) {
      List<float[]> vs = client.embed(model(), inputs.subList(from, Math.min(inputs.size(), from + 64)));
      for (int i = 0; i < vs.size(); i++) {
        out[from + i] = vs.get(i);
      }
    }
    return VectorData.of(out).vectors;
  }

}
