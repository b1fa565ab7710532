package io.jointspace.server;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import picocli.CommandLine;

/**
 * {@code jointspace serve} as the server itself reads it: its picocli command line and
 * {@link ConfigLoader}. Deployment manifests are checked against it, so that a flag, an
 * environment variable or a config field the server does not have fails a test instead of a
 * pod. In the server's package only to reach the package-private loader.
 */
public final class ServeCommand {
  private ServeCommand() {}

  /** Every option name of {@code jointspace serve} ("--grpc-port", "-h", ...). */
  public static Set<String> flags() {
    Set<String> names = new TreeSet<>();
    serveSpec().options().forEach(o -> names.addAll(List.of(o.names())));
    return names;
  }

  /**
   * The settings {@code jointspace ARGS} would serve with: ARGS as the launcher passes them
   * on ("serve", then flags), ENV as the process environment. Unknown flags, values the
   * server refuses and a config file it cannot parse throw, as they stop {@code serve}.
   *
   * @param files where to read a file the container sees at a path (the config file)
   */
  public static Settings settings(List<String> args, Map<String, String> env, UnaryOperator<Path> files) {
    CommandLine cli = new CommandLine(new Main());
    CommandLine.ParseResult parsed = cli.parseArgs(args.toArray(String[]::new));
    if (!parsed.hasSubcommand() || !parsed.subcommand().commandSpec().name().equals("serve")) {
      throw new IllegalArgumentException("not a serve command line: " + args);
    }
    Main.Serve serve = (Main.Serve) parsed.subcommand().commandSpec().userObject();
    if (serve.insecureNoAuth && serve.auth != null && !serve.auth.equalsIgnoreCase("off")) {
      throw new Settings.ConfigException("--insecure-no-auth and --auth " + serve.auth + " contradict each other");
    }
    io.jointspace.config.v1.AuthMode auth = serve.insecureNoAuth ? io.jointspace.config.v1.AuthMode.AUTH_OFF
        : serve.auth == null ? null : ConfigLoader.parseAuth(serve.auth, "--auth");
    Path config = serve.config != null ? serve.config
        : env.containsKey("JOINTSPACE_CONFIG") ? Path.of(env.get("JOINTSPACE_CONFIG")) : null;
    Map<String, String> rest = new java.util.HashMap<>(env);
    rest.remove("JOINTSPACE_CONFIG");
    // the same Overrides as Main.Serve.call builds from the flags
    return ConfigLoader.load(config == null ? null : files.apply(config), rest,
        new ConfigLoader.Overrides(serve.models, serve.grpcPort, serve.maxMessageBytes, serve.pollIntervalMs,
            serve.shutdownGraceMs, serve.batching == null ? null : serve.batching == Main.Serve.OnOff.on,
            serve.metricsPort, serve.databaseUrl, serve.dataDir, serve.grpcAddress, auth, serve.tlsCert,
            serve.tlsKey, serve.tlsClientCa, serve.healthPort, serve.metricsAddress));
  }

  /** The settings of a config file alone, with no flag and no environment. */
  public static Settings settings(Path configFile) {
    return ConfigLoader.load(configFile, Map.of(), new ConfigLoader.Overrides(null, null, null, null, null, null));
  }

  private static CommandLine.Model.CommandSpec serveSpec() {
    return new CommandLine(new Main()).getSubcommands().get("serve").getCommandSpec();
  }
}
