package io.jointspace.server.api;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.inject.Inject;
import com.google.inject.Singleton;
import io.jointspace.api.v1.ClassifyRequest;
import io.jointspace.api.v1.ClassifyResponse;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.Classification;
import io.jointspace.api.v1.LabelScore;
import io.jointspace.api.v1.ScoreRequest;
import io.jointspace.api.v1.ScoreResponse;
import io.jointspace.api.v1.ScoreRow;
import io.jointspace.registry.ModelHandle;
import io.jointspace.registry.ModelManager;
import io.jointspace.server.runtime.Encoder;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.runtime.CallScope;
import io.jointspace.server.runtime.Content;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.runtime.Similarity;
import io.jointspace.server.store.Limits;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * Zero-shot classification and cross-modal scoring. Label embeddings (templates averaged,
 * re-normalized) are cached per (loaded model version, labels, templates), so repeated
 * classification over one label set embeds only the inputs.
 */
@Singleton
final class ZeroShot {
  static final List<String> DEFAULT_TEMPLATES =
      List.of("a photo of a {}.", "a picture of a {}.", "an image of a {}.", "a rendering of a {}.");

  /**
   * The loaded version itself, not its ServableId, is part of the key: a version reloaded from
   * changed files under the same number must not be answered with the old label vectors.
   */
  private record LabelKey(ModelVersion version, List<String> labels, List<String> templates) {}

  private final ModelManager<ModelVersion> registry;
  /** Weighed by the characters of the keys' labels and templates, which a request may make large. */
  private final Cache<LabelKey, List<float[]>> labelCache = Caffeine.newBuilder()
      .maximumWeight(LABEL_CACHE_CHARS)
      .<LabelKey, List<float[]>>weigher((key, vectors) -> chars(key.labels()) + chars(key.templates()) + vectors.size())
      .build();
  private static final long LABEL_CACHE_CHARS = 16L << 20;

  @Inject
  ZeroShot(ModelManager<ModelVersion> registry) {
    this.registry = registry;
  }

  ClassifyResponse classify(ClassifyRequest request) {
    if (!request.hasModel()) {
      throw new InvalidInputException("model is not set");
    }
    var wanted = ProtoMapper.modelRequest(request.getModel(), "model");
    if (request.getInputsCount() == 0) {
      throw new InvalidInputException("inputs is empty; give at least one image or text");
    }
    List<String> labels = checkLabels(request.getLabelsList());
    List<String> templates = checkTemplates(request.getTemplatesList());
    checkLabelTexts(labels, templates);
    if (request.getTopK() < 0) {
      throw new InvalidInputException("top_k must not be negative, got " + request.getTopK());
    }
    int topK = request.getTopK() == 0 ? labels.size() : Math.min(request.getTopK(), labels.size());
    try (ModelHandle<ModelVersion> model = CallModel.acquire(registry, wanted);
        GrpcCallScope call = GrpcCallScope.current()) {
      ModelVersion version = model.get();
      Encoder encoder = version.requireEncoder();
      if (!encoder.encodesText()) {
        throw new InvalidInputException("model: version " + model.id() + " has no text encoder, which Classify needs for labels");
      }
      List<float[]> labelVectors = labelCache.get(new LabelKey(version, labels, templates),
          key -> embedLabels(version, labels, templates, call.scope()));
      IntFunction<String> fieldOf = i -> "inputs[" + i + "]";
      List<float[]> inputs = version.encode(ProtoMapper.contents(request.getInputsList(), fieldOf, encoder), fieldOf,
          call.scope());
      ClassifyResponse.Builder out = ClassifyResponse.newBuilder().setModel(ProtoMapper.resolved(model.id(), ""));
      for (float[] input : inputs) {
        float[] cos = new float[labels.size()];
        for (int j = 0; j < cos.length; j++) {
          cos[j] = Similarity.cosine(input, labelVectors.get(j));
        }
        float[] p = Similarity.softmax(cos, encoder.logitScale());
        Integer[] order = new Integer[cos.length];
        Arrays.setAll(order, j -> j);
        Arrays.sort(order, Comparator.comparingDouble((Integer j) -> -p[j]).thenComparingInt(j -> j));
        Classification.Builder c = Classification.newBuilder();
        for (int k = 0; k < topK; k++) {
          int j = order[k];
          c.addScores(LabelScore.newBuilder().setLabel(labels.get(j)).setProbability(p[j]).setCosine(cos[j]));
        }
        out.addResults(c);
      }
      return out.build();
    }
  }

