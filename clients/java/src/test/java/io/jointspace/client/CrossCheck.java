package io.jointspace.client;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.Status;
import io.jointspace.api.v1.Hit;
import io.jointspace.api.v1.Item;
import io.jointspace.api.v1.LabelScore;
import io.jointspace.api.v1.ModelSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The cross-language scenario (clients/crosscheck/README.md) through the Java client; run
 * from the repository root with {@code ADDRESS COLLECTION}, prints one JSON object.
 */
public final class CrossCheck {
  private static final List<String> COLORS = List.of("red", "green", "blue", "yellow", "purple", "orange", "white", "black");
  private static final List<String> SHAPES = List.of("circle", "square", "triangle", "star", "hexagon", "cross");
  private static final List<String> SIZES = List.of("small", "large");
  private static final List<String> NOUNS = List.of("photo", "picture", "image", "rendering", "drawing");

  private CrossCheck() {}

  static Item item(int i) {
    String color = COLORS.get(i % 8);
    String shape = SHAPES.get((i / 8) % 6);
    String text = "a " + NOUNS.get((i / 96) % 5) + " of a " + SIZES.get((i / 48) % 2) + " " + color + " " + shape;
    Struct metadata = Struct.newBuilder()
        .putFields("color", Value.newBuilder().setStringValue(color).build())
        .putFields("shape", Value.newBuilder().setStringValue(shape).build())
        .putFields("n", Value.newBuilder().setNumberValue(i).build())
        .build();
    return Item.newBuilder().setId(String.format("item-%03d", i)).setInput(JointspaceClient.text(text))
        .setMetadata(metadata).build();
  }

  public static void main(String[] args) {
    String address = args[0];
    String collection = args[1];
    JsonObject out = new JsonObject();
    try (JointspaceClient client = JointspaceClient.connect(address)) {
      ModelSpec clip = JointspaceClient.model("shapes-clip");
      Path star = Path.of("docs/samples/red-star.png");
      List<float[]> vectors = client.embed(clip, List.of(JointspaceClient.text("a small red star"), JointspaceClient.image(star)));
      JsonObject embed = new JsonObject();
      embed.add("text", floats(vectors.get(0)));
      embed.add("image", floats(vectors.get(1)));
      out.add("embed", embed);

      JsonArray classify = new JsonArray();
      for (LabelScore score : client.classify(clip, List.of(JointspaceClient.image(star)),
          List.of("red star", "blue circle", "green hexagon")).getResults(0).getScoresList()) {
        JsonObject label = new JsonObject();
        label.addProperty("label", score.getLabel());
        label.addProperty("probability", score.getProbability());
        label.addProperty("cosine", score.getCosine());
        classify.add(label);
      }
      out.add("classify", classify);

      try {
        client.deleteCollection(collection);
      } catch (JointspaceException e) {
        if (e.code() != Status.Code.NOT_FOUND) {
          throw e;
        }
      }
      client.createCollection(collection, clip);
      Ingest.Result ingested = client.ingest(collection, IntStream.range(0, 500).mapToObj(CrossCheck::item).iterator(),
          Ingest.Options.DEFAULT);
      out.addProperty("ingested", ingested.committed());

      JsonArray hits = new JsonArray();
      for (Hit hit : client.search(collection).text("a blue star")
          .filter(Filter.eq("color", "blue").and(Filter.gte("n", 100))).topK(10).efSearch(400).run().getHitsList()) {
        JsonObject h = new JsonObject();
        h.addProperty("id", hit.getId());
        h.addProperty("score", hit.getScore());
        hits.add(h);
      }
      out.add("search", hits);
      client.deleteCollection(collection);
    }
    System.out.println(new Gson().toJson(out));
  }

  private static JsonArray floats(float[] values) {
    JsonArray array = new JsonArray();
    for (float v : values) {
      array.add(v);
    }
    return array;
  }
}
