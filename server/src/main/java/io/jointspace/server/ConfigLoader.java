package io.jointspace.server;

import com.google.protobuf.TextFormat;
import io.jointspace.config.v1.ServerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;

/**
 * Builds the server configuration from, in rising precedence: defaults, the text-format
 * config file, JOINTSPACE_* environment variables, command-line flags.
 */
final class ConfigLoader {
  private ConfigLoader() {}

  /** Values given on the command line; null means "not given". */
  record Overrides(
      @Nullable Path models,
      @Nullable Integer grpcPort,
      @Nullable Long maxMessageBytes,
      @Nullable Long pollIntervalMillis,
      @Nullable Long shutdownGraceMillis,
      @Nullable Boolean batching,
      @Nullable Integer metricsPort,
      @Nullable String databaseUrl,
      @Nullable Path dataDir,
      @Nullable String grpcAddress,
      @Nullable io.jointspace.config.v1.AuthMode auth,
      @Nullable Path tlsCert,
      @Nullable Path tlsKey,
      @Nullable Path tlsClientCa,
      @Nullable Integer healthPort,
      @Nullable String metricsAddress,
      @Nullable Integer httpPort,
      @Nullable List<String> databaseReadUrls) {

    Overrides(@Nullable Path models, @Nullable Integer grpcPort, @Nullable Long maxMessageBytes,
        @Nullable Long pollIntervalMillis, @Nullable Long shutdownGraceMillis, @Nullable Boolean batching,
        @Nullable Integer metricsPort, @Nullable String databaseUrl, @Nullable Path dataDir,
        @Nullable String grpcAddress, @Nullable io.jointspace.config.v1.AuthMode auth, @Nullable Path tlsCert,
        @Nullable Path tlsKey, @Nullable Path tlsClientCa, @Nullable Integer healthPort,
        @Nullable String metricsAddress, @Nullable Integer httpPort) {
      this(models, grpcPort, maxMessageBytes, pollIntervalMillis, shutdownGraceMillis, batching, metricsPort,
          databaseUrl, dataDir, grpcAddress, auth, tlsCert, tlsKey, tlsClientCa, healthPort, metricsAddress, httpPort,
          null);
    }

    Overrides(@Nullable Path models, @Nullable Integer grpcPort, @Nullable Long maxMessageBytes,
        @Nullable Long pollIntervalMillis, @Nullable Long shutdownGraceMillis, @Nullable Boolean batching,
        @Nullable Integer metricsPort, @Nullable String databaseUrl, @Nullable Path dataDir,
        @Nullable String grpcAddress, @Nullable io.jointspace.config.v1.AuthMode auth, @Nullable Path tlsCert,
        @Nullable Path tlsKey, @Nullable Path tlsClientCa, @Nullable Integer healthPort,
        @Nullable String metricsAddress) {
      this(models, grpcPort, maxMessageBytes, pollIntervalMillis, shutdownGraceMillis, batching, metricsPort,
          databaseUrl, dataDir, grpcAddress, auth, tlsCert, tlsKey, tlsClientCa, healthPort, metricsAddress, null);
    }

    Overrides(@Nullable Path models, @Nullable Integer grpcPort, @Nullable Long maxMessageBytes,
        @Nullable Long pollIntervalMillis, @Nullable Long shutdownGraceMillis, @Nullable Boolean batching,
        @Nullable Integer metricsPort, @Nullable String databaseUrl, @Nullable Path dataDir) {
      this(models, grpcPort, maxMessageBytes, pollIntervalMillis, shutdownGraceMillis, batching, metricsPort,
          databaseUrl, dataDir, null, null, null, null, null, null, null, null);
    }

    Overrides(@Nullable Path models, @Nullable Integer grpcPort, @Nullable Long maxMessageBytes,
        @Nullable Long pollIntervalMillis, @Nullable Long shutdownGraceMillis, @Nullable Boolean batching,
        @Nullable Integer metricsPort) {
      this(models, grpcPort, maxMessageBytes, pollIntervalMillis, shutdownGraceMillis, batching, metricsPort, null, null);
    }

    Overrides(@Nullable Path models, @Nullable Integer grpcPort, @Nullable Long maxMessageBytes,
        @Nullable Long pollIntervalMillis, @Nullable Long shutdownGraceMillis, @Nullable Boolean batching) {
      this(models, grpcPort, maxMessageBytes, pollIntervalMillis, shutdownGraceMillis, batching, null);
    }
  }

