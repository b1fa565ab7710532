package io.jointspace.client.cli;

import io.jointspace.api.v1.Classification;
import io.jointspace.api.v1.ClassifyResponse;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.LabelScore;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.client.JointspaceClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code embed} and {@code classify}. */
final class EmbedCommands {
  private EmbedCommands() {}

  /** Which model: {@code --model name[@version|@label]}. */
  static ModelSpec model(String spec) {
    int at = spec.indexOf('@');
    if (at < 0) {
      return JointspaceClient.model(spec);
    }
    String name = spec.substring(0, at);
    String v = spec.substring(at + 1);
    return v.chars().allMatch(Character::isDigit) && !v.isEmpty() ? JointspaceClient.model(name, Long.parseLong(v))
        : JointspaceClient.label(name, v);
  }

  @Command(name = "embed", mixinStandardHelpOptions = true, description = "Embed texts and images.")
  static final class Embed extends Base implements Runnable {
    @Option(names = "--model", defaultValue = "shapes-clip",
        description = "name, name@version or name@label. Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--text", description = "A text to embed (repeatable).")
    List<String> texts = new ArrayList<>();

    @Option(names = "--image", description = "An image file to embed (repeatable).")
    List<Path> images = new ArrayList<>();

    @Override
    public void run() {
      List<Input> inputs = new ArrayList<>();
      List<String> names = new ArrayList<>();
      texts.forEach(t -> {
        inputs.add(JointspaceClient.text(t));
        names.add(t);
      });
      images.forEach(i -> {
        inputs.add(JointspaceClient.image(i));
        names.add(i.toString());
      });
      if (inputs.isEmpty()) {
        throw new IllegalArgumentException("embed: give --text or --image");
      }
      try (JointspaceClient c = connect()) {
        EmbedResponse r = c.embedResponse(model(model), inputs);
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
          List<Float> v = r.getEmbeddings(i).getValuesList();
          StringBuilder head = new StringBuilder();
          for (int d = 0; d < Math.min(4, v.size()); d++) {
            head.append(String.format(Locale.ROOT, "%s%.4f", d == 0 ? "" : " ", v.get(d)));
          }
          rows.add(List.of(names.get(i), Integer.toString(v.size()), head + (v.size() > 4 ? " ..." : "")));
        }
        out().print(r, List.of("INPUT", "DIM", "VECTOR (" + r.getModel().getName() + "@" + r.getModel().getVersion()
            + ")"), rows);
      }
    }
  }

  @Command(name = "classify", mixinStandardHelpOptions = true, description = "Zero-shot: score images against labels.")
  static final class Classify extends Base implements Runnable {
    @Option(names = "--model", defaultValue = "shapes-clip", description = "Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--labels", required = true, split = ",", description = "Comma-separated labels.")
    List<String> labels;

    @Option(names = "--top-k", defaultValue = "3", description = "Labels shown per image. Default: ${DEFAULT-VALUE}.")
    int topK;

    @Parameters(paramLabel = "IMAGE", arity = "1..*")
    List<Path> images;

    @Override
    public void run() {
      List<Input> inputs = new ArrayList<>();
      images.forEach(i -> inputs.add(JointspaceClient.image(i)));
      try (JointspaceClient c = connect()) {
        ClassifyResponse r = c.classify(model(model), inputs, labels);
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
          Classification cls = r.getResults(i);
          for (int k = 0; k < Math.min(topK, cls.getScoresCount()); k++) {
            LabelScore s = cls.getScores(k);
            rows.add(List.of(k == 0 ? images.get(i).toString() : "", s.getLabel(),
                String.format(Locale.ROOT, "%.4f", s.getProbability())));
          }
        }
        out().print(r, List.of("IMAGE", "LABEL", "PROBABILITY"), rows);
      }
    }
  }
}
