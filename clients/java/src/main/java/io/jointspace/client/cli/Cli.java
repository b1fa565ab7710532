package io.jointspace.client.cli;

import io.jointspace.client.JointspaceClient;
import io.jointspace.client.JointspaceException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The command line: {@code ./jointspace models}, {@code embed}, {@code ingest},
 * {@code search}, {@code rollout start} ... Each command connects to {@code --address}
 * (default localhost:8500, or JOINTSPACE_ADDRESS), prints a table or, with
 * {@code --output json}, the answers in the API's JSON form. With {@code --api-key} (or
 * JOINTSPACE_API_KEY) every call carries that API key. A refused call prints its status
 * and message and exits 1; a bad command line exits 2.
 */
@Command(name = "jointspace", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
    description = "Talk to a Jointspace server.",
    subcommands = {ModelCommands.Models.class, ModelCommands.Status.class, ModelCommands.Labels.class,
        EmbedCommands.Embed.class, EmbedCommands.Classify.class, CollectionsCommand.class, IngestCommand.class,
        SearchCommand.class, RolloutCommand.class, KeysCommand.class})
public final class Cli {
  @Option(names = "--address", scope = ScopeType.INHERIT, defaultValue = "${env:JOINTSPACE_ADDRESS:-localhost:8500}",
      description = "The server's gRPC address, host:port. Default: ${DEFAULT-VALUE}.")
  String address;

  @Option(names = "--api-key", scope = ScopeType.INHERIT, paramLabel = "KEY",
      defaultValue = "${env:JOINTSPACE_API_KEY}",
      description = "API key sent with every call (authorization: Bearer KEY), for a server that requires keys."
          + " Prefer the environment variable JOINTSPACE_API_KEY: a flag shows the key in ps and shell history."
          + " Default: JOINTSPACE_API_KEY, else none.")
  String apiKey;

  @Option(names = "--output", scope = ScopeType.INHERIT, defaultValue = "table",
      description = "table or json. Default: ${DEFAULT-VALUE}.")
  Output.Format output;

  @Option(names = "--timeout", scope = ScopeType.INHERIT, defaultValue = "60s",
      description = "Deadline of each call (e.g. 30s, 2m). Default: ${DEFAULT-VALUE}.")
  String timeout;

  @Option(names = "--tls-ca", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "Connect over TLS, trusting the server's certificate when a CA certificate in this PEM file"
          + " issued it. Default: plaintext.")
  Path tlsCa;

  @Option(names = "--tls-cert", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "Client certificate chain (PEM) for a server that requires one (mTLS); implies TLS (without"
          + " --tls-ca, trusting the system's CAs). Needs --tls-key.")
  Path tlsCert;

  @Option(names = "--tls-key", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "Private key of --tls-cert: unencrypted PKCS#8 PEM (BEGIN PRIVATE KEY).")
  Path tlsKey;

  JointspaceClient connect() {
    JointspaceClient.Builder b = JointspaceClient.builder(address).deadline(duration(timeout)).apiKey(apiKey);
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new IllegalArgumentException(tlsCert == null ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key");
    }
    if (tlsCa != null) {
      b.tls(tlsCa);
    }
    if (tlsCert != null) {
      b.clientCertificate(tlsCert, tlsKey);
    }
    return b.build();
  }

  Output out(CommandLine.Model.CommandSpec spec) {
    return new Output(output, spec.commandLine().getOut());
  }

  static Duration duration(String s) {
    String t = s.trim().toLowerCase(java.util.Locale.ROOT);
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      } else if (t.endsWith("s")) {
        return Duration.ofMillis((long) (Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
      } else if (t.endsWith("m")) {
        return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 60);
      } else if (t.endsWith("h")) {
        return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 3600);
      }
      return Duration.ofSeconds(Long.parseLong(t));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + s + "' is not a duration (e.g. 30s, 500ms, 2m, 1h)");
    }
  }

  /** Runs a command line; the exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cl = new CommandLine(new Cli());
    cl.setOut(out);
    cl.setErr(err);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler((e, line, parsed) -> {
      if (e instanceof JointspaceException j) {
        line.getErr().println(j.getMessage());
        return 1;
      }
      if (e instanceof IllegalArgumentException || e instanceof java.io.UncheckedIOException) {
        line.getErr().println(e.getMessage());
        return 2;
      }
      throw e;
    });
    return cl.execute(args);
  }

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    System.exit(run(out, err, args));
  }

  /** The version of the client jar. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Cli.class.getPackage().getImplementationVersion();
      return new String[] {"jointspace client " + (v == null ? "(development build)" : v)};
    }
  }
}
