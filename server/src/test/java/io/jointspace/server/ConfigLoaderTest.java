package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jointspace.registry.FileSystemVersionSource.ModelSource;
import io.jointspace.registry.VersionPolicy;
import io.jointspace.server.batching.BatchingOptions;
import io.jointspace.server.runtime.LoadOptions;
import io.jointspace.server.store.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  private static final ConfigLoader.Overrides NO_FLAGS = new ConfigLoader.Overrides(null, null, null, null, null, null);

  @TempDir Path dir;

  @Test
  void defaults_applyWhenNothingIsGiven() {
    Settings s = ConfigLoader.load(null, Map.of(), NO_FLAGS);
    assertThat(s.grpcPort()).isEqualTo(8500);
    assertThat(s.httpPort()).isEqualTo(8501);
    assertThat(s.metricsPort()).isEqualTo(-1); // deprecated: /metrics is on the HTTP port
    assertThat(s.maxInboundMessageBytes()).isEqualTo(64 << 20);
    assertThat(s.pollIntervalMillis()).isEqualTo(2000);
    assertThat(s.shutdownGraceMillis()).isEqualTo(10_000);
    assertThat(s.repository()).isEqualTo(Path.of("models").toAbsolutePath());
    assertThat(s.loadOptions("any")).isEqualTo(LoadOptions.DEFAULT);
    assertThat(s.batchingFor("unconfigured")).isEqualTo(BatchingOptions.DEFAULT.withWaitOnlyForAdmitted(true).withMaxBatchSize(32)
        .withMaxQueueDelay(Duration.ofMillis(2)).withMaxQueuedItems(1024).withMaxItemsAhead(Integer.MAX_VALUE)
        .withMaxConcurrentBatches(s.batchThreads())); // as many batches at once as batch threads
    assertThat(s.batchThreads()).isEqualTo(Math.max(1, Runtime.getRuntime().availableProcessors()));
  }

  @Test
  void batching_fieldsFromTheFile_andOnOffByFileThenEnvironmentThenFlag() throws Exception {
    Path file = dir.resolve("server.textproto");
    Files.writeString(file, """
        batching { max_batch_size: 8 max_queue_delay_micros: 500 max_queued_items: 64 batch_threads: 3 }
        """);
    Settings s = ConfigLoader.load(file, Map.of(), NO_FLAGS);
    assertThat(s.batchingFor("unconfigured")).isEqualTo(BatchingOptions.DEFAULT.withWaitOnlyForAdmitted(true).withMaxBatchSize(8)
        .withMaxQueueDelay(Duration.ofNanos(500_000)).withMaxQueuedItems(64).withMaxItemsAhead(Integer.MAX_VALUE)
        .withMaxConcurrentBatches(3));
    assertThat(s.batchThreads()).isEqualTo(3);

    Files.writeString(file, "batching { enabled: false max_batch_size: 8 }\n");
    assertThat(ConfigLoader.load(file, Map.of(), NO_FLAGS).batchingFor("unconfigured")).isNull();
    Settings envOn = ConfigLoader.load(file, Map.of("JOINTSPACE_BATCHING", "on"), NO_FLAGS);
    assertThat(envOn.batchingFor("unconfigured")).isNotNull();
    assertThat(envOn.batchingFor("unconfigured").maxBatchSize()).isEqualTo(8);
    assertThat(ConfigLoader.load(file, Map.of("JOINTSPACE_BATCHING", "on"), batchingFlag(false)).batchingFor("unconfigured")).isNull();
    assertThat(ConfigLoader.load(null, Map.of("JOINTSPACE_BATCHING", "OFF"), NO_FLAGS).batchingFor("unconfigured")).isNull();
    assertThat(ConfigLoader.load(null, Map.of("JOINTSPACE_BATCHING", "off"), batchingFlag(true)).batchingFor("unconfigured")).isNotNull();
  }

  @Test
  void batching_invalidValues_nameTheField() throws Exception {
    Path file = dir.resolve("bad.textproto");
    for (String field : new String[] {"max_batch_size", "max_queue_delay_micros", "max_queued_items", "batch_threads"}) {
      Files.writeString(file, "batching { " + field + ": -1 }\n");
      assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), NO_FLAGS)).hasMessageContaining("batching." + field);
    }
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("JOINTSPACE_BATCHING", "maybe"), NO_FLAGS))
        .hasMessageContaining("JOINTSPACE_BATCHING");
  }

  private static ConfigLoader.Overrides batchingFlag(boolean on) {
    return new ConfigLoader.Overrides(null, null, null, null, null, on);
  }

  @Test
  void file_thenEnvironment_thenFlags_eachOverrideTheOneBefore() throws Exception {
    Path file = dir.resolve("server.textproto");
    Files.writeString(file, """
        grpc_port: 9000
        max_inbound_message_bytes: 1048576
        model_repository { base_path: "/from/file" poll_interval_ms: 500 }
        """);
    Settings fileOnly = ConfigLoader.load(file, Map.of(), NO_FLAGS);
    assertThat(fileOnly.grpcPort()).isEqualTo(9000);
    assertThat(fileOnly.maxInboundMessageBytes()).isEqualTo(1 << 20);
    assertThat(fileOnly.repository()).isEqualTo(Path.of("/from/file"));
    assertThat(fileOnly.pollIntervalMillis()).isEqualTo(500);

    Map<String, String> env = Map.of("JOINTSPACE_GRPC_PORT", "9100", "JOINTSPACE_MODELS", "/from/env");
    Settings withEnv = ConfigLoader.load(file, env, NO_FLAGS);
    assertThat(withEnv.grpcPort()).isEqualTo(9100);
    assertThat(withEnv.repository()).isEqualTo(Path.of("/from/env"));

    Settings withFlags = ConfigLoader.load(file, env,
        new ConfigLoader.Overrides(Path.of("/from/flag"), 9200, null, -1L, 100L, null));
    assertThat(withFlags.grpcPort()).isEqualTo(9200);
    assertThat(withFlags.repository()).isEqualTo(Path.of("/from/flag"));
    assertThat(withFlags.pollIntervalMillis()).isEqualTo(-1);
    assertThat(withFlags.shutdownGraceMillis()).isEqualTo(100);
    assertThat(withFlags.maxInboundMessageBytes()).isEqualTo(1 << 20);
  }

  @Test
  void configFile_canComeFromTheEnvironment() throws Exception {
    Path file = dir.resolve("c.textproto");
    Files.writeString(file, "grpc_port: 9300\n");
    assertThat(ConfigLoader.load(null, Map.of("JOINTSPACE_CONFIG", file.toString()), NO_FLAGS).grpcPort()).isEqualTo(9300);
  }

  @Test
  void perModelSettings_policiesTagsSessionAndLabels() throws Exception {
    Files.createDirectories(dir.resolve("repo/plain"));
    Files.createDirectories(dir.resolve("repo/tuned"));
    Files.createDirectories(dir.resolve("repo/.hidden"));
    Path file = dir.resolve("server.textproto");
    Files.writeString(file, """
        model_repository { base_path: "%s" }
        models {
          name: "tuned"
          version_policy { specific { versions: [1, 3] } }
          tags: ["train", "serve"]
          default_signature: "embed"
          session { intra_op_threads: 2 inter_op_threads: 1 allow_soft_placement: false thread_spinning: true }
          version_labels { key: "stable" value: 3 }
        }
        model_defaults { version_policy { latest { num_versions: 2 } } }
        """.formatted(dir.resolve("repo")));
    Settings s = ConfigLoader.load(file, Map.of(), NO_FLAGS);
    assertThat(s.loadOptions("tuned")).isEqualTo(new LoadOptions(List.of("train", "serve"), "embed", 2, 1, false, true));
    assertThat(s.labels("tuned")).containsEntry("stable", 3L);
    assertThat(s.labels("plain")).isEmpty();
    assertThat(s.modelSources()).extracting(ModelSource::name).containsExactly("tuned", "plain");
    assertThat(s.modelSources()).extracting(ModelSource::policy)
        .containsExactly(new VersionPolicy.Specific(Set.of(1L, 3L)), new VersionPolicy.Latest(2));
  }

  @Test
  void onlyConfiguredModels_ignoresOtherFolders() throws Exception {
    Files.createDirectories(dir.resolve("repo/other"));
    Path file = dir.resolve("server.textproto");
    Files.writeString(file, """
        model_repository { base_path: "%s" only_configured_models: true }
        models { name: "mine" base_path: "%s" }
        """.formatted(dir.resolve("repo"), dir.resolve("elsewhere")));
    Settings s = ConfigLoader.load(file, Map.of(), NO_FLAGS);
    assertThat(s.modelSources()).extracting(ModelSource::name).containsExactly("mine");
    assertThat(s.modelSources().get(0).basePath()).isEqualTo(dir.resolve("elsewhere"));
  }

  @Test
  void invalidValues_failWithTheFieldNamed() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), new ConfigLoader.Overrides(null, 70000, null, null, null, null)))
        .hasMessageContaining("grpc_port");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("JOINTSPACE_GRPC_PORT", "abc"), NO_FLAGS))
        .hasMessageContaining("JOINTSPACE_GRPC_PORT");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), new ConfigLoader.Overrides(null, null, 10L, null, null, null)))
        .hasMessageContaining("max_inbound_message_bytes");
    Path file = dir.resolve("bad.textproto");
    Files.writeString(file, "models { name: \"m\" version_policy { latest { num_versions: -1 } } }\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), NO_FLAGS)).hasMessageContaining("models[0].version_policy");
    Files.writeString(file, "models { name: \"m\" version_labels { key: \"stable\" value: 0 } }\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), NO_FLAGS)).hasMessageContaining("models[0].version_labels");
    Files.writeString(file, "models { name: \"m\" } models { name: \"m\" }\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), NO_FLAGS)).hasMessageContaining("models[1].name");
    Files.writeString(file, "grpc_prot: 1\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), NO_FLAGS)).hasMessageContaining("grpc_prot");
    assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("missing.textproto"), Map.of(), NO_FLAGS))
        .hasMessageContaining("missing.textproto");
  }

  @Test
  void httpPort_flagOverEnvOverFile_negativeDisables_andItMustNotShareAPort() throws Exception {
    Path file = dir.resolve("http.textproto");
    Files.writeString(file, "http_port: 9201\n");
    assertThat(ConfigLoader.load(file, Map.of(), NO_FLAGS).httpPort()).isEqualTo(9201);
    Map<String, String> env = Map.of("JOINTSPACE_HTTP_PORT", "9202");
    assertThat(ConfigLoader.load(file, env, NO_FLAGS).httpPort()).isEqualTo(9202);
    assertThat(ConfigLoader.load(file, env, httpFlag(9203)).httpPort()).isEqualTo(9203);
    assertThat(ConfigLoader.load(file, env, httpFlag(-7)).httpPort()).isEqualTo(-1);
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("JOINTSPACE_HTTP_PORT", "70000"), NO_FLAGS))
        .hasMessageContaining("http_port");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("JOINTSPACE_HTTP_PORT", "8500"), NO_FLAGS))
        .hasMessageContaining("http_port must differ from grpc_port");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("JOINTSPACE_METRICS_PORT", "8501"), NO_FLAGS))
        .hasMessageContaining("--metrics-port");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("JOINTSPACE_HEALTH_PORT", "8501"), NO_FLAGS))
        .hasMessageContaining("health_port must differ from http_port");
  }

  private static ConfigLoader.Overrides httpFlag(int port) {
    return new ConfigLoader.Overrides(null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, port);
  }

  @Test
  void metricsPort_flagOverEnvOverFile_negativeDisables() throws Exception {
    Path file = dir.resolve("metrics.textproto");
    Files.writeString(file, "metrics_port: 9101\n");
    assertThat(ConfigLoader.load(file, Map.of(), NO_FLAGS).metricsPort()).isEqualTo(9101);
    Map<String, String> env = Map.of("JOINTSPACE_METRICS_PORT", "9102");
    assertThat(ConfigLoader.load(file, env, NO_FLAGS).metricsPort()).isEqualTo(9102);
    assertThat(ConfigLoader.load(file, env, new ConfigLoader.Overrides(null, null, null, null, null, null, 9103))
        .metricsPort()).isEqualTo(9103);
    assertThat(ConfigLoader.load(file, env, new ConfigLoader.Overrides(null, null, null, null, null, null, -5))
        .metricsPort()).isEqualTo(-1);
    Files.writeString(file, "metrics_port: 0\n");
    assertThat(ConfigLoader.load(file, Map.of(), NO_FLAGS).metricsPort()).isEqualTo(-1);
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("JOINTSPACE_METRICS_PORT", "70000"), NO_FLAGS))
        .hasMessageContaining("metrics_port");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("JOINTSPACE_METRICS_PORT", "x"), NO_FLAGS))
        .hasMessageContaining("JOINTSPACE_METRICS_PORT");
  }

  static ConfigLoader.Overrides tlsFlags(Path cert, Path key, Path clientCa, Integer healthPort, String metricsAddress) {
    return new ConfigLoader.Overrides(null, null, null, null, null, null, null, null, null, null, null, cert, key, clientCa,
        healthPort, metricsAddress);
  }

  @Test
  void tlsHealthPortAndMetricsAddress_flagOverEnvOverFile() throws Exception {
    Settings defaults = ConfigLoader.load(null, Map.of(), NO_FLAGS);
    assertThat(defaults.tls()).isNull();
    assertThat(defaults.healthPort()).isZero();
    assertThat(defaults.metricsAddress()).isEqualTo("127.0.0.1");
    Path file = dir.resolve("tls.textproto");
    Files.writeString(file, """
        tls { cert_file: "/file/server.crt" key_file: "/file/server.key" client_ca_file: "/file/ca.crt" }
        health_port: 9301
        metrics_address: "0.0.0.0"
        """);
    Settings fromFile = ConfigLoader.load(file, Map.of(), NO_FLAGS);
    assertThat(fromFile.tls()).isEqualTo(new TlsFiles(Path.of("/file/server.crt"), Path.of("/file/server.key"),
        Path.of("/file/ca.crt")));
    assertThat(fromFile.healthPort()).isEqualTo(9301);
    assertThat(fromFile.metricsAddress()).isEqualTo("0.0.0.0");
    Map<String, String> env = Map.of("JOINTSPACE_TLS_CERT", "/env/server.crt", "JOINTSPACE_TLS_KEY", "/env/server.key",
        "JOINTSPACE_TLS_CLIENT_CA", "/env/ca.crt", "JOINTSPACE_HEALTH_PORT", "9302",
        "JOINTSPACE_METRICS_ADDRESS", "::1");
    Settings fromEnv = ConfigLoader.load(file, env, NO_FLAGS);
    assertThat(fromEnv.tls()).isEqualTo(new TlsFiles(Path.of("/env/server.crt"), Path.of("/env/server.key"),
        Path.of("/env/ca.crt")));
    assertThat(fromEnv.healthPort()).isEqualTo(9302);
    assertThat(fromEnv.metricsAddress()).isEqualTo("::1");
    Settings fromFlags = ConfigLoader.load(file, env, tlsFlags(Path.of("/flag/server.crt"), Path.of("/flag/server.key"),
        null, 9303, "127.0.0.1"));
    assertThat(fromFlags.tls()).isEqualTo(new TlsFiles(Path.of("/flag/server.crt"), Path.of("/flag/server.key"),
        Path.of("/env/ca.crt")));
    assertThat(fromFlags.healthPort()).isEqualTo(9303);
    assertThat(fromFlags.metricsAddress()).isEqualTo("127.0.0.1");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), tlsFlags(null, null, null, 70000, null)))
        .hasMessageContaining("health_port");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), tlsFlags(null, null, null, 8500, null)))
        .hasMessageContaining("health_port must differ from grpc_port");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), tlsFlags(null, null, null, null, "1::2::3")))
        .hasMessageContaining("metrics_address '1::2::3'");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), tlsFlags(Path.of("/a.crt"), null, null, null, null)))
        .hasMessageContaining("--tls-cert needs --tls-key");
  }

  @Test
  void modelBatching_overridesTheServerWideFieldsItSets() throws Exception {
    Path file = dir.resolve("server.textproto");
    Files.writeString(file, """
        batching { max_batch_size: 8 max_queue_delay_micros: 500 batch_threads: 4 }
        models { name: "small" batching { max_batch_size: 2 max_queued_items: 16 max_concurrent_batches: 1 } }
        models { name: "direct" batching { enabled: false } }
        model_defaults { batching { max_queue_delay_micros: 100 } }
        """);
    Settings s = ConfigLoader.load(file, Map.of(), NO_FLAGS);
    assertThat(s.batchingFor("small")).isEqualTo(BatchingOptions.DEFAULT.withWaitOnlyForAdmitted(true).withMaxBatchSize(2)
        .withMaxQueueDelay(Duration.ofNanos(500_000)).withMaxQueuedItems(16).withMaxItemsAhead(Integer.MAX_VALUE)
        .withMaxConcurrentBatches(1));
    assertThat(s.batchingFor("direct")).isNull();
    assertThat(s.batchingFor("other")).isEqualTo(BatchingOptions.DEFAULT.withWaitOnlyForAdmitted(true).withMaxBatchSize(8)
        .withMaxQueueDelay(Duration.ofNanos(100_000)).withMaxQueuedItems(1024).withMaxItemsAhead(Integer.MAX_VALUE)
        .withMaxConcurrentBatches(4)); // batch_threads
    // a model that turns batching on wins over --batching off; the others follow the flag
    Files.writeString(file, """
        models { name: "on" batching { enabled: true max_batch_size: 4 } }
        models { name: "plain" }
        """);
    Settings off = ConfigLoader.load(file, Map.of(), batchingFlag(false));
    assertThat(off.batchingFor("on")).isNotNull();
    assertThat(off.batchingFor("on").maxBatchSize()).isEqualTo(4);
    assertThat(off.batchingFor("plain")).isNull();
  }

  @Test
  void preferredSizesAndLengthBuckets_serverWideThenReplacedPerModel() throws Exception {
    Path file = dir.resolve("server.textproto");
    Files.writeString(file, """
        batching { max_batch_size: 16 preferred_batch_sizes: [16, 4, 8] length_buckets: [32, 8] }
        models { name: "own" batching { preferred_batch_sizes: [2] length_buckets: [4] } }
        """);
    Settings s = ConfigLoader.load(file, Map.of(), NO_FLAGS);
    assertThat(s.batchingFor("other").preferredBatchSizes()).containsExactly(4, 8, 16);
    assertThat(s.batchingFor("other").lengthBuckets()).containsExactly(8, 32);
    assertThat(s.batchingFor("own").preferredBatchSizes()).containsExactly(2);
    assertThat(s.batchingFor("own").lengthBuckets()).containsExactly(4);
    assertThat(s.batchingFor("own").waitOnlyForAdmitted()).isTrue(); // the default

    Files.writeString(file, """
        batching { wait_only_for_admitted: false }
        models { name: "eager" batching { wait_only_for_admitted: true } }
        """);
    Settings timed = ConfigLoader.load(file, Map.of(), NO_FLAGS);
    assertThat(timed.batchingFor("other").waitOnlyForAdmitted()).isFalse();
    assertThat(timed.batchingFor("eager").waitOnlyForAdmitted()).isTrue();

    Files.writeString(file, "batching { max_batch_size: 8 preferred_batch_sizes: [4, 9] }\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), NO_FLAGS))
        .isInstanceOf(Settings.ConfigException.class)
        .hasMessageContaining("batching.preferred_batch_sizes must lie in 1..max_batch_size (8), got 9");
    Files.writeString(file, "models { name: \"m\" batching { length_buckets: [0] } }\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), NO_FLAGS))
        .isInstanceOf(Settings.ConfigException.class)
        .hasMessageContaining("models[0].batching.length_buckets must be positive, got 0");
  }

  @Test
  void modelBatching_badValuesNameTheModelField() throws Exception {
    Path file = dir.resolve("server.textproto");
    Files.writeString(file, "models { name: \"a\" } models { name: \"b\" batching { max_batch_size: -1 } }\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), NO_FLAGS))
        .isInstanceOf(Settings.ConfigException.class)
        .hasMessageContaining("models[1].batching.max_batch_size");
    Files.writeString(file, "models { name: \"a\" batching { batch_threads: 2 } }\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), NO_FLAGS))
        .isInstanceOf(Settings.ConfigException.class)
        .hasMessageContaining("models[0].batching.batch_threads is server-wide");
  }

  @Test
  void shippedConfig_servesBothDemoVersions_andTheLatestOfOtherModels() {
    Path root = TestDatabase.projectRoot();
    Settings s = ConfigLoader.load(root.resolve("models/serve.textproto"), Map.of(),
        new ConfigLoader.Overrides(root.resolve("models"), null, null, null, null, null));
    Map<String, List<Long>> chosen = new TreeMap<>();
    s.modelSources().forEach(m -> chosen.put(m.name(), m.policy().select(new TreeSet<>(List.of(1L, 2L)))));
    assertThat(chosen).containsEntry("shapes-clip", List.of(1L, 2L)).containsEntry("example", List.of(2L));
  }

  @Test
  void readReplicas_flagsOverEnvOverFile_replaceTheList_andTheWaitHasADefault() throws Exception {
    Path file = dir.resolve("replicas.textproto");
    Files.writeString(file, "storage { database_url: \"postgresql://db:5432/x\" database_read_urls: \"postgresql://r1:5432/x\""
        + " database_read_urls: \"postgresql://r2:5432/x\" }\n");
    Settings fromFile = ConfigLoader.load(file, Map.of(), NO_FLAGS);
    assertThat(fromFile.readReplicas()).extracting(u -> u.jdbcUrl())
        .containsExactly("jdbc:postgresql://r1:5432/x", "jdbc:postgresql://r2:5432/x");
    assertThat(fromFile.readReplicaOptions().maxWait()).isEqualTo(Duration.ofMillis(Settings.DEFAULT_REPLICA_WAIT_MS));
    Map<String, String> env = Map.of("JOINTSPACE_DATABASE_READ_URLS",
        " jdbc:postgresql://e1:5432,e2:5432/x   postgresql://e3/x ");
    assertThat(ConfigLoader.load(file, env, NO_FLAGS).readReplicas()).extracting(u -> u.jdbcUrl())
        .containsExactly("jdbc:postgresql://e1:5432,e2:5432/x", "jdbc:postgresql://e3/x");
    assertThat(ConfigLoader.load(file, env, readFlags(List.of("postgres://f1/x"))).readReplicas())
        .extracting(u -> u.jdbcUrl()).containsExactly("jdbc:postgresql://f1/x");
    assertThat(ConfigLoader.load(null, Map.of(), NO_FLAGS).readReplicas()).isEmpty();

    Files.writeString(file, "storage { replica_wait_ms: 0 }\n");
    assertThat(ConfigLoader.load(file, Map.of(), NO_FLAGS).readReplicaOptions().maxWait()).isZero();
    Files.writeString(file, "storage { replica_wait_ms: -1 }\n");
    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), NO_FLAGS)).hasMessageContaining("storage.replica_wait_ms");
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), readFlags(List.of("mysql://r/x"))))
        .hasMessageContaining("storage.database_read_urls[0] (--database-read-url)");
  }

  private static ConfigLoader.Overrides readFlags(List<String> urls) {
    return new ConfigLoader.Overrides(null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, urls);
  }
}