  ScoreResponse score(ScoreRequest request) {
    if (!request.hasModel()) {
      throw new InvalidInputException("model is not set");
    }
    var wanted = ProtoMapper.modelRequest(request.getModel(), "model");
    if (request.getQueriesCount() == 0) {
      throw new InvalidInputException("queries is empty; give at least one");
    }
    if (request.getCandidatesCount() == 0) {
      throw new InvalidInputException("candidates is empty; give at least one");
    }
    try (ModelHandle<ModelVersion> model = CallModel.acquire(registry, wanted);
        GrpcCallScope call = GrpcCallScope.current()) {
      Encoder encoder = model.get().requireEncoder();
      // queries and candidates in one pass: one wait for preprocessing, shared batches
      int nq = request.getQueriesCount();
      List<Input> both = new ArrayList<>(request.getQueriesList());
      both.addAll(request.getCandidatesList());
      IntFunction<String> fieldOf = i -> i < nq ? "queries[" + i + "]" : "candidates[" + (i - nq) + "]";
      List<float[]> all = model.get().encode(ProtoMapper.contents(both, fieldOf, encoder), fieldOf, call.scope());
      List<float[]> queries = all.subList(0, nq);
      List<float[]> candidates = all.subList(nq, all.size());
      ScoreResponse.Builder out = ScoreResponse.newBuilder().setModel(ProtoMapper.resolved(model.id(), ""));
      for (float[] q : queries) {
        float[] cos = new float[candidates.size()];
        ScoreRow.Builder row = ScoreRow.newBuilder();
        for (int j = 0; j < cos.length; j++) {
          cos[j] = Similarity.cosine(q, candidates.get(j));
          row.addCosines(cos[j]);
        }
        if (request.getSoftmax()) {
          for (float p : Similarity.softmax(cos, encoder.logitScale())) {
            row.addProbabilities(p);
          }
        }
        out.addRows(row);
      }
      return out.build();
    }
  }

  /**
   * One vector per label: the label put into every template, embedded through the model's
   * text queue (with the call's deadline and the queue's admission, a part of the queue's room
   * at a time), averaged, re-normalized.
   */
  private static List<float[]> embedLabels(ModelVersion version, List<String> labels, List<String> templates,
      CallScope scope) {
    int per = templates.size();
    List<Content.Text> texts = new ArrayList<>(labels.size() * per);
    for (String label : labels) {
      for (String template : templates) {
        texts.add(new Content.Text(template.replace("{}", label)));
      }
    }
    List<float[]> all = version.encodeTextsInParts(texts,
        k -> "labels[" + k / per + "] (template '" + templates.get(k % per) + "')", scope);
    List<float[]> out = new ArrayList<>(labels.size());
    for (int j = 0; j < labels.size(); j++) {
      out.add(Similarity.normalizedMean(all.subList(j * per, (j + 1) * per)));
    }
    return List.copyOf(out);
  }

  /** Counts and lengths first, so nothing large is hashed or built before the limits apply. */
  private static List<String> checkLabels(List<String> labels) {
    if (labels.isEmpty()) {
      throw new InvalidInputException("labels is empty; give at least one");
    }
    if (labels.size() > Limits.MAX_LABELS) {
      throw new InvalidInputException("labels has " + labels.size() + " entries; at most " + Limits.MAX_LABELS);
    }
    for (int i = 0; i < labels.size(); i++) {
      if (labels.get(i).length() > Limits.MAX_LABEL_CHARS) {
        throw new InvalidInputException("labels[" + i + "] is " + labels.get(i).length()
            + " characters; at most " + Limits.MAX_LABEL_CHARS);
      }
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < labels.size(); i++) {
      if (labels.get(i).isBlank()) {
        throw new InvalidInputException("labels[" + i + "] is empty");
      }
      if (!seen.add(labels.get(i))) {
        throw new InvalidInputException("labels[" + i + "] '" + labels.get(i) + "' appears twice");
      }
    }
    return List.copyOf(labels);
  }

  private static List<String> checkTemplates(List<String> templates) {
    if (templates.isEmpty()) {
      return DEFAULT_TEMPLATES;
    }
    if (templates.size() > Limits.MAX_TEMPLATES) {
      throw new InvalidInputException("templates has " + templates.size() + " entries; at most " + Limits.MAX_TEMPLATES);
    }
    for (int i = 0; i < templates.size(); i++) {
      String template = templates.get(i);
      if (template.length() > Limits.MAX_TEMPLATE_CHARS) {
        throw new InvalidInputException("templates[" + i + "] is " + template.length()
            + " characters; at most " + Limits.MAX_TEMPLATE_CHARS);
      }
      if (!template.contains("{}")) {
        throw new InvalidInputException("templates[" + i + "] '" + template + "' has no {} for the label");
      }
    }
    return List.copyOf(templates);
  }

  /**
   * The label texts {@link #embedLabels} would build, counted before it builds any: how many
   * (labels x templates) and their characters together (each template with every {@code {}}
   * replaced by each label).
   */
  private static void checkLabelTexts(List<String> labels, List<String> templates) {
    long texts = (long) labels.size() * templates.size();
    if (texts > Limits.MAX_LABEL_TEXTS) {
      throw new InvalidInputException("labels has " + labels.size() + " entries and templates " + templates.size()
          + ": " + texts + " label texts to embed; at most " + Limits.MAX_LABEL_TEXTS
          + " (labels x templates)");
    }
    long labelChars = chars(labels);
    long chars = 0;
    for (String template : templates) {
      long slots = placeholders(template);
      chars += labels.size() * (template.length() - 2 * slots) + slots * labelChars;
    }
    if (chars > Limits.MAX_LABEL_TEXT_CHARS) {
      throw new InvalidInputException("labels and templates make label texts of " + chars
          + " characters together; at most " + Limits.MAX_LABEL_TEXT_CHARS
          + " (every label put into every template); use fewer or shorter labels or templates");
    }
  }

  private static long placeholders(String template) {
    long n = 0;
    for (int at = template.indexOf("{}"); at >= 0; at = template.indexOf("{}", at + 2)) {
      n++;
    }
    return n;
  }

  private static int chars(List<String> strings) {
    long n = 0;
    for (String s : strings) {
      n += s.length();
    }
    return (int) Math.min(Integer.MAX_VALUE, n);
  }
}
