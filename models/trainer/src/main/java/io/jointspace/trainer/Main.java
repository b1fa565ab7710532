package io.jointspace.trainer;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: {@code train} and {@code evaluate} for the shapes-clip demo model. */
@Command(name = "jointspace-trainer", mixinStandardHelpOptions = true,
    subcommands = {Trainer.class, Evaluate.class},
    description = "Trains and evaluates the shapes-clip demo model (synthetic captioned shapes, TF Java).")
public final class Main implements Runnable {

  public static void main(String[] args) {
    // Before any DJL class loads: no usage tracking call to a cloud metadata address.
    System.setProperty("OPT_OUT_TRACKING", "true");
    System.setProperty("ai.djl.offline", "true");
    System.setProperty("java.awt.headless", "true");
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
