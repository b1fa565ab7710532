package io.jointspace.server;

import io.jointspace.config.v1.BatchingConfig;
import io.jointspace.config.v1.ModelConfig;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.config.v1.SessionConfig;
import io.jointspace.config.v1.StorageConfig;
import io.jointspace.registry.FileSystemVersionSource.ModelSource;
import io.jointspace.registry.VersionPolicy;
import io.jointspace.server.batching.BatchingOptions;
import io.jointspace.server.rollout.Backfiller;
import io.jointspace.server.runtime.ImageLimits;
import io.jointspace.server.runtime.LoadOptions;
import io.jointspace.server.runtime.WarmupOptions;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.IndexBuildOptions;
import io.jointspace.server.store.ReadReplicaOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import javax.annotation.Nullable;

/**
 * The server configuration with every default applied and every field validated. Built
 * once at start by {@link ConfigLoader}; a bad value fails start-up with a message naming
 * the field.
 *
 * @param batchThreads threads of the shared batch scheduler
 * @param metricsPort the deprecated separate HTTP port of the Prometheus {@code /metrics} endpoint;
 *     negative when disabled (the default: {@code /metrics} is on {@code httpPort})
 * @param database where collections are stored; null to run a private cluster in {@code dataDir}
 *     (by {@link Main}) or, in an embedded server, to serve without collections
 * @param batchingConfig the server-wide batching as configured, before defaults; a model's
 *     options with them applied: {@link #batchingFor(String)}
 * @param maxStatementTimeout longest a database statement of a call may run; a call's
 *     transactions get the time left before its deadline, at most this
 * @param detailedHistograms batch timing histograms with every bucket ({@code detailed_histograms})
 * @param maxUploadBytes largest archive ModelService.UploadVersion takes
 * @param backfill how this server works on rollout backfills; threads 0 when it takes no part
 * @param grpcAddress the host or IP address the gRPC port listens on
 * @param authRequired whether calls need an API key: asked for ({@code auth: AUTH_ON}), or
 *     {@code AUTH_AUTO} and {@code grpcAddress} is not a loopback address
 * @param tls the gRPC port's certificate and key, and the CAs of client certificates; null
 *     for plaintext
 * @param healthPort the plaintext port of the health and readiness services; 0 when there is none
 * @param metricsAddress the address the metrics endpoint binds ({@code metrics_address})
 * @param grpcThreads the fixed pool that runs the gRPC calls' handlers ({@code grpc_threads})
 * @param maxCallsPerConnection calls open at once on one connection
 *     ({@code max_concurrent_calls_per_connection})
 * @param warmup whether and how versions run before they become AVAILABLE ({@code warmup})
 * @param indexBuilds HNSW index builds and bulk loads ({@code storage.index_build_memory_mb},
 *     {@code storage.bulk_load_max_rows})
 * @param httpPort the HTTP/JSON port on {@code grpcAddress} ({@code http_port}); negative when disabled
 * @param readReplicas streaming replicas of {@code database} that serve collection reads
 *     ({@code storage.database_read_urls}); empty for none
 * @param readReplicaOptions how reads use them ({@code storage.replica_wait_ms})
 */
