package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.server.batching.BatchingOptions;
import io.jointspace.server.rollout.Backfiller;
import io.jointspace.server.store.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Each default is stated once in code ({@link Settings}, {@link BatchingOptions#DEFAULT}); the
 * config schema's comments and the command line's help must say the same.
 */
class DefaultsTest {
  /** "Message.field" to its comment in server_config.proto. */
  static final Map<String, String> COMMENTS = new LinkedHashMap<>();

  @BeforeAll
  static void readSchema() throws Exception {
    Path proto = TestDatabase.projectRoot().resolve("proto/src/main/proto/jointspace/config/v1/server_config.proto");
    StringBuilder comment = new StringBuilder();
    Pattern message = Pattern.compile("^message (\\w+) \\{");
    Pattern field = Pattern.compile("^\\s*(?:optional |repeated )?[\\w.<>, ]+ (\\w+) = \\d+;");
    String in = "";
    for (String line : Files.readAllLines(proto)) {
      String t = line.trim();
      if (t.startsWith("//")) {
        comment.append(t.substring(2).trim()).append(' ');
        continue;
      }
      Matcher m = message.matcher(line);
      if (m.find()) {
        in = m.group(1);
      }
      m = field.matcher(line);
      if (m.find()) {
        COMMENTS.put(in + "." + m.group(1), comment.toString());
      }
      comment.setLength(0);
    }
  }

  static void says(String field, String phrase) {
    assertThat(COMMENTS).containsKey(field);
    assertThat(COMMENTS.get(field)).as("comment of %s", field).contains(phrase);
  }

  @Test
  void configSchema_statesTheServersDefaults() {
    says("ServerConfig.grpc_port", "Default " + Settings.DEFAULT_GRPC_PORT + ".");
    says("ServerConfig.metrics_port", "Default " + Settings.DEFAULT_METRICS_PORT + " (none)");
    says("ServerConfig.http_port", "Default " + Settings.DEFAULT_HTTP_PORT + " ");
    says("ServerConfig.max_inbound_message_bytes", "Default " + (Settings.DEFAULT_MAX_MESSAGE_BYTES >> 20) + " MiB");
    says("ServerConfig.shutdown_grace_ms", "Default " + Settings.DEFAULT_SHUTDOWN_GRACE_MS + " ms");
    says("ServerConfig.load_threads", "Default " + Settings.DEFAULT_LOAD_THREADS + ".");
    says("ModelRepositoryConfig.base_path", "Default \"" + Settings.DEFAULT_REPOSITORY + "\"");
    says("ModelRepositoryConfig.poll_interval_ms", "Default " + Settings.DEFAULT_POLL_INTERVAL_MS + " ms");
    says("StorageConfig.data_dir", "Default \"" + Settings.DEFAULT_DATA_DIR + "\"");
    says("StorageConfig.max_connections", "Default " + Settings.DEFAULT_MAX_CONNECTIONS + ".");
    says("StorageConfig.connection_timeout_ms", "Default " + Settings.DEFAULT_CONNECTION_TIMEOUT_MS + " ms");
    says("StorageConfig.max_statement_timeout_ms", "Default " + Settings.DEFAULT_MAX_STATEMENT_TIMEOUT_MS + " ms");
    says("ServerConfig.max_upload_bytes", "Default " + (Settings.DEFAULT_MAX_UPLOAD_BYTES >> 20) + " MiB");
    says("ServerConfig.metrics_address", "Default \"" + Settings.DEFAULT_METRICS_ADDRESS + "\"");
    says("ServerConfig.grpc_threads", "Default " + Settings.DEFAULT_GRPC_THREADS + ".");
    says("ServerConfig.max_concurrent_calls_per_connection", "Default " + Settings.DEFAULT_MAX_CALLS_PER_CONNECTION + ".");
    says("ServerConfig.health_port", "Default 0: none.");
    says("ServerConfig.tls", "Default: unset, plaintext.");
    for (String field : new String[] {"cert_file", "key_file", "client_ca_file"}) {
      assertThat(COMMENTS).containsKey("TlsConfig." + field);
    }
    Backfiller.Options backfill = Backfiller.Options.DEFAULT;
    says("RolloutConfig.backfill_threads", "Default " + backfill.threads() + ";");
    says("RolloutConfig.chunk_size", "Default " + backfill.chunk() + ";");
    says("RolloutConfig.lease_ms", "Default " + backfill.lease().toMillis() + " ms");
    says("RolloutConfig.max_yield_ms", "Default " + backfill.maxYield().toMillis() + " ms");
  }

  @Test
  void configSchema_statesTheBatchingLibrarysDefaults() {
    BatchingOptions d = BatchingOptions.DEFAULT;
    says("BatchingConfig.max_batch_size", "Default " + d.maxBatchSize() + ";");
    says("BatchingConfig.max_queue_delay_micros", "Default " + d.maxQueueDelay().toNanos() / 1000 + ";");
    says("BatchingConfig.max_queued_items", "Default " + d.maxQueuedItems() + ";");
    says("BatchingConfig.max_items_ahead", "Default no bound");
    says("BatchingConfig.wait_only_for_admitted", "Default " + d.waitOnlyForAdmitted() + ";");
    assertThat(d.maxItemsAhead()).isEqualTo(Integer.MAX_VALUE);
  }

  @Test
  void serverWithNoBatchingConfig_usesTheLibrarysDefaults() {
    Settings s = ConfigLoader.load(null, Map.of(), new ConfigLoader.Overrides(null, null, null, null, null, null));
    // "as many batches at once as the scheduler has threads", stated as the number of threads
    assertThat(s.batchingFor("any")).isEqualTo(BatchingOptions.DEFAULT.withMaxConcurrentBatches(s.batchThreads()));
  }

  @Test
  void commandLineHelp_statesTheSameDefaults() {
    // as one line: where the help wraps depends on the longest flag
    String help = new CommandLine(new Main()).getSubcommands().get("serve").getUsageMessage().replaceAll("\\s+", " ");
    for (Object value : new Object[] {Settings.DEFAULT_GRPC_PORT, Settings.DEFAULT_METRICS_PORT, Settings.DEFAULT_HTTP_PORT,
        Settings.DEFAULT_MAX_MESSAGE_BYTES, Settings.DEFAULT_POLL_INTERVAL_MS, Settings.DEFAULT_SHUTDOWN_GRACE_MS,
        Settings.DEFAULT_DATA_DIR, Settings.DEFAULT_METRICS_ADDRESS}) {
      assertThat(help).contains("Default: " + value);
    }
  }
}
