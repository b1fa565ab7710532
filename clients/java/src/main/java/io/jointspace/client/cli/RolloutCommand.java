package io.jointspace.client.cli;

import io.jointspace.api.v1.EvaluateRolloutRequest;
import io.jointspace.api.v1.Evaluation;
import io.jointspace.api.v1.Rollout;
import io.jointspace.api.v1.StartRolloutRequest;
import io.jointspace.api.v1.UnembeddablePolicy;
import io.jointspace.api.v1.VersionScores;
import io.jointspace.client.JointspaceClient;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rollout start|status|watch|evaluate|promote|rollback|finalize|abort COLLECTION}. */
@Command(name = "rollout", mixinStandardHelpOptions = true,
    description = "Move a collection to another model version (docs/rollouts.md).",
    subcommands = {RolloutCommand.Start.class, RolloutCommand.Status.class, RolloutCommand.Watch.class,
        RolloutCommand.Evaluate.class, RolloutCommand.Promote.class, RolloutCommand.Rollback.class,
        RolloutCommand.Finalize.class, RolloutCommand.Abort.class})
final class RolloutCommand {

  @Command(name = "start", mixinStandardHelpOptions = true, description = "Start re-embedding COLLECTION with --model.")
  static final class Start extends Base implements Runnable {
    @Parameters(paramLabel = "COLLECTION")
    String collection;

    @Option(names = "--model", required = true, description = "The target: name@version, name@label or name.")
    String model;

    @Option(names = "--rate", defaultValue = "0", description = "Items per second over all servers; 0: no limit.")
    double rate;

    @Option(names = "--unembeddable", description = "For items without a source: FAIL, DROP or KEEP_IN_OLD.")
    String unembeddable;

    @Option(names = "--dry-run", description = "Only check and report.")
    boolean dryRun;

    @Override
    public void run() {
      StartRolloutRequest.Builder b = StartRolloutRequest.newBuilder().setCollection(collection)
          .setTarget(EmbedCommands.model(model)).setRateLimit(rate).setDryRun(dryRun);
      if (unembeddable != null) {
        b.setUnembeddable(UnembeddablePolicy.valueOf("UNEMBEDDABLE_" + unembeddable.toUpperCase(Locale.ROOT)));
      }
      try (JointspaceClient c = connect()) {
        show(this, c.startRollout(b.build()));
      }
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "The collection's rollout now.")
  static final class Status extends Base implements Runnable {
    @Parameters(paramLabel = "COLLECTION")
    String collection;

    @Override
    public void run() {
      try (JointspaceClient c = connect()) {
        show(this, c.getRollout(collection));
      }
    }
  }

  @Command(name = "watch", mixinStandardHelpOptions = true,
      description = "Print the rollout at each change until it is READY (or --until another state).")
  static final class Watch extends Base implements java.util.concurrent.Callable<Integer> {
    @Parameters(paramLabel = "COLLECTION")
    String collection;

    @Option(names = "--until", defaultValue = "READY",
        description = "Stop at this state (or FINALIZED/ABORTED). Default: ${DEFAULT-VALUE}.")
    Rollout.State until;

    @Option(names = "--max-wait", defaultValue = "1h", description = "Give up after this long. Default: ${DEFAULT-VALUE}.")
    String maxWait;

    /** 0 when the rollout got to {@code --until}, 1 when it ended elsewhere (FAILED, ABORTED ...). */
    @Override
    public Integer call() {
      try (JointspaceClient c = connect();
          JointspaceClient.RolloutWatch it = c.watchRollout(collection, Cli.duration(maxWait))) {
        while (it.hasNext()) {
          Rollout r = it.next();
          if (out().json()) {
            out().json(r);
          } else {
            out().line(progressLine(r));
          }
          if (r.getState() == until) {
            return 0;
          }
          if (r.getState() == Rollout.State.FAILED) {
            return 1;
          }
        }
        return 1;
      }
    }
  }

  @Command(name = "evaluate", mixinStandardHelpOptions = true, description = "Compare the two versions now.")
  static final class Evaluate extends Base implements Runnable {
    @Parameters(paramLabel = "COLLECTION")
    String collection;

