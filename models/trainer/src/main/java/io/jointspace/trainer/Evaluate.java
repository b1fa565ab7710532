package io.jointspace.trainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code evaluate}: scores the exported versions (see {@link Evaluation}) and prints a table. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = "Zero-shot accuracy on held-out color+shape combinations and retrieval recall, per exported version.")
public final class Evaluate implements Callable<Integer> {
  @Option(names = "--models", defaultValue = "models/shapes-clip", description = "Model folder with numeric version folders (default: ${DEFAULT-VALUE}).")
  Path models;

  @Option(names = "--versions", split = ",", description = "Versions to score (default: every numeric folder).")
  List<String> versions;

  @Option(names = "--seed", defaultValue = "" + Evaluation.DEFAULT_SEED, description = "Scene seed; never one training used (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--held-out-images", defaultValue = "100", description = "Images per held-out combination (default: ${DEFAULT-VALUE}).")
  int perHeldOut;

  @Option(names = "--seen-images", defaultValue = "20", description = "Images per seen combination (default: ${DEFAULT-VALUE}).")
  int perSeen;

  @Option(names = "--pairs", defaultValue = "1000", description = "(image, caption) pairs for recall (default: ${DEFAULT-VALUE}).")
  int pairs;

  @Option(names = "--markdown", description = "Also write the table as markdown to this file.")
  Path markdown;

  @Override
  public Integer call() throws Exception {
    List<String> chosen = versions != null ? versions : numericFolders(models);
    if (chosen.isEmpty()) {
      System.err.println("no version folders under " + models.toAbsolutePath());
      return 2;
    }
    List<Evaluation.Scores> scores = new ArrayList<>();
    for (String v : chosen) {
      try (ShapesClipModel model = ShapesClipModel.load(models.resolve(v))) {
        long start = System.nanoTime();
        scores.add(Evaluation.evaluate(model, seed, perHeldOut, perSeen, pairs));
        System.err.printf("evaluated v%s in %.1fs%n", v, (System.nanoTime() - start) / 1e9);
      }
    }
    String table = Evaluation.markdown(scores);
    System.out.print(table);
    if (markdown != null) {
      String doc = "Scenes from seed " + seed + " (training never used it). Zero-shot: images of the 6 held-out"
          + " color+shape combinations, classified among all 48 \"a photo of a {color} {shape}.\" labels"
          + " (mean of " + Captions.ZERO_SHOT_TEMPLATES.size() + " templates), softmax with the model's logit scale."
          + " Recall over " + pairs + " (image, caption) pairs: a hit is a retrieved item whose caption equals the"
          + " query's own caption (captions repeat).\n\n" + table;
      if (markdown.toAbsolutePath().getParent() != null) {
        Files.createDirectories(markdown.toAbsolutePath().getParent());
      }
      Files.writeString(markdown, doc);
    }
    return 0;
  }

  static List<String> numericFolders(Path models) throws java.io.IOException {
    try (Stream<Path> s = Files.list(models)) {
      return s.filter(Files::isDirectory).map(p -> p.getFileName().toString())
          .filter(n -> n.matches("\\d+"))
          .sorted(Comparator.comparingLong(Long::parseLong)).toList();
    }
  }
}
