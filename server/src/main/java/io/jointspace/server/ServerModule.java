package io.jointspace.server;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.jointspace.registry.FileSystemVersionSource;
import io.jointspace.registry.ModelManager;
import io.jointspace.registry.RolloutPolicy;
import io.jointspace.server.api.CallStatementTimeout;
import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.labels.ModelLabels;
import io.jointspace.server.metrics.BatchMetrics;
import io.jointspace.server.uploads.VersionUploads;
import io.jointspace.server.metrics.ModelMetrics;
import io.jointspace.server.metrics.ReadMetrics;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.jointspace.server.runtime.PreprocessPool;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.runtime.ModelVersionLoader;
import io.jointspace.server.rollout.Backfiller;
import io.jointspace.server.rollout.Evaluator;
import io.jointspace.server.rollout.LabelFollower;
import io.jointspace.registry.LabelTarget;
import io.jointspace.server.rollout.Rollouts;
import io.jointspace.server.store.Database;
import io.jointspace.server.store.Storage;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** Wires the server from its {@link Settings}. The only place that knows how parts fit. */
final class ServerModule extends AbstractModule {
  private final Settings settings;

  ServerModule(Settings settings) {
    this.settings = settings;
  }

  @Override
  protected void configure() {
    bind(Settings.class).toInstance(settings);
  }

  @Provides
  @Singleton
  @LoadExecutor
  ExecutorService loadExecutor() {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(settings.loadThreads(), r -> {
      Thread t = new Thread(r, "model-loader-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  @Provides
  @Singleton
  PrometheusMeterRegistry meterRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    return registry;
  }

  /** Bound to the registry; closed with the server. */
  @Provides
  @Singleton
  JvmGcMetrics gcMetrics(PrometheusMeterRegistry registry) {
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    return gc;
  }

  @Provides
  @Singleton
  BatchScheduler batchScheduler(PrometheusMeterRegistry meters) {
    return BatchScheduler.create(settings.batchThreads(), new BatchMetrics(meters, settings.detailedHistograms()));
  }

  @Provides
  @Singleton
  ModelMetrics modelMetrics(PrometheusMeterRegistry meters, ModelManager<ModelVersion> registry) {
    return new ModelMetrics(meters, registry);
  }

  @Provides
  @Singleton
  ModelManager<ModelVersion> registry(@LoadExecutor ExecutorService loadExecutor, BatchScheduler batchScheduler,
      PreprocessPool pool, ModelLabels labels) {
    return new ModelManager<>(
        new ModelVersionLoader(settings::loadOptions, settings.imageLimits(), batchScheduler, settings::batchingFor,
            pool, settings.warmup()),
        loadExecutor,
        RolloutPolicy.availabilityPreserving(),
        labels::targets,
        Clock.systemUTC());
  }

  @Provides
  @Singleton
  PreprocessPool preprocessPool() {
    return new PreprocessPool(settings.preprocessThreads(), settings.preprocessQueue());
  }

  /** The configured labels with the changes made at run time, kept in the database when there is one. */
  @Provides
  @Singleton
  ModelLabels labels(Storage storage) {
    return new ModelLabels(settings::labels, storage.labelsOrNull(), Clock.systemUTC());
  }

  /** Versions added over the API, shared through the database when there is one. */
  @Provides
  @Singleton
  VersionUploads uploads(Storage storage, FileSystemVersionSource source) {
    return new VersionUploads(settings::modelDir, settings.maxUploadBytes(), storage.archivesOrNull(),
        source::scanNow);
  }

  /** This server's share of every rollout's backfill; started with the server. */
  @Provides
  @Singleton
  Backfiller backfiller(Storage storage, ModelManager<ModelVersion> registry, Evaluator evaluator,
      PrometheusMeterRegistry meters, io.jointspace.server.api.LiveCalls live) {
    return new Backfiller(storage, registry, evaluator, settings.backfill(), meters, live::quiet);
  }

  @Provides
  @Singleton
  Evaluator evaluator(Storage storage, ModelManager<ModelVersion> registry) {
    return new Evaluator(storage, registry);
  }

  @Provides
  @Singleton
  Rollouts rollouts(Storage storage, ModelManager<ModelVersion> registry, Backfiller backfiller,
      Evaluator evaluator) {
    return new Rollouts(storage, registry, backfiller, evaluator);
  }

  /** Starts rollouts of collections whose label moved; started with the server. */
  @Provides
  @Singleton
  LabelFollower labelFollower(Storage storage, Rollouts rollouts, ModelLabels labels) {
    return new LabelFollower(storage, rollouts, (model, label) -> {
      LabelTarget t = labels.targets(model).get(label);
      return t == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(t.primary());
    }, java.time.Duration.ofSeconds(2));
  }

  /**
   * Checks the API keys of calls; null when authentication is off. With authentication on and
   * no database, the server does not start ({@link JointspaceServer#start()}).
   */
  @Provides
  @Singleton
  @javax.annotation.Nullable
  io.jointspace.server.auth.KeyVerifier keyVerifier(Storage storage) {
    return settings.authRequired() && storage.keysOrNull() != null
        ? new io.jointspace.server.auth.KeyVerifier(storage.keysOrNull(), Clock.systemUTC()) : null;
  }

  /**
   * The collection store; without a database URL, one that answers UNAVAILABLE. Its connection
   * pool reports on /metrics ({@code hikaricp_connections_active{pool="jointspace-db"}} and the rest), and
   * each read replica's as {@code pool="jointspace-db-replica-N"}; where reads went, as
   * {@code jointspace_store_reads_total} ({@link ReadMetrics}).
   */
  @Provides
  @Singleton
  Storage storage(PrometheusMeterRegistry meters) {
    if (settings.database() == null) {
      return new Storage(null, settings.indexBuilds());
    }
    var poolMetrics = new com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory(meters);
    CallStatementTimeout timeout = new CallStatementTimeout(settings.maxStatementTimeout());
    java.util.List<Database> replicas = new java.util.ArrayList<>();
    for (int i = 0; i < settings.readReplicas().size(); i++) {
      replicas.add(Database.replica(settings.readReplicas().get(i), "jointspace-db-replica-" + (i + 1),
          settings.maxConnections(), settings.connectionTimeout(), timeout, poolMetrics));
    }
    return new Storage(new Database(settings.database(), settings.maxConnections(), settings.connectionTimeout(),
        timeout, poolMetrics), settings.indexBuilds(), replicas, settings.readReplicaOptions(), new ReadMetrics(meters));
  }

  @Provides
  @Singleton
  FileSystemVersionSource versionSource() {
    return new FileSystemVersionSource(settings.repository(), settings::modelSources, settings.pollIntervalMillis());
  }
}
