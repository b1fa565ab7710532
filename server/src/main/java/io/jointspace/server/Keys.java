package io.jointspace.server;

import io.jointspace.server.auth.ApiKeys;
import io.jointspace.server.store.Database;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.KeyStore;
import io.jointspace.server.store.PrivateCluster;
import io.jointspace.server.store.StoreUnavailableException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jointspace keys bootstrap}: the first admin key, written straight into the database
 * (the other key commands go through a running server's KeyService: the client's
 * {@code jointspace keys create|list|revoke}).
 */
@Command(name = "keys", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "API keys kept in the server's database.",
    subcommands = {Keys.Bootstrap.class})
final class Keys implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "bootstrap", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
      description = {
        "Makes an admin API key directly in the database, without a server or a key, and prints it once.",
        "Use it for the first key; make the others with ./jointspace keys create --api-key <admin key>."
      })
  static final class Bootstrap implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--database-url", paramLabel = "URL",
        description = "The server's database: postgresql://user:password@host:port/db or a JDBC URL."
            + " Default: the private cluster in --data-dir, as ./jointspace serve runs it (env JOINTSPACE_DATABASE_URL).")
    String databaseUrl;

    @Option(names = "--data-dir", paramLabel = "DIR",
        description = "Folder of the private PostgreSQL cluster used without --database-url. Default: "
            + Settings.DEFAULT_DATA_DIR + " (env JOINTSPACE_DATA_DIR).")
    Path dataDir;

    @Option(names = "--name", paramLabel = "TEXT", defaultValue = "bootstrap admin",
        description = "What or who uses the key. Default: ${DEFAULT-VALUE}.")
    String name;

    @Option(names = "--scope", paramLabel = "SCOPE", defaultValue = "admin",
        description = "Scopes of the key (repeat the flag for several). Default: ${DEFAULT-VALUE}.")
    List<String> scopes;

    @Override
    public Integer call() throws Exception {
      String url = databaseUrl != null ? databaseUrl : System.getenv("JOINTSPACE_DATABASE_URL");
      Path dir = dataDir != null ? dataDir
          : Path.of(System.getenv().getOrDefault("JOINTSPACE_DATA_DIR", Settings.DEFAULT_DATA_DIR));
      PrivateCluster cluster = null;
      try {
        if (url == null || url.isBlank()) {
          Path home = Path.of(System.getProperty("jointspace.home", ".")).toAbsolutePath().normalize();
          try {
            cluster = PrivateCluster.start(home, dir.toAbsolutePath().normalize());
          } catch (java.io.IOException e) {
            spec.commandLine().getErr().println("jointspace: cannot start the private database: " + e.getMessage());
            return 1;
          }
        }
        DatabaseUrl parsed;
        try {
          parsed = cluster != null ? cluster.databaseUrl() : DatabaseUrl.parse(url);
        } catch (IllegalArgumentException e) {
          spec.commandLine().getErr().println("jointspace: --database-url: " + e.getMessage());
          return 2;
        }
        try (Database db = new Database(parsed, 2, Duration.ofSeconds(5))) {
          ApiKeys.Created key = new ApiKeys(new KeyStore(db)).create(name, scopes, "bootstrap", null);
          spec.commandLine().getErr().println("API key " + key.stored().id() + " (" + String.join(" ", key.stored().scopes())
              + ") stored in " + parsed.display() + ". It is shown only now:");
          spec.commandLine().getOut().println(key.key());
          spec.commandLine().getOut().flush();
          return 0;
        } catch (IllegalArgumentException e) {
          spec.commandLine().getErr().println("jointspace: " + e.getMessage());
          return 2;
        } catch (StoreUnavailableException e) {
          spec.commandLine().getErr().println("jointspace: " + e.getMessage());
          return 1;
        }
      } finally {
        if (cluster != null) {
          cluster.close();
        }
      }
    }
  }
}
