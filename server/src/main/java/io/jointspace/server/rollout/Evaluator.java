package io.jointspace.server.rollout;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.jointspace.registry.ModelHandle;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.ModelRequest;
import io.jointspace.server.errors.FailedPreconditionException;
import io.jointspace.server.runtime.CallScope;
import io.jointspace.server.runtime.Content;
import io.jointspace.server.runtime.Encoder;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.store.Collection;
import io.jointspace.server.store.ItemStore;
import io.jointspace.server.store.SearchHit;
import io.jointspace.server.store.SearchQuery;
import io.jointspace.server.store.Storage;
import io.jointspace.server.store.StoredItem;
import io.jointspace.server.store.VersionTable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.annotation.Nullable;

/**
 * Compares two versions of a collection from what is stored: how much each sampled item's
 * neighbourhood changed, the scores at rank 1 and rank k (thresholds tuned on one version do
 * not carry over), and, when asked, recall@k of labelled queries and zero-shot accuracy over
 * a metadata class. Queries are embedded by the version they are compared on, so a version
 * that is not loaded on this server gets its stored-vector measures only (with a note).
 */
public final class Evaluator {
  private static final Duration EMBED_TIMEOUT = Duration.ofSeconds(60);
  private static final int MAX_CLASSES = 200;

  private final Storage storage;
  private final ModelManager<ModelVersion> registry;

  public Evaluator(Storage storage, ModelManager<ModelVersion> registry) {
    this.storage = storage;
    this.registry = registry;
  }

  /**
   * @param collection the collection as the catalog has it now
   * @param from the version compared against (the one the rollout started from)
   * @param to the rollout's target
   */
  public Evaluation evaluate(Collection collection, VersionTable from, VersionTable to, EvaluationRequest request) {
    ItemStore items = storage.items();
    Collection a = collection.at(from);
    Collection b = collection.at(to);
    int k = request.k();
    List<String> notes = new ArrayList<>();
    List<String> sample = items.sampleShared(a, to, request.sampleSize());
    if (sample.isEmpty()) {
      notes.add("no item is stored in both versions: nothing to compare");
    }
    boolean withClass = !request.classKey().isEmpty();
    double overlap = 0;
    List<Double> rank1A = new ArrayList<>();
    List<Double> rankKA = new ArrayList<>();
    List<Double> rank1B = new ArrayList<>();
    List<Double> rankKB = new ArrayList<>();
    for (String id : sample) {
      List<SearchHit> ha = items.search(a, new SearchQuery(null, id, k, null, false, false), 0);
      List<SearchHit> hb = items.search(b, new SearchQuery(null, id, k, null, false, false), 0);
      Set<String> na = new HashSet<>();
      ha.forEach(h -> na.add(h.id()));
      int shared = 0;
      for (SearchHit h : hb) {
        shared += na.contains(h.id()) ? 1 : 0;
      }
      int n = Math.max(ha.size(), hb.size());
      overlap += n == 0 ? 1 : (double) shared / n;
      scores(ha, k, rank1A, rankKA);
      scores(hb, k, rank1B, rankKB);
    }
    Evaluation.VersionScores sa = versionScores(items, a, from, request, sample, rank1A, rankKA, withClass, notes);
    Evaluation.VersionScores sb = versionScores(items, b, to, request, sample, rank1B, rankKB, withClass, notes);
    return new Evaluation(sample.isEmpty() ? 0 : overlap / sample.size(), k, sample.size(), sa, sb,
        System.currentTimeMillis(), notes);
  }

  private static void scores(List<SearchHit> hits, int k, List<Double> rank1, List<Double> rankK) {
    if (!hits.isEmpty()) {
      rank1.add((double) hits.get(0).score());
    }
    if (hits.size() >= k) {
      rankK.add((double) hits.get(k - 1).score());
    }
  }

  private Evaluation.VersionScores versionScores(ItemStore items, Collection c, VersionTable t, EvaluationRequest request,
      List<String> sample, List<Double> rank1, List<Double> rankK, boolean withClass, List<String> notes) {
    Double recall = null;
    Double zeroShot = null;
    Double precision = null;
    if (!request.queries().isEmpty() || withClass) {
      ModelHandle<ModelVersion> handle = null;
      try {
        handle = registry.acquire(ModelRequest.version(t.modelName(), t.version()));
      } catch (RuntimeException e) {
        notes.add(t.label() + " is not loaded on this server: its query measures are left out (" + e.getMessage()
            + ")");
      }
      if (handle != null) {
        try (ModelHandle<ModelVersion> h = handle) {
          if (!request.queries().isEmpty()) {
            recall = recall(items, c, h.get(), request);
          }
          if (withClass) {
            Encoder encoder = h.get().encoder().orElse(null);
            if (encoder == null || !encoder.encodesText()) {
              notes.add(t.label() + " embeds no text: zero-shot accuracy is left out");
            } else {
              double[] both = classScores(items, c, h.get(), request, sample, notes);
              if (both != null) {
                zeroShot = both[0];
                precision = both[1];
              }
            }
          }
        }
      }
    }
    return new Evaluation.VersionScores(t.modelName(), t.version(), Evaluation.Distribution.of(rank1),
        Evaluation.Distribution.of(rankK), recall, zeroShot, precision);
  }

