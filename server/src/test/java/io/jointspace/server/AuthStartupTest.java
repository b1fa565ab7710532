package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.jointspace.api.v1.KeyServiceGrpc;
import io.jointspace.api.v1.ListKeysRequest;
import io.jointspace.api.v1.ListKeysResponse;
import io.jointspace.config.v1.AuthMode;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.TestDatabase;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When API keys are required: the listening address decides by default, the flags and
 * environment override it, a server that needs keys refuses to start without a database to
 * keep them, and {@code jointspace keys bootstrap} makes the first admin key.
 */
class AuthStartupTest {
  @TempDir Path temp;

  static Settings settings(String address, AuthMode mode) {
    return Settings.of(ServerConfig.newBuilder().setGrpcAddress(address).setAuth(mode).build());
  }

  @Test
  void byDefault_loopbackOnlyAndNoKeys_anyOtherAddressNeedsKeys() {
    Settings defaults = Settings.of(ServerConfig.getDefaultInstance());
    assertThat(defaults.grpcAddress()).isEqualTo("127.0.0.1");
    assertThat(defaults.authRequired()).isFalse();
    for (String loopback : new String[] {"127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"}) {
      assertThat(settings(loopback, AuthMode.AUTH_AUTO).authRequired()).as(loopback).isFalse();
    }
    for (String wide : new String[] {"0.0.0.0", "::"}) {
      assertThat(settings(wide, AuthMode.AUTH_AUTO).authRequired()).as(wide).isTrue();
      assertThat(settings(wide, AuthMode.AUTH_OFF).authRequired()).as(wide).isFalse();
    }
    assertThat(settings("127.0.0.1", AuthMode.AUTH_ON).authRequired()).isTrue();
  }

  @Test
  void environmentAndFlags_setAddressAndAuth_flagsWin() {
    Settings fromEnv = ConfigLoader.load(null, Map.of("JOINTSPACE_GRPC_ADDRESS", "0.0.0.0", "JOINTSPACE_AUTH", "off"),
        new ConfigLoader.Overrides(null, null, null, null, null, null));
    assertThat(fromEnv.grpcAddress()).isEqualTo("0.0.0.0");
    assertThat(fromEnv.authRequired()).isFalse();
    Settings flags = ConfigLoader.load(null, Map.of("JOINTSPACE_AUTH", "off"), new ConfigLoader.Overrides(null, null,
        null, null, null, null, null, null, null, "127.0.0.1", AuthMode.AUTH_ON, null, null, null, null, null));
    assertThat(flags.authRequired()).isTrue();
    assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("JOINTSPACE_AUTH", "maybe"),
        new ConfigLoader.Overrides(null, null, null, null, null, null)))
        .hasMessage("JOINTSPACE_AUTH must be on, off or auto, got 'maybe'");
  }

  @Test
  void nonLoopbackAddress_withoutDatabase_refusesToStart_inOneLine() throws Exception {
    ServerConfig.Builder config = ServerConfig.newBuilder().setGrpcAddress("0.0.0.0")
        .setGrpcPort(ServerFixture.freePort()).setMetricsPort(-1);
    config.getModelRepositoryBuilder().setBasePath(temp.toString()).setPollIntervalMs(-1);
    JointspaceServer server = new JointspaceServer(Settings.of(config.build()));
    try {
      assertThatThrownBy(server::start).isInstanceOf(Settings.ConfigException.class)
          .hasMessage("API keys are required (the gRPC address 0.0.0.0 is not loopback) but there is no database"
              + " to keep them: pass --database-url, or --insecure-no-auth to serve without keys");
    } finally {
      server.stop();
    }
  }

  @Test
  void insecureNoAuth_contradictingAuthOn_isABadCommandLine() {
    MainTest.Run r = MainTest.run("serve", "--models", temp.toString(), "--insecure-no-auth", "--auth", "on");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("jointspace: --insecure-no-auth and --auth on contradict each other");
  }

  @Test
  void bootstrap_printsAnAdminKeyOnce_thatAServerWithKeysTakes() throws Exception {
    DatabaseUrl db = TestDatabase.fresh();
    String url = TestDatabase.configUrl(db);
    MainTest.Run r = MainTest.run("keys", "bootstrap", "--database-url", url, "--name", "ops");
    assertThat(r.code()).as(r.err()).isZero();
    String key = r.out().strip();
    assertThat(key).matches("js_[0-9a-f]{16}_[A-Za-z0-9_-]{43}");
    assertThat(r.err()).contains("admin").doesNotContain(key);

    ServerConfig.Builder config = ServerConfig.newBuilder().setAuth(AuthMode.AUTH_ON);
    config.getStorageBuilder().setDatabaseUrl(url);
    try (ServerFixture fixture = ServerFixture.start(config, temp)) {
      KeyServiceGrpc.KeyServiceBlockingStub anonymous = KeyServiceGrpc.newBlockingStub(fixture.channel);
      assertThatThrownBy(() -> anonymous.listKeys(ListKeysRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      Metadata headers = new Metadata();
      headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
      ListKeysResponse keys = anonymous.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
          .listKeys(ListKeysRequest.getDefaultInstance());
      assertThat(keys.getKeysList()).singleElement().satisfies(k -> {
        assertThat(k.getName()).isEqualTo("ops");
        assertThat(k.getScopesList()).containsExactly("admin");
        assertThat(k.getCreatedBy()).isEqualTo("bootstrap");
      });
    }
  }

  @Test
  void bootstrap_withABadScope_failsWithExitCode2() throws Exception {
    DatabaseUrl db = TestDatabase.fresh();
    MainTest.Run r = MainTest.run("keys", "bootstrap", "--database-url", TestDatabase.configUrl(db),
        "--scope", "everything");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("unknown scope 'everything'");
    assertThat(r.out()).isEmpty();
  }
}
