package io.jointspace.server.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.jointspace.tensorflow.example.Example;
import io.jointspace.tensorflow.example.Feature;
import io.jointspace.tensorflow.example.Features;
import io.jointspace.tensorflow.framework.DataType;
import io.jointspace.tensorflow.serving.ClassificationResult;
import io.jointspace.tensorflow.serving.Classifications;
import io.jointspace.tensorflow.serving.ExampleList;
import io.jointspace.tensorflow.serving.ExampleListWithContext;
import io.jointspace.tensorflow.serving.Input;
import io.jointspace.tensorflow.serving.RegressionResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * TF Serving's REST JSON for {@code :classify} and {@code :regress}: the body's
 * {@code examples} and {@code context} to tf.Examples, with TF Serving's rules for the kind
 * of each feature, and the results to {@code result}.
 */
final class TfServingExamples {
  private TfServingExamples() {}

  /**
   * The examples of a {@code :classify} or {@code :regress} body: {@code examples}, a list of
   * objects of features, with an optional {@code context} of features they share. A feature is
   * a value or a list of values: whole numbers make an int64 list, numbers with a fraction or
   * exponent a float list, strings and {@code {"b64": ...}} a bytes list, booleans int64 0/1.
   *
   * @throws HttpError naming the feature that is wrong
   */
  static Input examples(JsonObject body) {
    JsonElement examples = body.get("examples");
    if (examples == null) {
      throw HttpError.badRequest("missing 'examples' key: a list of objects of features");
    }
    if (!examples.isJsonArray()) {
      throw HttpError.badRequest("'examples' must be a list of objects of features, not " + TfServingJson.kind(examples));
    }
    if (examples.getAsJsonArray().isEmpty()) {
      throw HttpError.badRequest("'examples' is an empty list");
    }
    List<Example> list = new ArrayList<>();
    for (int i = 0; i < examples.getAsJsonArray().size(); i++) {
      list.add(example(examples.getAsJsonArray().get(i), "examples[" + i + "]"));
    }
    JsonElement context = body.get("context");
    if (context == null || context.isJsonNull()) {
      return Input.newBuilder().setExampleList(ExampleList.newBuilder().addAllExamples(list)).build();
    }
    return Input.newBuilder().setExampleListWithContext(ExampleListWithContext.newBuilder()
        .setContext(example(context, "context")).addAllExamples(list)).build();
  }

  private static Example example(JsonElement json, String where) {
    if (!json.isJsonObject()) {
      throw HttpError.badRequest(where + " must be an object of features, not " + TfServingJson.kind(json));
    }
    Features.Builder features = Features.newBuilder();
    for (Map.Entry<String, JsonElement> e : json.getAsJsonObject().entrySet()) {
      String name = where + "." + e.getKey();
      Feature.Builder feature = Feature.newBuilder();
      if (e.getValue().isJsonArray()) {
        for (JsonElement v : e.getValue().getAsJsonArray()) {
          addFeatureValue(feature, v, name);
        }
      } else {
        addFeatureValue(feature, e.getValue(), name);
      }
      features.putFeature(e.getKey(), feature.build());
    }
    return Example.newBuilder().setFeatures(features).build();
  }

  private static void addFeatureValue(Feature.Builder feature, JsonElement v, String where) {
    Feature.KindCase kind;
    if (TfServingJson.isBase64(v) || (v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) {
      kind = Feature.KindCase.BYTES_LIST;
    } else if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isBoolean()) {
      kind = Feature.KindCase.INT64_LIST;
    } else if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) {
      String text = v.getAsString();
      kind = text.contains(".") || text.contains("e") || text.contains("E") ? Feature.KindCase.FLOAT_LIST
          : Feature.KindCase.INT64_LIST;
    } else {
      throw HttpError.badRequest(where + " holds " + TfServingJson.kind(v) + "; a feature holds numbers, strings,"
          + " {\"b64\": ...} or a flat list of one of them");
    }
    if (feature.getKindCase() != Feature.KindCase.KIND_NOT_SET && feature.getKindCase() != kind) {
      throw HttpError.badRequest(where + " mixes kinds of values: " + v + " is not " + describe(
          feature.getKindCase()) + " like the values before it");
    }
    switch (kind) {
      case BYTES_LIST -> feature.getBytesListBuilder().addValue(TfServingJson.bytes(v, where));
      case FLOAT_LIST -> {
        double d = v.getAsDouble();
        if (Math.abs(d) > Float.MAX_VALUE) {
          throw HttpError.badRequest(where + " is " + v + ", out of a float feature's range");
        }
        feature.getFloatListBuilder().addValue((float) d);
      }
      default -> feature.getInt64ListBuilder().addValue(v.getAsJsonPrimitive().isBoolean()
          ? (v.getAsBoolean() ? 1 : 0) : TfServingJson.integer(v, DataType.DT_INT64, where, Long.MIN_VALUE, Long.MAX_VALUE));
    }
  }

  private static String describe(Feature.KindCase kind) {
    return switch (kind) {
      case BYTES_LIST -> "a string";
      case FLOAT_LIST -> "a number with a fraction";
      default -> "a whole number";
    };
  }

  /** The reply to {@code :classify}: per example, its [label, score] pairs. */
  static JsonObject reply(ClassificationResult result) {
    JsonArray all = new JsonArray();
    for (Classifications c : result.getClassificationsList()) {
      JsonArray pairs = new JsonArray();
      for (io.jointspace.tensorflow.serving.Class k : c.getClassesList()) {
        JsonArray pair = new JsonArray(2);
        pair.add(k.getLabel());
        pair.add(k.getScore());
        pairs.add(pair);
      }
      all.add(pairs);
    }
    JsonObject reply = new JsonObject();
    reply.add("result", all);
    return reply;
  }

  /** The reply to {@code :regress}: one value per example. */
  static JsonObject reply(RegressionResult result) {
    JsonArray all = new JsonArray();
    result.getRegressionsList().forEach(r -> all.add(r.getValue()));
    JsonObject reply = new JsonObject();
    reply.add("result", all);
    return reply;
  }
}