  static Settings load(@Nullable Path configFile, Map<String, String> env, Overrides flags) {
    ServerConfig.Builder config = ServerConfig.newBuilder();
    if (configFile == null && env.containsKey("JOINTSPACE_CONFIG")) {
      configFile = Path.of(env.get("JOINTSPACE_CONFIG"));
    }
    if (configFile != null) {
      try {
        TextFormat.getParser().merge(Files.readString(configFile, StandardCharsets.UTF_8), config);
      } catch (TextFormat.ParseException e) {
        throw new Settings.ConfigException("config file " + configFile + " is not a valid ServerConfig: " + e.getMessage());
      } catch (IOException e) {
        throw new Settings.ConfigException("cannot read config file " + configFile + ": " + e);
      }
    }
    if (env.containsKey("JOINTSPACE_MODELS")) {
      config.getModelRepositoryBuilder().setBasePath(env.get("JOINTSPACE_MODELS"));
    }
    if (env.containsKey("JOINTSPACE_GRPC_PORT")) {
      config.setGrpcPort(parseInt(env.get("JOINTSPACE_GRPC_PORT"), "JOINTSPACE_GRPC_PORT"));
    }
    if (env.containsKey("JOINTSPACE_METRICS_PORT")) {
      config.setMetricsPort(parseInt(env.get("JOINTSPACE_METRICS_PORT"), "JOINTSPACE_METRICS_PORT"));
    }
    if (env.containsKey("JOINTSPACE_HTTP_PORT")) {
      config.setHttpPort(parseInt(env.get("JOINTSPACE_HTTP_PORT"), "JOINTSPACE_HTTP_PORT"));
    }
    if (env.containsKey("JOINTSPACE_MAX_MESSAGE_BYTES")) {
      config.setMaxInboundMessageBytes(parseLong(env.get("JOINTSPACE_MAX_MESSAGE_BYTES"), "JOINTSPACE_MAX_MESSAGE_BYTES"));
    }
    if (env.containsKey("JOINTSPACE_POLL_INTERVAL_MS")) {
      config.getModelRepositoryBuilder().setPollIntervalMs(parseLong(env.get("JOINTSPACE_POLL_INTERVAL_MS"), "JOINTSPACE_POLL_INTERVAL_MS"));
    }
    if (env.containsKey("JOINTSPACE_BATCHING")) {
      config.getBatchingBuilder().setEnabled(parseOnOff(env.get("JOINTSPACE_BATCHING"), "JOINTSPACE_BATCHING"));
    }
    if (env.containsKey("JOINTSPACE_WARMUP")) {
      config.getWarmupBuilder().setEnabled(parseOnOff(env.get("JOINTSPACE_WARMUP"), "JOINTSPACE_WARMUP"));
    }
    if (env.containsKey("JOINTSPACE_DATABASE_URL")) {
      config.getStorageBuilder().setDatabaseUrl(env.get("JOINTSPACE_DATABASE_URL"));
    }
    if (env.containsKey("JOINTSPACE_DATABASE_READ_URLS")) {
      config.getStorageBuilder().clearDatabaseReadUrls()
          .addAllDatabaseReadUrls(splitUrls(env.get("JOINTSPACE_DATABASE_READ_URLS")));
    }
    if (env.containsKey("JOINTSPACE_DATA_DIR")) {
      config.getStorageBuilder().setDataDir(env.get("JOINTSPACE_DATA_DIR"));
    }
    if (env.containsKey("JOINTSPACE_GRPC_ADDRESS")) {
      config.setGrpcAddress(env.get("JOINTSPACE_GRPC_ADDRESS"));
    }
    if (env.containsKey("JOINTSPACE_AUTH")) {
      config.setAuth(parseAuth(env.get("JOINTSPACE_AUTH"), "JOINTSPACE_AUTH"));
    }
    if (flags.grpcAddress() != null) {
      config.setGrpcAddress(flags.grpcAddress());
    }
    if (flags.auth() != null) {
      config.setAuth(flags.auth());
    }
    if (env.containsKey("JOINTSPACE_METRICS_ADDRESS")) {
      config.setMetricsAddress(env.get("JOINTSPACE_METRICS_ADDRESS"));
    }
    if (env.containsKey("JOINTSPACE_HEALTH_PORT")) {
      config.setHealthPort(parseInt(env.get("JOINTSPACE_HEALTH_PORT"), "JOINTSPACE_HEALTH_PORT"));
    }
    if (env.containsKey("JOINTSPACE_TLS_CERT")) {
      config.getTlsBuilder().setCertFile(env.get("JOINTSPACE_TLS_CERT"));
    }
    if (env.containsKey("JOINTSPACE_TLS_KEY")) {
      config.getTlsBuilder().setKeyFile(env.get("JOINTSPACE_TLS_KEY"));
    }
    if (env.containsKey("JOINTSPACE_TLS_CLIENT_CA")) {
      config.getTlsBuilder().setClientCaFile(env.get("JOINTSPACE_TLS_CLIENT_CA"));
    }
    if (flags.databaseUrl() != null) {
      config.getStorageBuilder().setDatabaseUrl(flags.databaseUrl());
    }
    if (flags.databaseReadUrls() != null && !flags.databaseReadUrls().isEmpty()) {
      // the flags replace the file's and the environment's list, as a single-valued flag would
      config.getStorageBuilder().clearDatabaseReadUrls().addAllDatabaseReadUrls(flags.databaseReadUrls());
    }
    if (flags.dataDir() != null) {
      config.getStorageBuilder().setDataDir(flags.dataDir().toString());
    }
    if (flags.models() != null) {
      config.getModelRepositoryBuilder().setBasePath(flags.models().toString());
    }
    if (flags.grpcPort() != null) {
      config.setGrpcPort(flags.grpcPort());
    }
    if (flags.metricsPort() != null) {
      config.setMetricsPort(flags.metricsPort());
    }
    if (flags.httpPort() != null) {
      config.setHttpPort(flags.httpPort());
    }
    if (flags.maxMessageBytes() != null) {
      config.setMaxInboundMessageBytes(flags.maxMessageBytes());
    }
    if (flags.pollIntervalMillis() != null) {
      config.getModelRepositoryBuilder().setPollIntervalMs(flags.pollIntervalMillis());
    }
    if (flags.shutdownGraceMillis() != null) {
      config.setShutdownGraceMs(flags.shutdownGraceMillis());
    }
    if (flags.batching() != null) {
      config.getBatchingBuilder().setEnabled(flags.batching());
    }
    if (flags.metricsAddress() != null) {
      config.setMetricsAddress(flags.metricsAddress());
    }
    if (flags.healthPort() != null) {
      config.setHealthPort(flags.healthPort());
    }
    if (flags.tlsCert() != null) {
      config.getTlsBuilder().setCertFile(flags.tlsCert().toString());
    }
    if (flags.tlsKey() != null) {
      config.getTlsBuilder().setKeyFile(flags.tlsKey().toString());
    }
    if (flags.tlsClientCa() != null) {
      config.getTlsBuilder().setClientCaFile(flags.tlsClientCa().toString());
    }
    return Settings.of(config.build());
  }

  static io.jointspace.config.v1.AuthMode parseAuth(String value, String name) {
    return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "on", "true" -> io.jointspace.config.v1.AuthMode.AUTH_ON;
      case "off", "false" -> io.jointspace.config.v1.AuthMode.AUTH_OFF;
      case "auto", "" -> io.jointspace.config.v1.AuthMode.AUTH_AUTO;
      default -> throw new Settings.ConfigException(name + " must be on, off or auto, got '" + value + "'");
    };
  }

  /** URLs separated by whitespace (a JDBC URL may hold commas: several hosts). */
  static List<String> splitUrls(String value) {
    return java.util.Arrays.stream(value.trim().split("\\s+")).filter(u -> !u.isEmpty()).toList();
  }

  private static boolean parseOnOff(String value, String name) {
    return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "on", "true" -> true;
      case "off", "false" -> false;
      default -> throw new Settings.ConfigException(name + " must be on or off, got '" + value + "'");
    };
  }

  private static int parseInt(String value, String name) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new Settings.ConfigException(name + " must be an integer, got '" + value + "'");
    }
  }

  private static long parseLong(String value, String name) {
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new Settings.ConfigException(name + " must be an integer, got '" + value + "'");
    }
  }
}
