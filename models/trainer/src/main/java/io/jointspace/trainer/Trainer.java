package io.jointspace.trainer;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code train}: trains shapes-clip versions 1 and 2 one after the other and exports each
 * to {@code <out>/<version>} (TF Serving layout, with the tokenizer and encoder spec).
 */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Train the shapes-clip demo dual encoder (versions 1 and 2) and export them as SavedModels.")
public final class Trainer implements Callable<Integer> {
  @Option(names = "--out", defaultValue = "models/shapes-clip", description = "Model folder to write version folders into (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--versions", split = ",", defaultValue = "1,2", description = "Versions to train (default: ${DEFAULT-VALUE}).")
  List<Integer> versions;

  @Option(names = "--seed", defaultValue = "2026", description = "Base seed; version v trains on seed + v (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--steps", description = "Override every version's step count (for quick runs).")
  Integer steps;

  @Option(names = "--batch", description = "Override every version's batch size.")
  Integer batch;

  @Option(names = "--threads", description = "TensorFlow intra-op threads (default: available processors).")
  Integer threads;

  @Option(names = "--log-every", defaultValue = "50", description = "Progress line every N steps (default: ${DEFAULT-VALUE}).")
  int logEvery;

  @Override
  public Integer call() throws Exception {
    int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
    long start = System.nanoTime();
    for (int v : versions) {
      TrainConfig config = switch (v) {
        case 1 -> TrainConfig.version1(seed, t);
        case 2 -> TrainConfig.version2(seed, t);
        default -> throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
            "--versions: only 1 and 2 are defined, got " + v);
      };
      if (steps != null) {
        config = config.withSteps(steps);
      }
      if (batch != null) {
        config = config.withBatch(batch);
      }
      System.err.printf("v%d: dim %d, %d steps of %d scenes, peak lr %.4f, seed %d, %d threads%n", v,
          config.model().dimension(), config.steps(), config.batch(), config.learningRate(), config.seed(), t);
      TrainedModel model = ClipTraining.train(config, System.err, logEvery);
      Path dir = out.resolve(Integer.toString(v));
      ModelExport.export(model, dir);
      System.err.printf("v%d: %d parameters, logit scale %.2f, final loss %.4f, trained in %.1fs; exported to %s (%.2f MB)%n",
          v, model.parameterCount(), model.logitScale(), model.finalLoss(), model.seconds(), dir,
          Evaluation.size(dir) / 1e6);
    }
    System.err.printf("total %.1fs%n", (System.nanoTime() - start) / 1e9);
    return 0;
  }
}