    @Option(names = "--class-key", defaultValue = "", description = "Metadata key holding each item's class.")
    String classKey;

    @Option(names = "--class-template", defaultValue = "{}", description = "Default: ${DEFAULT-VALUE}.")
    String classTemplate;

    @Override
    public void run() {
      try (JointspaceClient c = connect()) {
        Evaluation e = c.evaluate(EvaluateRolloutRequest.newBuilder().setCollection(collection).setClassKey(classKey)
            .setClassTemplate(classTemplate).build());
        out().print(e, List.of("VERSION", "RANK1 MEDIAN", "RANK" + e.getK() + " MEDIAN", "ZERO-SHOT", "CLASS P@K",
            "RECALL@K"), List.of(scores(e.getFrom()), scores(e.getTo())));
        if (!out().json()) {
          out().line(String.format(Locale.ROOT, "neighbour agreement %.3f over %d items (k = %d)",
              e.getNeighbourAgreement(), e.getSampledItems(), e.getK()));
          e.getNotesList().forEach(n -> out().line("note: " + n));
        }
      }
    }
  }

  @Command(name = "promote", mixinStandardHelpOptions = true, description = "Make the target the collection's version.")
  static final class Promote extends Step {
    Promote() {
      super(JointspaceClient::promote);
    }
  }

  @Command(name = "rollback", mixinStandardHelpOptions = true, description = "Back to the old version.")
  static final class Rollback extends Step {
    Rollback() {
      super(JointspaceClient::rollback);
    }
  }

  @Command(name = "finalize", mixinStandardHelpOptions = true, description = "Drop the old version's table.")
  static final class Finalize extends Step {
    Finalize() {
      super(JointspaceClient::finalizeRollout);
    }
  }

  @Command(name = "abort", mixinStandardHelpOptions = true, description = "Drop the target's table.")
  static final class Abort extends Step {
    Abort() {
      super(JointspaceClient::abort);
    }
  }

  /** A step that takes only the collection. */
  abstract static class Step extends Base implements Runnable {
    private final BiFunction<JointspaceClient, String, Rollout> step;

    @Parameters(paramLabel = "COLLECTION")
    String collection;

    Step(BiFunction<JointspaceClient, String, Rollout> step) {
      this.step = step;
    }

    @Override
    public void run() {
      try (JointspaceClient c = connect()) {
        show(this, step.apply(c, collection));
      }
    }
  }

  static void show(Base command, Rollout r) {
    if (command.out().json()) {
      command.out().json(r);
    } else {
      command.out().line(progressLine(r));
      if (!r.getError().isEmpty()) {
        command.out().line("note: " + r.getError());
      }
    }
  }

  static String progressLine(Rollout r) {
    var p = r.getProgress();
    String eta = p.hasEta() ? ", ETA " + Duration.ofSeconds(p.getEta().getSeconds()) : "";
    return String.format(Locale.ROOT, "rollout %d of %s: %s@%d -> %s@%d %s, %d/%d done, %d failed, %.1f items/s%s",
        r.getId(), r.getCollection(), r.getFrom().getName(), r.getFrom().getVersion(), r.getTo().getName(),
        r.getTo().getVersion(), r.getState(), p.getDone(), p.getTotal(), p.getFailed(), p.getItemsPerSecond(), eta);
  }

  private static List<String> scores(VersionScores s) {
    return List.of(s.getModel().getName() + "@" + s.getModel().getVersion(),
        String.format(Locale.ROOT, "%.3f", s.getRank1().getMedian()),
        String.format(Locale.ROOT, "%.3f", s.getRankK().getMedian()),
        s.hasZeroShotAccuracy() ? String.format(Locale.ROOT, "%.3f", s.getZeroShotAccuracy()) : "-",
        s.hasClassPrecisionAtK() ? String.format(Locale.ROOT, "%.3f", s.getClassPrecisionAtK()) : "-",
        s.hasRecallAtK() ? String.format(Locale.ROOT, "%.3f", s.getRecallAtK()) : "-");
  }
}
