package io.jointspace.server;

import io.jointspace.server.runtime.Devices;
import io.jointspace.server.runtime.TextTokenizer;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code jointspace runtime}: loads the native libraries the server runs on, TensorFlow's
 * and the tokenizer library's, and says what TensorFlow runs on. Their first load unpacks
 * them into their cache folders, so running this while a container image is built leaves
 * nothing to unpack (and no write) when the server starts.
 */
@Command(name = "runtime", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = {
      "Loads TensorFlow's and the tokenizer library's native code and prints what TensorFlow runs on.",
      "The first load unpacks them into their cache folders (-Dorg.bytedeco.javacpp.cachedir, DJL_CACHE_DIR):"
          + " a container image does it when it is built, so that the server writes nothing there at start."
    })
final class NativeRuntime implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    try {
      spec.commandLine().getOut().println(Devices.describe());
      TextTokenizer.loadNativeLibrary();
      spec.commandLine().getOut().println("Tokenizer library loaded");
      return 0;
    } catch (IllegalStateException | UnsatisfiedLinkError e) {
      spec.commandLine().getErr().println("jointspace: " + e.getMessage());
      return 1;
    }
  }
}
