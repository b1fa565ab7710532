package io.jointspace.server;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.PrivateCluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code jointspace} command line. */
@Command(
    name = "jointspace",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "gRPC inference server for multimodal embeddings on TensorFlow SavedModels.",
    subcommands = {Main.Serve.class, Keys.class, NativeRuntime.class})
public final class Main implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    io.jointspace.server.runtime.NativeMemory.configure();
    int code = new CommandLine(new Main()).execute(args);
    System.exit(code);
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"jointspace " + io.jointspace.server.api.ServerInfo.version()};
    }
  }

  @Command(
      name = "serve",
      mixinStandardHelpOptions = true,
      versionProvider = Main.Version.class,
      description = {
        "Serves every SavedModel in a model repository (<repo>/<model>/<version>/saved_model.pb)"
            + " over gRPC, loading and unloading versions as they appear and disappear.",
        "Flags override JOINTSPACE_* environment variables, which override the --config file."
      })
  static final class Serve implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--models", paramLabel = "DIR",
        description = "Model repository. Default: " + Settings.DEFAULT_REPOSITORY + "/ (env JOINTSPACE_MODELS).")
    Path models;

    @Option(names = "--grpc-port", paramLabel = "N",
        description = "gRPC port. Default: " + Settings.DEFAULT_GRPC_PORT + " (env JOINTSPACE_GRPC_PORT).")
    Integer grpcPort;

    @Option(names = "--grpc-address", paramLabel = "HOST",
        description = "Address the gRPC port listens on; 0.0.0.0 or :: for every interface. Default: "
            + Settings.DEFAULT_GRPC_ADDRESS + ", this machine only (env JOINTSPACE_GRPC_ADDRESS)."
            + " Any other address turns API keys on (see --auth).")
    String grpcAddress;

    @Option(names = "--auth", paramLabel = "on|off|auto",
        description = "Whether calls need an API key (authorization: Bearer <key>; ./jointspace keys). auto: when"
            + " --grpc-address is not loopback. Default: auto (env JOINTSPACE_AUTH).")
    String auth;

    @Option(names = "--insecure-no-auth",
        description = "Serve without API keys even on a non-loopback address (same as --auth off): only behind"
            + " something else that authenticates callers.")
    boolean insecureNoAuth;

    @Option(names = "--http-port", paramLabel = "N",
        description = "HTTP/JSON port on --grpc-address, with the gRPC port's TLS and API keys: KServe v2 REST (/v2),"
            + " the API as JSON (/v1/jointspace/SERVICE/METHOD) and /metrics. Default: " + Settings.DEFAULT_HTTP_PORT
            + "; negative: disabled (env JOINTSPACE_HTTP_PORT).")
    Integer httpPort;

    @Option(names = "--metrics-port", paramLabel = "N",
        description = "Deprecated (/metrics is on --http-port): a separate HTTP port for /metrics only, on"
            + " --metrics-address. Default: " + Settings.DEFAULT_METRICS_PORT + ", none (env JOINTSPACE_METRICS_PORT).")
    Integer metricsPort;

    @Option(names = "--metrics-address", paramLabel = "HOST",
        description = "Address the deprecated --metrics-port binds. Default: " + Settings.DEFAULT_METRICS_ADDRESS
            + " (loopback only); 0.0.0.0 for every interface (env JOINTSPACE_METRICS_ADDRESS).")
    String metricsAddress;

    @Option(names = "--tls-cert", paramLabel = "FILE",
        description = "PEM certificate chain for TLS on the gRPC port (TLS 1.2 and 1.3; plaintext without it)."
            + " Needs --tls-key. Read again when the files change, checked every minute (env JOINTSPACE_TLS_CERT).")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
        description = "PEM private key of --tls-cert, unencrypted PKCS#8 (BEGIN PRIVATE KEY) (env JOINTSPACE_TLS_KEY).")
    Path tlsKey;

    @Option(names = "--tls-client-ca", paramLabel = "FILE",
        description = "PEM CA certificates: clients must present a certificate issued by one of them (mTLS)."
            + " Default: no client certificates (env JOINTSPACE_TLS_CLIENT_CA).")
    Path tlsClientCa;

    @Option(names = "--health-port", paramLabel = "N",
        description = "A plaintext port serving only the gRPC health service and KServe ServerLive/ServerReady,"
            + " for probes when the gRPC port requires TLS. Default: none (env JOINTSPACE_HEALTH_PORT).")
    Integer healthPort;

    @Option(names = "--config", paramLabel = "FILE",
        description = "Server configuration, a text-format jointspace.config.v1.ServerConfig (env JOINTSPACE_CONFIG).")
    Path config;

    @Option(names = "--max-message-bytes", paramLabel = "N",
        description = "Largest inbound message. Default: " + Settings.DEFAULT_MAX_MESSAGE_BYTES
            + " (env JOINTSPACE_MAX_MESSAGE_BYTES).")
    Long maxMessageBytes;

    @Option(names = "--poll-interval-ms", paramLabel = "MS",
        description = "How often the repository is scanned. Default: " + Settings.DEFAULT_POLL_INTERVAL_MS
            + "; negative: only at start (env JOINTSPACE_POLL_INTERVAL_MS).")
    Long pollIntervalMs;

    @Option(names = "--shutdown-grace-ms", paramLabel = "MS",
        description = "On SIGTERM, how long calls in flight may take to finish. Default: " + Settings.DEFAULT_SHUTDOWN_GRACE_MS + ".")
    Long shutdownGraceMs;

    @Option(names = "--batching", paramLabel = "on|off",
        description = "Batch encoder requests across calls. Default: on (env JOINTSPACE_BATCHING).")
    OnOff batching;

    @Option(names = "--database-url", paramLabel = "URL",
        description = "PostgreSQL with pgvector for collections: postgresql://user:password@host:port/db or a JDBC URL."
            + " Default: a private cluster in --data-dir, started and stopped with the server (env JOINTSPACE_DATABASE_URL).")
    String databaseUrl;

    @Option(names = "--database-read-url", paramLabel = "URL",
        description = "A streaming replica of the database (hot standby), in the forms of --database-url; repeat for"
            + " several. Search, Get, GetCollection and ListCollections go to the healthy ones, round-robin; writes stay"
            + " on the primary (env JOINTSPACE_DATABASE_READ_URLS, space-separated). See docs/scaling.md.")
    java.util.List<String> databaseReadUrls;

    @Option(names = "--data-dir", paramLabel = "DIR",
        description = "Folder of the private PostgreSQL cluster used without --database-url. Default: " + Settings.DEFAULT_DATA_DIR
            + " (env JOINTSPACE_DATA_DIR).")
    Path dataDir;

    /** Values of {@code --batching}. */
    enum OnOff { on, off }

    @Override
    public Integer call() throws Exception {
      Settings settings;
      try {
        if (insecureNoAuth && auth != null && !auth.equalsIgnoreCase("off")) {
          throw new Settings.ConfigException("--insecure-no-auth and --auth " + auth + " contradict each other");
        }
        io.jointspace.config.v1.AuthMode authMode = insecureNoAuth ? io.jointspace.config.v1.AuthMode.AUTH_OFF
            : auth == null ? null : ConfigLoader.parseAuth(auth, "--auth");
        settings = ConfigLoader.load(config, System.getenv(),
            new ConfigLoader.Overrides(models, grpcPort, maxMessageBytes, pollIntervalMs, shutdownGraceMs,
                batching == null ? null : batching == OnOff.on, metricsPort, databaseUrl, dataDir, grpcAddress,
                authMode, tlsCert, tlsKey, tlsClientCa, healthPort, metricsAddress, httpPort, databaseReadUrls));
      } catch (Settings.ConfigException e) {
        spec.commandLine().getErr().println("jointspace: " + e.getMessage());
        return 2;
      }
      // what can fail fast does, before the database and the models take their time
      try {
        Preflight.checkRepository(settings.repository());
        if (settings.tls() != null) {
          settings.tls().check();
        }
      } catch (Settings.ConfigException e) {
        spec.commandLine().getErr().println("jointspace: " + e.getMessage());
        return 2;
      }
      try {
        Preflight.checkPortFree(settings.grpcAddress(), settings.grpcPort());
        Preflight.checkHttpPortFree(settings.grpcAddress(), settings.httpPort());
        if (settings.healthPort() != 0) {
          Preflight.checkHealthPortFree(settings.healthPort());
        }
      } catch (java.io.IOException e) {
        spec.commandLine().getErr().println("jointspace: " + e.getMessage());
        return 1;
      }
      CountDownLatch stop = new CountDownLatch(1);
      for (String signal : new String[] {"TERM", "INT"}) {
        sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> stop.countDown());
      }
      PrivateCluster cluster = null;
      if (settings.database() == null) {
        Path home = Path.of(System.getProperty("jointspace.home", ".")).toAbsolutePath().normalize();
        try {
          cluster = PrivateCluster.start(home, settings.dataDir());
        } catch (java.io.IOException e) {
          log.error("Cannot start the private database: {}", e.getMessage());
          return 1;
        }
        settings = settings.withDatabase(cluster.databaseUrl());
      }
      try {
        JointspaceServer server = new JointspaceServer(settings);
        try {
          server.start();
        } catch (Settings.ConfigException e) {
          // keys required without a database, or the TLS files changed since the check above
          spec.commandLine().getErr().println("jointspace: " + e.getMessage());
          server.stop();
          return 2;
        } catch (java.io.IOException e) {
          log.error("Cannot start: {}", e.getMessage());
          server.stop();
          return 1;
        }
        stop.await();
        server.stop();
        return 0;
      } finally {
        if (cluster != null) {
          cluster.close();
        }
      }
    }
  }
}