  private static double recall(ItemStore items, Collection c, ModelVersion version, EvaluationRequest request) {
    List<Content> queries = new ArrayList<>();
    request.queries().forEach(q -> queries.add(q.query()));
    List<float[]> vectors = version.encode(queries, i -> "queries[" + i + "].query",
        CallScope.withTimeout(EMBED_TIMEOUT));
    double sum = 0;
    for (int i = 0; i < queries.size(); i++) {
      Set<String> expected = request.queries().get(i).expectedIds();
      List<SearchHit> hits = items.search(c, new SearchQuery(vectors.get(i), null, request.k(), null, false, false), 0);
      int found = 0;
      for (SearchHit h : hits) {
        found += expected.contains(h.id()) ? 1 : 0;
      }
      sum += expected.isEmpty() ? 1 : (double) found / Math.min(request.k(), expected.size());
    }
    return sum / queries.size();
  }

  /**
   * Zero-shot accuracy over the sampled items with a class, and the mean precision@k of a
   * search for each class's text; null when no sampled item has a class.
   */
  @Nullable
  private static double[] classScores(ItemStore items, Collection c, ModelVersion version, EvaluationRequest request, List<String> sample,
      List<String> notes) {
    Map<String, String> classOf = new LinkedHashMap<>();
    Map<String, float[]> vectorOf = new LinkedHashMap<>();
    for (StoredItem item : items.get(c, sample, true, false)) {
      String cls = metadataValue(item.metadataJson(), request.classKey());
      if (cls != null) {
        classOf.put(item.id(), cls);
        vectorOf.put(item.id(), item.vector());
      }
    }
    List<String> classes = new ArrayList<>(new TreeSet<>(classOf.values()));
    if (classes.isEmpty()) {
      notes.add("no sampled item has metadata key '" + request.classKey() + "': zero-shot accuracy is left out");
      return null;
    }
    if (classes.size() > MAX_CLASSES) {
      throw new FailedPreconditionException("class_key '" + request.classKey() + "' has " + classes.size()
          + " values among the sampled items, over the limit of " + MAX_CLASSES);
    }
    List<Content> texts = new ArrayList<>();
    classes.forEach(cls -> texts.add(new Content.Text(request.classTemplate().replace("{}", cls))));
    List<float[]> classVectors = version.encode(texts, i -> "class_template (class '" + classes.get(i) + "')",
        CallScope.withTimeout(EMBED_TIMEOUT));
    int right = 0;
    for (Map.Entry<String, String> e : classOf.entrySet()) {
      float[] v = vectorOf.get(e.getKey());
      int best = 0;
      double bestScore = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < classes.size(); i++) {
        double s = cosine(v, classVectors.get(i));
        if (s > bestScore) {
          bestScore = s;
          best = i;
        }
      }
      right += classes.get(best).equals(e.getValue()) ? 1 : 0;
    }
    double precision = 0;
    for (int i = 0; i < classes.size(); i++) {
      List<SearchHit> hits = items.search(c, new SearchQuery(classVectors.get(i), null, request.k(), null, false,
          true), 0);
      int same = 0;
      for (SearchHit h : hits) {
        same += classes.get(i).equals(metadataValue(h.metadataJson(), request.classKey())) ? 1 : 0;
      }
      precision += hits.isEmpty() ? 0 : (double) same / hits.size();
    }
    return new double[] {(double) right / classOf.size(), precision / classes.size()};
  }

  /** The value at a dotted key path of a JSON object, as text; null when absent or not a scalar. */
  @Nullable
  static String metadataValue(@Nullable String json, String key) {
    if (json == null) {
      return null;
    }
    JsonElement at = JsonParser.parseString(json);
    for (String part : key.split("\\.")) {
      if (!at.isJsonObject()) {
        return null;
      }
      JsonObject o = at.getAsJsonObject();
      if (!o.has(part)) {
        return null;
      }
      at = o.get(part);
    }
    return at.isJsonPrimitive() ? at.getAsString() : null;
  }

  private static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
  }
}