public record Settings(
    int grpcPort,
    int maxInboundMessageBytes,
    Path repository,
    long pollIntervalMillis,
    boolean onlyConfiguredModels,
    Map<String, ModelConfig> models,
    ModelConfig modelDefaults,
    long shutdownGraceMillis,
    int loadThreads,
    ImageLimits imageLimits,
    int preprocessThreads,
    int preprocessQueue,
    int batchThreads,
    int metricsPort,
    @Nullable DatabaseUrl database,
    Path dataDir,
    int maxConnections,
    Duration connectionTimeout,
    Duration maxStatementTimeout,
    BatchingConfig batchingConfig,
    boolean detailedHistograms,
    long maxUploadBytes,
    Backfiller.Options backfill,
    String grpcAddress,
    boolean authRequired,
    @Nullable TlsFiles tls,
    int healthPort,
    String metricsAddress,
    int grpcThreads,
    int maxCallsPerConnection,
    WarmupOptions warmup,
    IndexBuildOptions indexBuilds,
    int httpPort,
    List<DatabaseUrl> readReplicas,
    ReadReplicaOptions readReplicaOptions) {

  public static final String DEFAULT_REPOSITORY = "models";
  /** This machine only: a server reachable from elsewhere is asked for explicitly, and then needs API keys. */
  public static final String DEFAULT_GRPC_ADDRESS = "127.0.0.1";
  public static final int DEFAULT_GRPC_PORT = 8500;
  /** None: {@code /metrics} is served on the HTTP port; the separate metrics port is deprecated. */
  public static final int DEFAULT_METRICS_PORT = -1;
  /** TF Serving's REST port. */
  public static final int DEFAULT_HTTP_PORT = 8501;
  public static final long DEFAULT_MAX_MESSAGE_BYTES = 64L << 20;
  public static final long DEFAULT_POLL_INTERVAL_MS = 2000;
  public static final long DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
  public static final int DEFAULT_LOAD_THREADS = 2;
  public static final String DEFAULT_DATA_DIR = "var/postgres";
  public static final int DEFAULT_MAX_CONNECTIONS = 10;
  public static final long DEFAULT_CONNECTION_TIMEOUT_MS = 5000;
  public static final long DEFAULT_MAX_STATEMENT_TIMEOUT_MS = 300_000;
  /** Longest a read with a consistency token waits for a replica before it reads the primary. */
  public static final long DEFAULT_REPLICA_WAIT_MS = 1000;
  public static final long DEFAULT_MAX_UPLOAD_BYTES = 256L << 20;
  public static final int DEFAULT_GRPC_THREADS = 64;
  public static final int DEFAULT_MAX_CALLS_PER_CONNECTION = 100;
  /** Loopback only: metrics can tell an outsider which models are served and how busy they are. */
  public static final String DEFAULT_METRICS_ADDRESS = "127.0.0.1";
  /** Archives are stored as one PostgreSQL bytea, sent hex-encoded: twice this stays under its 1 GB limit. */
  public static final long MAX_UPLOAD_BYTES = 400L << 20;
  /** The batching defaults are the batching library's: {@link BatchingOptions#DEFAULT}. */
  private static final BatchingOptions BATCHING_DEFAULTS = BatchingOptions.DEFAULT;

  /** Applies defaults to a merged configuration and validates it. */
  static Settings of(ServerConfig c) {
    int port = c.getGrpcPort() == 0 ? DEFAULT_GRPC_PORT : c.getGrpcPort();
    if (port < 0 || port > 65535) {
      throw new ConfigException("grpc_port must be within 0..65535, got " + c.getGrpcPort());
    }
    int metricsPort = c.getMetricsPort() == 0 ? DEFAULT_METRICS_PORT : c.getMetricsPort();
    if (metricsPort > 65535) {
      throw new ConfigException("metrics_port must be within 0..65535 (negative disables it), got " + metricsPort);
    }
    int httpPort = c.getHttpPort() == 0 ? DEFAULT_HTTP_PORT : Math.max(-1, c.getHttpPort());
    if (httpPort > 65535) {
      throw new ConfigException("http_port must be within 0..65535 (negative disables it), got " + httpPort);
    }
    if (httpPort == port) {
      throw new ConfigException("http_port must differ from grpc_port, both are " + port
          + " (--http-port, --grpc-port)");
    }
    if (httpPort > 0 && httpPort == metricsPort) {
      throw new ConfigException("http_port and metrics_port are both " + httpPort + "; /metrics is served on the"
          + " HTTP port: drop --metrics-port (deprecated) or move it");
    }
    long maxBytes = c.getMaxInboundMessageBytes() == 0 ? DEFAULT_MAX_MESSAGE_BYTES : c.getMaxInboundMessageBytes();
    if (maxBytes < 1024 || maxBytes > Integer.MAX_VALUE) {
      throw new ConfigException("max_inbound_message_bytes must be within 1024.." + Integer.MAX_VALUE + ", got " + maxBytes);
    }
    String base = c.getModelRepository().getBasePath().isEmpty() ? DEFAULT_REPOSITORY : c.getModelRepository().getBasePath();
    long poll = c.getModelRepository().getPollIntervalMs() == 0
        ? DEFAULT_POLL_INTERVAL_MS : c.getModelRepository().getPollIntervalMs();
    long grace = c.getShutdownGraceMs() == 0 ? DEFAULT_SHUTDOWN_GRACE_MS : c.getShutdownGraceMs();
    if (grace < 0) {
      throw new ConfigException("shutdown_grace_ms must not be negative, got " + grace);
    }
    int loadThreads = c.getLoadThreads() == 0 ? DEFAULT_LOAD_THREADS : c.getLoadThreads();
    if (loadThreads < 1) {
      throw new ConfigException("load_threads must be at least 1, got " + loadThreads);
    }
    long maxImageBytes = c.getMaxImageBytes() == 0 ? ImageLimits.DEFAULT.maxEncodedBytes() : c.getMaxImageBytes();
    long maxImagePixels = c.getMaxImagePixels() == 0 ? ImageLimits.DEFAULT.maxPixels() : c.getMaxImagePixels();
    if (maxImageBytes < 1 || maxImagePixels < 1) {
      throw new ConfigException("max_image_bytes and max_image_pixels must be positive");
    }
    int preprocessThreads = c.getPreprocessThreads() == 0
        ? Math.max(1, Runtime.getRuntime().availableProcessors()) : c.getPreprocessThreads();
    int preprocessQueue = c.getPreprocessQueue() == 0 ? 4096 : c.getPreprocessQueue();
    if (preprocessThreads < 1 || preprocessQueue < 1) {
      throw new ConfigException("preprocess_threads and preprocess_queue must be positive");
    }
    BatchingConfig b = c.getBatching();
    int batchThreads = b.getBatchThreads() == 0
        ? Math.max(1, Runtime.getRuntime().availableProcessors()) : b.getBatchThreads();
    if (batchThreads < 1) {
      throw new ConfigException("batching.batch_threads must be at least 1, got " + batchThreads);
    }
    batchingOptions(b, BatchingConfig.getDefaultInstance(), "batching", batchThreads); // validates
    Map<String, ModelConfig> models = new LinkedHashMap<>();
    for (int i = 0; i < c.getModelsCount(); i++) {
      ModelConfig m = c.getModels(i);
      String field = "models[" + i + "]";
      if (m.getName().isEmpty()) {
        throw new ConfigException(field + ".name is empty");
      }
      if (models.put(m.getName(), m) != null) {
        throw new ConfigException(field + ".name '" + m.getName() + "' appears twice");
      }
      validate(m, field);
      batchingOptions(b, m.getBatching(), field + ".batching", batchThreads);
    }
    validate(c.getModelDefaults(), "model_defaults");
    batchingOptions(b, c.getModelDefaults().getBatching(), "model_defaults.batching", batchThreads);
    StorageConfig st = c.getStorage();
    DatabaseUrl database = null;
    if (!st.getDatabaseUrl().isBlank()) {
      try {
        database = DatabaseUrl.parse(st.getDatabaseUrl());
      } catch (IllegalArgumentException e) {
        throw new ConfigException("storage.database_url: " + e.getMessage());
      }
    }
    List<DatabaseUrl> readReplicas = new ArrayList<>();
    for (int i = 0; i < st.getDatabaseReadUrlsCount(); i++) {
      try {
        readReplicas.add(DatabaseUrl.parse(st.getDatabaseReadUrls(i)));
      } catch (IllegalArgumentException e) {
        throw new ConfigException("storage.database_read_urls[" + i + "] (--database-read-url): " + e.getMessage());
      }
    }
    long replicaWait = st.hasReplicaWaitMs() ? st.getReplicaWaitMs() : DEFAULT_REPLICA_WAIT_MS;
    if (replicaWait < 0) {
      throw new ConfigException("storage.replica_wait_ms must be 0 or more, got " + replicaWait);
    }
    ReadReplicaOptions replicaOptions = ReadReplicaOptions.DEFAULT.withMaxWait(Duration.ofMillis(replicaWait));
    Path dataDir = Path.of(st.getDataDir().isEmpty() ? DEFAULT_DATA_DIR : st.getDataDir()).toAbsolutePath().normalize();
    int maxConnections = st.getMaxConnections() == 0 ? DEFAULT_MAX_CONNECTIONS : st.getMaxConnections();
    if (maxConnections < 1) {
      throw new ConfigException("storage.max_connections must be at least 1, got " + maxConnections);
    }
    long connectionTimeout = st.getConnectionTimeoutMs() == 0 ? DEFAULT_CONNECTION_TIMEOUT_MS : st.getConnectionTimeoutMs();
    if (connectionTimeout < 250) {
      throw new ConfigException("storage.connection_timeout_ms must be at least 250, got " + connectionTimeout);
    }
    long maxStatementTimeout = st.getMaxStatementTimeoutMs() == 0 ? DEFAULT_MAX_STATEMENT_TIMEOUT_MS
        : st.getMaxStatementTimeoutMs();
    if (maxStatementTimeout < 100) {
      throw new ConfigException("storage.max_statement_timeout_ms must be at least 100, got " + maxStatementTimeout);
    }
    int indexMemory = st.getIndexBuildMemoryMb() == 0 ? IndexBuildOptions.DEFAULT_MEMORY_MB : st.getIndexBuildMemoryMb();
    if (indexMemory < 1) {
      throw new ConfigException("storage.index_build_memory_mb must be at least 1, got " + indexMemory);
    }
    long bulkRows = st.getBulkLoadMaxRows() == 0 ? IndexBuildOptions.DEFAULT_BULK_LOAD_MAX_ROWS
        : st.getBulkLoadMaxRows() == -1 ? 0 : st.getBulkLoadMaxRows();
    if (bulkRows < 0) {
      throw new ConfigException("storage.bulk_load_max_rows must be -1 (never) or positive, got "
          + st.getBulkLoadMaxRows());
    }
    IndexBuildOptions indexBuilds = new IndexBuildOptions(indexMemory, bulkRows);
    long maxUploadBytes = c.getMaxUploadBytes() == 0 ? DEFAULT_MAX_UPLOAD_BYTES : c.getMaxUploadBytes();
    if (maxUploadBytes < 1 || maxUploadBytes > MAX_UPLOAD_BYTES) {
      throw new ConfigException("max_upload_bytes must be within 1.." + MAX_UPLOAD_BYTES + " (PostgreSQL keeps an"
          + " archive as one value), got " + maxUploadBytes);
    }
    String address = c.getGrpcAddress().isBlank() ? DEFAULT_GRPC_ADDRESS : c.getGrpcAddress().strip();
    if (address.startsWith("[") && address.endsWith("]")) {
      address = address.substring(1, address.length() - 1); // [::1]
    }
    boolean authRequired = switch (c.getAuth()) {
      case AUTH_ON -> true;
      case AUTH_OFF -> false;
      default -> !isLoopback(address);
    };
    int healthPort = c.getHealthPort();
    if (healthPort < 0 || healthPort > 65535) {
      throw new ConfigException("health_port must be within 0..65535 (0: none), got " + healthPort);
    }
    if (healthPort != 0 && healthPort == port) {
      throw new ConfigException("health_port must differ from grpc_port, both are " + port);
    }
    if (healthPort != 0 && healthPort == httpPort) {
      throw new ConfigException("health_port must differ from http_port, both are " + healthPort);
    }
    int grpcThreads = c.getGrpcThreads() == 0 ? DEFAULT_GRPC_THREADS : c.getGrpcThreads();
    if (grpcThreads < 1 || grpcThreads > 4096) {
      throw new ConfigException("grpc_threads must be within 1..4096, got " + grpcThreads);
    }
    int maxCallsPerConnection = c.getMaxConcurrentCallsPerConnection() == 0 ? DEFAULT_MAX_CALLS_PER_CONNECTION
        : c.getMaxConcurrentCallsPerConnection();
    if (maxCallsPerConnection < 1) {
      throw new ConfigException("max_concurrent_calls_per_connection must be at least 1, got " + maxCallsPerConnection);
    }
    String metricsAddress = c.getMetricsAddress().isBlank() ? DEFAULT_METRICS_ADDRESS : c.getMetricsAddress().strip();
    try {
      java.net.InetAddress.getByName(metricsAddress);
    } catch (java.net.UnknownHostException e) {
      throw new ConfigException("metrics_address '" + metricsAddress + "' is neither an IP address nor a known host name"
          + " (--metrics-address, JOINTSPACE_METRICS_ADDRESS)");
    }
    return new Settings(port, (int) maxBytes, Path.of(base).toAbsolutePath().normalize(), poll,
        c.getModelRepository().getOnlyConfiguredModels(), Map.copyOf(models), c.getModelDefaults(), grace,
        loadThreads, new ImageLimits(maxImageBytes, maxImagePixels), preprocessThreads, preprocessQueue,
        batchThreads, Math.max(-1, metricsPort), database, dataDir, maxConnections,
        Duration.ofMillis(connectionTimeout), Duration.ofMillis(maxStatementTimeout), b, c.getDetailedHistograms(),
        maxUploadBytes, backfill(c.getRollouts()), address, authRequired, tls(c.getTls()), healthPort, metricsAddress,
        grpcThreads, maxCallsPerConnection, warmup(c.getWarmup()), indexBuilds, httpPort, List.copyOf(readReplicas),
        replicaOptions);
  }

  private static WarmupOptions warmup(io.jointspace.config.v1.WarmupConfig w) {
    int iterations = w.getNumRequestIterations() == 0 ? WarmupOptions.DEFAULT.requestIterations()
        : w.getNumRequestIterations();
    if (iterations < 1 || iterations > WarmupOptions.MAX_REQUEST_ITERATIONS) {
      throw new ConfigException("warmup.num_request_iterations must be within 1.." + WarmupOptions.MAX_REQUEST_ITERATIONS
          + ", got " + iterations);
    }
    return new WarmupOptions(!w.hasEnabled() || w.getEnabled(), iterations);
  }

  /** Whether {@code host} names this machine only (127.0.0.0/8, ::1, or a name that resolves to them). */
  static boolean isLoopback(String host) {
    try {
      java.net.InetAddress[] all = java.net.InetAddress.getAllByName(host);
      return java.util.Arrays.stream(all).allMatch(java.net.InetAddress::isLoopbackAddress);
    } catch (java.net.UnknownHostException e) {
      throw new ConfigException("grpc_address '" + host + "' is not an address of this machine: " + e.getMessage());
    }
  }

  @Nullable
  private static TlsFiles tls(io.jointspace.config.v1.TlsConfig t) {
    boolean cert = !t.getCertFile().isBlank();
    boolean key = !t.getKeyFile().isBlank();
    boolean clientCa = !t.getClientCaFile().isBlank();
    if (cert != key) {
      throw new ConfigException(cert ? "--tls-cert needs --tls-key, the certificate's private key (tls.key_file)"
          : "--tls-key needs --tls-cert, the certificate it belongs to (tls.cert_file)");
    }
    if (clientCa && !cert) {
      throw new ConfigException("--tls-client-ca needs --tls-cert and --tls-key: client certificates are checked"
          + " only on a TLS port (tls.client_ca_file)");
    }
    return cert ? new TlsFiles(absolute(t.getCertFile()), absolute(t.getKeyFile()),
        clientCa ? absolute(t.getClientCaFile()) : null) : null;
  }

  private static Path absolute(String file) {
    return Path.of(file.strip()).toAbsolutePath().normalize();
  }

  private static Backfiller.Options backfill(io.jointspace.config.v1.RolloutConfig r) {
    Backfiller.Options d = Backfiller.Options.DEFAULT;
    int threads = r.getBackfillThreads() == 0 ? d.threads() : r.getBackfillThreads();
    if (threads < -1 || threads > 64) {
      throw new ConfigException("rollouts.backfill_threads must be within -1..64, got " + threads);
    }
    int chunk = r.getChunkSize() == 0 ? d.chunk() : r.getChunkSize();
    if (chunk < 1 || chunk > 1000) {
      throw new ConfigException("rollouts.chunk_size must be within 1..1000, got " + chunk);
    }
    long lease = r.getLeaseMs() == 0 ? d.lease().toMillis() : r.getLeaseMs();
    if (lease < 1000) {
      throw new ConfigException("rollouts.lease_ms must be at least 1000, got " + lease);
    }
    long maxYield = r.hasMaxYieldMs() ? r.getMaxYieldMs() : d.maxYield().toMillis();
    if (maxYield < 0 || maxYield > 600_000) {
      throw new ConfigException("rollouts.max_yield_ms must be within 0..600000, got " + maxYield);
    }
    return new Backfiller.Options(Math.max(0, threads), chunk, Duration.ofMillis(lease), d.poll(), d.maxAttempts(),
        d.retryBackoff(), Duration.ofMillis(maxYield));
  }


  /**
   * The batching options of one model: each field {@code own} sets replaces the server-wide
   * one, then defaults apply. Null when batching is off for it.
   *
   * @param field how messages name {@code own}, e.g. "models[2].batching"
   * @param batchThreads the scheduler's threads: the default of max_concurrent_batches (the
   *     library's default, "as many as the scheduler has threads", stated as a number)
   */
  @Nullable
  private static BatchingOptions batchingOptions(BatchingConfig serverWide, BatchingConfig own, String field,
      int batchThreads) {
    if (own.getBatchThreads() != 0) {
      throw new ConfigException(field + ".batch_threads is server-wide; set it in batching.batch_threads");
    }
    boolean enabled = own.hasEnabled() ? own.getEnabled() : !serverWide.hasEnabled() || serverWide.getEnabled();
    int maxBatchSize = own.getMaxBatchSize() != 0 ? own.getMaxBatchSize()
        : serverWide.getMaxBatchSize() != 0 ? serverWide.getMaxBatchSize() : BATCHING_DEFAULTS.maxBatchSize();
    if (maxBatchSize < 1) {
      throw new ConfigException(field + ".max_batch_size must be at least 1, got " + maxBatchSize);
    }
    long delayMicros = own.getMaxQueueDelayMicros() != 0 ? own.getMaxQueueDelayMicros()
        : serverWide.getMaxQueueDelayMicros() != 0 ? serverWide.getMaxQueueDelayMicros()
        : BATCHING_DEFAULTS.maxQueueDelay().toNanos() / 1000;
    if (delayMicros < 0) {
      throw new ConfigException(field + ".max_queue_delay_micros must not be negative, got " + delayMicros);
    }
    int maxQueuedItems = own.getMaxQueuedItems() != 0 ? own.getMaxQueuedItems()
        : serverWide.getMaxQueuedItems() != 0 ? serverWide.getMaxQueuedItems() : BATCHING_DEFAULTS.maxQueuedItems();
    if (maxQueuedItems < 1) {
      throw new ConfigException(field + ".max_queued_items must be at least 1, got " + maxQueuedItems);
    }
    int ahead = own.getMaxItemsAhead() != 0 ? own.getMaxItemsAhead()
        : serverWide.getMaxItemsAhead() != 0 ? serverWide.getMaxItemsAhead()
        : BATCHING_DEFAULTS.maxItemsAhead();
    if (ahead < 0) {
      throw new ConfigException(field + ".max_items_ahead must not be negative, got " + ahead);
    }
    int concurrent = own.getMaxConcurrentBatches() != 0 ? own.getMaxConcurrentBatches()
        : serverWide.getMaxConcurrentBatches() != 0 ? serverWide.getMaxConcurrentBatches()
        : Math.min(batchThreads, BATCHING_DEFAULTS.maxConcurrentBatches());
    if (concurrent < 1) {
      throw new ConfigException(field + ".max_concurrent_batches must be at least 1, got " + concurrent);
    }
    List<Integer> preferred = own.getPreferredBatchSizesCount() > 0 ? own.getPreferredBatchSizesList()
        : serverWide.getPreferredBatchSizesList();
    for (int size : preferred) {
      if (size < 1 || size > maxBatchSize) {
        throw new ConfigException(field + ".preferred_batch_sizes must lie in 1..max_batch_size (" + maxBatchSize
            + "), got " + size);
      }
    }
    List<Integer> buckets = own.getLengthBucketsCount() > 0 ? own.getLengthBucketsList()
        : serverWide.getLengthBucketsList();
    for (int bound : buckets) {
      if (bound < 1) {
        throw new ConfigException(field + ".length_buckets must be positive, got " + bound);
      }
    }
    return enabled
        ? BATCHING_DEFAULTS.withMaxBatchSize(maxBatchSize)
            .withPreferredBatchSizes(preferred.toArray(Integer[]::new))
            .withLengthBuckets(buckets.toArray(Integer[]::new))
            .withWaitOnlyForAdmitted(own.hasWaitOnlyForAdmitted() ? own.getWaitOnlyForAdmitted()
                : serverWide.hasWaitOnlyForAdmitted() ? serverWide.getWaitOnlyForAdmitted()
                : BATCHING_DEFAULTS.waitOnlyForAdmitted())
            .withMaxQueueDelay(Duration.ofNanos(Math.multiplyExact(delayMicros, 1000L)))
            .withMaxQueuedItems(maxQueuedItems)
            .withMaxConcurrentBatches(concurrent)
            .withMaxItemsAhead(ahead)
        : null;
  }

  /**
   * How one model's queues form batches: the server-wide batching with the fields of the
   * model's own {@code batching} (or {@code model_defaults.batching}) in place. Null when
   * batching is off for the model.
   */
  @Nullable
  BatchingOptions batchingFor(String model) {
    return batchingOptions(batchingConfig, modelConfig(model).getBatching(), "batching", batchThreads);
  }

  private static void validate(ModelConfig m, String field) {
    policy(m, field);
    m.getVersionLabelsMap().forEach((label, version) -> {
      if (label.isEmpty()) {
        throw new ConfigException(field + ".version_labels has an empty label");
      }
      if (version <= 0) {
        throw new ConfigException(field + ".version_labels[\"" + label + "\"] must be a positive version, got " + version);
      }
    });
    SessionConfig s = m.getSession();
    if (s.getIntraOpThreads() < 0 || s.getInterOpThreads() < 0) {
      throw new ConfigException(field + ".session thread counts must not be negative");
    }
  }

  private static VersionPolicy policy(ModelConfig m, String field) {
    try {
      return switch (m.getVersionPolicy().getPolicyChoiceCase()) {
        case LATEST -> new VersionPolicy.Latest(
            m.getVersionPolicy().getLatest().getNumVersions() == 0 ? 1 : m.getVersionPolicy().getLatest().getNumVersions());
        case ALL -> new VersionPolicy.All();
        case SPECIFIC -> new VersionPolicy.Specific(new HashSet<>(m.getVersionPolicy().getSpecific().getVersionsList()));
        case POLICYCHOICE_NOT_SET -> VersionPolicy.latest();
      };
    } catch (IllegalArgumentException e) {
      throw new ConfigException(field + ".version_policy: " + e.getMessage());
    }
  }

  /** The same settings with {@code database} set (Main, after starting the private cluster). */
  Settings withDatabase(DatabaseUrl url) {
    return new Settings(grpcPort, maxInboundMessageBytes, repository, pollIntervalMillis, onlyConfiguredModels, models,
        modelDefaults, shutdownGraceMillis, loadThreads, imageLimits, preprocessThreads, preprocessQueue,
        batchThreads, metricsPort, url, dataDir, maxConnections, connectionTimeout, maxStatementTimeout, batchingConfig,
        detailedHistograms, maxUploadBytes, backfill, grpcAddress, authRequired, tls, healthPort, metricsAddress,
        grpcThreads, maxCallsPerConnection, warmup, indexBuilds, httpPort, readReplicas, readReplicaOptions);
  }

  /** The folder of a model's versions: its configured base path, else {@code <repository>/<name>}. */
  public Path modelDir(String model) {
    ModelConfig m = models.get(model);
    return m != null && !m.getBasePath().isEmpty() ? Path.of(m.getBasePath()).toAbsolutePath()
        : repository.resolve(model);
  }

  /** The configuration that applies to a model: its own entry, else the defaults. */
  ModelConfig modelConfig(String name) {
    return models.getOrDefault(name, modelDefaults);
  }

  LoadOptions loadOptions(String model) {
    ModelConfig m = modelConfig(model);
    SessionConfig s = m.getSession();
    return new LoadOptions(m.getTagsList(), m.getDefaultSignature(), s.getIntraOpThreads(),
        s.getInterOpThreads(), !s.hasAllowSoftPlacement() || s.getAllowSoftPlacement(), s.getThreadSpinning());
  }

  Map<String, Long> labels(String model) {
    return modelConfig(model).getVersionLabelsMap();
  }

  /** The models to watch now: configured ones, plus every folder of the repository unless restricted. */
  List<ModelSource> modelSources() {
    List<ModelSource> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    models.forEach((name, m) -> {
      Path base = m.getBasePath().isEmpty() ? repository.resolve(name) : Path.of(m.getBasePath()).toAbsolutePath();
      out.add(new ModelSource(name, base, policy(m, "models")));
      names.add(name);
    });
    if (!onlyConfiguredModels && Files.isDirectory(repository)) {
      try (Stream<Path> children = Files.list(repository)) {
        children.filter(Files::isDirectory)
            .map(p -> p.getFileName().toString())
            .filter(n -> !n.startsWith(".") && !names.contains(n))
            .sorted()
            .forEach(n -> out.add(new ModelSource(n, repository.resolve(n), policy(modelDefaults, "model_defaults"))));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  /** A configuration value is invalid; the message names the field. */
  public static final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
      super(message);
    }
  }
}
