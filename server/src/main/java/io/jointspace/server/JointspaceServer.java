package io.jointspace.server;

import com.google.inject.Guice;
import com.google.inject.Injector;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.jointspace.registry.FileSystemVersionSource;
import io.jointspace.registry.ModelManager;
import io.jointspace.server.api.AuthInterceptor;
import io.jointspace.server.api.Caller;
import io.jointspace.server.api.CollectionServiceImpl;
import io.jointspace.server.api.KeyServiceImpl;
import io.jointspace.server.auth.KeyVerifier;
import io.jointspace.server.api.EmbeddingServiceImpl;
import io.jointspace.server.api.InferenceServiceImpl;
import io.jointspace.server.api.LiveCalls;
import io.jointspace.server.api.MetricsInterceptor;
import io.jointspace.server.api.ModelHealth;
import io.jointspace.server.api.ModelServiceImpl;
import io.jointspace.server.api.ParseGuard;
import io.jointspace.server.api.PredictionServiceImpl;
import io.jointspace.server.api.TfServingModelServiceImpl;
import io.jointspace.server.api.PeerAddress;
import io.jointspace.server.api.ProbeServices;
import io.jointspace.server.labels.ModelLabels;
import io.jointspace.server.rollout.Backfiller;
import io.jointspace.server.rollout.LabelFollower;
import io.jointspace.server.api.RolloutServiceImpl;
import io.jointspace.server.http.HttpPort;
import io.jointspace.server.metrics.MetricsServer;
import io.jointspace.server.uploads.VersionUploads;
import io.jointspace.server.metrics.ModelMetrics;
import io.jointspace.server.runtime.Devices;
import io.jointspace.server.runtime.ModelVersion;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.Storage;
import io.jointspace.server.store.StoreUnavailableException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running server: the model registry fed by the repository poller, and the gRPC
 * services on one port (TLS or mTLS when configured), the same services as HTTP/JSON on the
 * HTTP port (through an in-process server with the same interceptors), with the health
 * services also on a plaintext health port when one is set.
 * {@link #start()} loads the versions found at start before it opens the port, so the first
 * call finds them AVAILABLE; {@link #stop()} stops accepting calls, lets the ones in flight
 * finish within the grace period, then unloads every model.
 */
public final class JointspaceServer {
  private static final Logger log = LoggerFactory.getLogger(JointspaceServer.class);
  private static final Duration INITIAL_LOAD_TIMEOUT = Duration.ofMinutes(10);

  private final Settings settings;
  private final Injector injector;
  private final ModelManager<ModelVersion> registry;
  private final FileSystemVersionSource source;
  private final ModelHealth health;
  private Server server;
  private Server healthServer;
  /** Runs the calls' handlers: fixed, where grpc-java's default pool makes a thread per waiting task. */
  private ExecutorService grpcExecutor;
  private java.util.List<io.grpc.ServerServiceDefinition> services = java.util.List.of();
  private ServerTls tls;
  private MetricsServer metrics;
  @javax.annotation.Nullable private HttpPort http;
  @javax.annotation.Nullable private Server inProcessServer;
  @javax.annotation.Nullable private io.grpc.ManagedChannel inProcessChannel;
  @javax.annotation.Nullable private AuthInterceptor auth;

  public JointspaceServer(Settings settings) {
    this.settings = settings;
    this.injector = Guice.createInjector(new ServerModule(settings));
    this.registry = injector.getInstance(com.google.inject.Key.get(
        new com.google.inject.TypeLiteral<ModelManager<ModelVersion>>() {}));
    this.source = injector.getInstance(FileSystemVersionSource.class);
    this.health = injector.getInstance(ModelHealth.class);
  }

  /**
   * Loads the models, then opens the ports.
   *
   * @throws Settings.ConfigException when the TLS files are missing, unreadable or do not
   *     fit together (checked before any model loads)
   * @throws IOException when a port is taken
   * @throws Settings.ConfigException when API keys are required and there is no database to keep them
   */
  public JointspaceServer start() throws IOException, InterruptedException {
    Preflight.checkAuthHasDatabase(settings);
    if (settings.tls() != null) {
      tls = ServerTls.start(settings.tls());
    }
    log.info(Devices.describe());
    log.info("Model repository {} (polling every {} ms)", settings.repository(), settings.pollIntervalMillis());
    source.start(registry);
    try {
      registry.awaitSettled(INITIAL_LOAD_TIMEOUT);
    } catch (TimeoutException e) {
      log.warn("Some model versions are still loading after {}; serving the others", INITIAL_LOAD_TIMEOUT);
    }
    registry.allVersions().forEach(v -> log.info("{} {}{}", v.id(), v.state(),
        v.lastError().isEmpty() ? "" : ": " + v.lastError()));
    Storage storage = injector.getInstance(Storage.class);
    if (storage.configured()) {
      try {
        storage.check();
        log.info("Collections stored in {}", settings.database().display());
      } catch (StoreUnavailableException e) {
        // collection calls answer UNAVAILABLE until the database is back; the rest serves now
        log.warn("The database is unavailable; collection calls will fail until it is back: {}", e.getMessage());
      }
      if (!settings.readReplicas().isEmpty()) {
        log.info("Collection reads go to {} read replica(s) when healthy: {}", settings.readReplicas().size(),
            settings.readReplicas().stream().map(DatabaseUrl::display).toList());
        storage.startReadReplicas(); // checks each once: a replica that is down is skipped with a warning
      }
    } else {
      log.info("No database configured: CollectionService answers UNAVAILABLE; label changes live in memory");
    }
    injector.getInstance(ModelLabels.class).start();
    injector.getInstance(VersionUploads.class).start();
    injector.getInstance(Backfiller.class).start();
    if (storage.configured()) {
      storage.indexBuilds().start(); // rebuilds what a server that died left unindexed
    }
    injector.getInstance(LabelFollower.class).start();
    PrometheusMeterRegistry meters = injector.getInstance(PrometheusMeterRegistry.class);
    injector.getInstance(JvmGcMetrics.class);
    ModelMetrics modelMetrics = injector.getInstance(ModelMetrics.class);
    LiveCalls live = injector.getInstance(LiveCalls.class); // what a rollout's backfill yields to
    KeyVerifier keys = injector.getInstance(KeyVerifier.class);
    InetSocketAddress address = new InetSocketAddress(settings.grpcAddress(), settings.grpcPort());
    NettyServerBuilder builder = (tls == null ? NettyServerBuilder.forAddress(address)
            : NettyServerBuilder.forAddress(address, tls.credentials()))
        .maxInboundMessageSize(settings.maxInboundMessageBytes())
        .maxConcurrentCallsPerConnection(settings.maxCallsPerConnection())
        .executor(grpcExecutor = grpcExecutor(settings.grpcThreads()));
    if (settings.authRequired() != (keys != null)) {
      // Preflight refuses keys without a database; anything else reaching here is a bug, never a silent open door
      throw new IllegalStateException("API keys are " + (settings.authRequired() ? "" : "not ")
          + "required but the key check would " + (keys != null ? "" : "not ") + "be installed");
    }
    if (keys != null) {
      keys.start();
      warnWithoutKeys(keys);
      auth = new AuthInterceptor(keys, meters, java.time.Clock.systemUTC());
    }
    // inside the metrics (refusals count as calls too) and inside ParseGuard: scope checks read the parsed request
    io.grpc.ServerInterceptor caller = auth != null ? auth
        : Caller.unchecked(); // without it, lists show nothing: Caller fails closed
    // one for both ports: a method's calls in flight are one gauge, whichever port they came in on
    MetricsInterceptor calls = new MetricsInterceptor(meters);
    builder.intercept(calls);
    // a request protobuf will not parse is INVALID_ARGUMENT, not UNKNOWN
    services = java.util.List.of(
            ServerInterceptors.intercept(injector.getInstance(EmbeddingServiceImpl.class), live),
            ServerInterceptors.intercept(injector.getInstance(ModelServiceImpl.class),
                PeerAddress.interceptor()), // who changed a label or uploaded a version
            ServerInterceptors.intercept(injector.getInstance(InferenceServiceImpl.class), live),
            // TF Serving's gRPC API: inference counts as a live call, status reads do not
            ServerInterceptors.intercept(injector.getInstance(PredictionServiceImpl.class), live),
            injector.getInstance(TfServingModelServiceImpl.class).bindService(),
            ServerInterceptors.intercept(injector.getInstance(CollectionServiceImpl.class), live),
            ServerInterceptors.intercept(injector.getInstance(RolloutServiceImpl.class),
                PeerAddress.interceptor()), // who started a rollout
            injector.getInstance(KeyServiceImpl.class).bindService(),
            health.manager().getHealthService().bindService(),
            ProtoReflectionServiceV1.newInstance().bindService());
    // the HTTP port's calls come in here: the same services behind the same interceptors
    String inProcessName = "jointspace-http-" + java.util.UUID.randomUUID();
    io.grpc.inprocess.InProcessServerBuilder inProcess = io.grpc.inprocess.InProcessServerBuilder.forName(inProcessName)
        .maxInboundMessageSize(settings.maxInboundMessageBytes())
        .executor(grpcExecutor)
        .intercept(calls);
    for (io.grpc.ServerServiceDefinition service : services) {
      builder.addService(ParseGuard.guard(ServerInterceptors.intercept(service, caller)));
      inProcess.addService(ParseGuard.guard(ServerInterceptors.intercept(service, caller)));
    }
    Server grpc = builder
        .build();
    try {
      server = grpc.start();
    } catch (IOException e) {
      if (e.getCause() instanceof java.net.BindException) {
        throw Preflight.portInUse(settings.grpcPort(), e);
      }
      throw e;
    }
    if (settings.httpPort() >= 0) {
      startHttp(inProcess.build().start(), inProcessName, meters, modelMetrics);
    }
    if (settings.healthPort() != 0) {
      NettyServerBuilder probes = NettyServerBuilder.forAddress(new InetSocketAddress(settings.healthPort()));
      ProbeServices.of(health, injector.getInstance(InferenceServiceImpl.class)).forEach(probes::addService);
      try {
        healthServer = probes.build().start();
      } catch (IOException e) {
        if (e.getCause() instanceof java.net.BindException) {
          throw Preflight.healthPortInUse(settings.healthPort(), e);
        }
        throw e;
      }
      log.info("Health and readiness (grpc.health.v1, KServe ServerLive/ServerReady) in plaintext on port {}",
          healthServer.getPort());
    }
    if (settings.metricsPort() >= 0) {
      log.warn("--metrics-port (metrics_port) is deprecated and goes away in the next release: /metrics is served on"
          + " the HTTP port (--http-port)");
      try {
        metrics = MetricsServer.start(settings.metricsAddress(), settings.metricsPort(), meters, modelMetrics::refresh);
        log.info("Prometheus metrics on http://{}:{}/metrics{}", settings.metricsAddress(), metrics.port(),
            metrics.address().getAddress().isLoopbackAddress() ? " (loopback only; --metrics-address opens it wider)"
                : "");
      } catch (java.net.BindException e) {
        // gRPC is the service; a busy metrics port (another server on this host) must not stop it
        log.warn("Metrics port {} on {} is in use or the address is not this host's; serving without /metrics"
            + " (set --metrics-port, --metrics-address)", settings.metricsPort(), settings.metricsAddress());
      }
    }
    health.setReady(true);
    log.info("Jointspace serving gRPC on {}:{} ({}{})", settings.grpcAddress(), server.getPort(),
        tls == null ? "plaintext" : settings.tls().clientCa() == null ? "TLS" : "TLS, client certificates required",
        keys != null ? ", API keys required" : settings.authRequired() ? "" : ", without API keys");
    return this;
  }

  /**
   * Opens the HTTP port over {@code calls}, the in-process server of the same services; with
   * the gRPC port's TLS, and {@code /metrics} needing a key with models:read on every model
   * when keys are required (the port may face more than this host).
   */
  private void startHttp(Server calls, String inProcessName, PrometheusMeterRegistry meters, ModelMetrics modelMetrics)
      throws IOException {
    inProcessServer = calls;
    inProcessChannel = io.grpc.inprocess.InProcessChannelBuilder.forName(inProcessName)
        .maxInboundMessageSize(Integer.MAX_VALUE)
        .build();
    AuthInterceptor keys = auth;
    HttpPort.MetricsAccess access = keys == null ? HttpPort.MetricsAccess.OPEN
        : authorization -> keys.check(authorization, io.jointspace.server.auth.Scope.MODELS_READ);
    try {
      http = HttpPort.start(new HttpPort.Options(settings.grpcAddress(), settings.httpPort(),
              settings.maxInboundMessageBytes(), HttpPort.Options.DEFAULT_DEADLINE, settings.grpcThreads()),
          inProcessChannel, services, () -> {
            modelMetrics.refresh();
            return meters.scrape();
          }, access, tls == null ? null : tls.sslContext(), tls != null && tls.requiresClientCertificates());
    } catch (IOException e) {
      for (Throwable c = e; c != null; c = c.getCause()) {
        if (c instanceof java.net.BindException) {
          throw Preflight.httpPortInUse(settings.httpPort(), e);
        }
      }
      throw e;
    }
    log.info("HTTP/JSON on {}://{}:{} (KServe v2 REST /v2, TF Serving REST /v1/models, JSON /v1/jointspace/SERVICE/METHOD, /metrics{})",
        tls == null ? "http" : "https", settings.grpcAddress(), http.port(),
        keys == null ? "" : " with a models:read key");
  }

  private static ExecutorService grpcExecutor(int threads) {
    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
    return java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "grpc-call-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** A server that needs keys while none can be used yet serves nobody: say how to make the first. */
  private static void warnWithoutKeys(KeyVerifier keys) {
    if (!keys.hasUsableKey()) {
      log.warn("API keys are required and there is no valid key yet: make the first admin key with"
          + " ./jointspace keys bootstrap --database-url URL (or --data-dir DIR)");
    }
  }


  /**
   * The gRPC services this server registered, with their request and response types (for
   * checks that every method has an API-key scope); the port serves them through ParseGuard.
   */
  public java.util.List<io.grpc.ServerServiceDefinition> services() {
    return services;
  }

  /** The bound port (useful when configured as 0). */
  public int port() {
    return server.getPort();
  }

  /** The bound HTTP port, or -1 when it is off. */
  public int httpPort() {
    return http == null ? -1 : http.port();
  }

  /** The bound metrics port, or -1 when the metrics endpoint is disabled. */
  public int metricsPort() {
    return metrics == null ? -1 : metrics.port();
  }

  /** The metrics endpoint's bound address and port, or null when it is disabled. */
  @javax.annotation.Nullable
  public InetSocketAddress metricsAddress() {
    return metrics == null ? null : metrics.address();
  }

  /** The bound health port (useful when configured as 0), or -1 when there is none. */
  public int healthPort() {
    return healthServer == null ? -1 : healthServer.getPort();
  }

  public ModelManager<ModelVersion> registry() {
    return registry;
  }

  /** Rescans the model repository now instead of at the next poll. */
  public void rescan() {
    source.scanNow();
  }

  /** Graceful stop; safe to call more than once. */
  public synchronized void stop() throws InterruptedException {
    if (server == null) {
      if (metrics != null) {
        metrics.close();
        metrics = null;
      }
      stopHttp();
      stopHealthAndTls();
      return;
    }
    long grace = settings.shutdownGraceMillis();
    log.info("Shutting down: finishing calls in flight (up to {} ms)", grace);
    health.enterTerminalState();
    server.shutdown();
    stopHttp(); // its requests in flight finish (a few seconds) while the gRPC port's drain
    if (!server.awaitTermination(grace, TimeUnit.MILLISECONDS)) {
      log.warn("Calls still running after {} ms; cancelling them", grace);
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
    server = null;
    grpcExecutor.shutdown();
    grpcExecutor = null;
    stopHealthAndTls(); // probes saw NOT_SERVING while calls drained
    if (metrics != null) {
      metrics.close();
      metrics = null;
    }
    injector.getInstance(JvmGcMetrics.class).close();
    source.close();
    injector.getInstance(RolloutServiceImpl.class).close();
    injector.getInstance(LabelFollower.class).close();
    injector.getInstance(Backfiller.class).close();
    injector.getInstance(ModelLabels.class).close();
    injector.getInstance(VersionUploads.class).close();
    KeyVerifier keys = injector.getInstance(KeyVerifier.class);
    if (keys != null) {
      keys.close();
    }
    if (auth != null) {
      auth.close();
      auth = null;
    }
    registry.close(Duration.ofMillis(Math.max(grace, 1000)));
    injector.getInstance(io.jointspace.server.batching.BatchScheduler.class).close();
    ExecutorService loads = injector.getInstance(com.google.inject.Key.get(ExecutorService.class, LoadExecutor.class));
    loads.shutdown();
    loads.awaitTermination(10, TimeUnit.SECONDS);
    injector.getInstance(io.jointspace.server.runtime.PreprocessPool.class).close();
    injector.getInstance(Storage.class).close();
    log.info("Stopped");
  }

  private void stopHttp() throws InterruptedException {
    if (http != null) {
      http.close();
      http = null;
    }
    if (inProcessChannel != null) {
      inProcessChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      inProcessChannel = null;
    }
    if (inProcessServer != null) {
      inProcessServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      inProcessServer = null;
    }
  }

  private void stopHealthAndTls() throws InterruptedException {
    if (healthServer != null) {
      healthServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      healthServer = null;
    }
    if (tls != null) {
      tls.close();
      tls = null;
    }
  }
}
