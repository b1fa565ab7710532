package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jointspace.api.v1.CollectionServiceGrpc;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.GetCollectionRequest;
import io.jointspace.api.v1.GetModelStatusRequest;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.server.LogCapture;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a client is told when the server cannot serve: a short reason and a correlation id,
 * never the database's address and user, raw database messages or the server's file paths;
 * the details go to the server log under the same id.
 */
class ErrorDetailsTest {
  static final Pattern ID = Pattern.compile("id ([0-9a-f-]{36})");

  @TempDir Path repo;

  /** The correlation id in {@code description}, and the log line that carries it. */
  static String logLineOf(String description, List<String> log) {
    Matcher m = ID.matcher(description);
    assertThat(m.find()).as("a correlation id in: " + description).isTrue();
    String id = m.group(1);
    return log.stream().filter(line -> line.contains(id)).findFirst()
        .orElseThrow(() -> new AssertionError("no log line with id " + id + " in " + log));
  }

  @Test
  void unreachableDatabase_isUnavailable_withoutItsAddressOrUser() throws Exception {
    int port = ServerFixture.freePort(); // nothing listens there
    String url = "postgresql://secretuser@127.0.0.1:" + port + "/secretdb";
    ServerConfig.Builder config = ServerConfig.newBuilder();
    config.getStorageBuilder().setDatabaseUrl(url).setConnectionTimeoutMs(500);
    try (ServerFixture fixture = ServerFixture.start(config, repo);
        LogCapture log = LogCapture.of(StatusMapper.class, Level.INFO)) {
      var stub = CollectionServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      assertThatThrownBy(() -> stub.getCollection(GetCollectionRequest.newBuilder().setName("anything").build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            String description = e.getStatus().getDescription();
            assertThat(e.getStatus().getCode()).as(description).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(description).contains("database")
                .doesNotContain("secretuser").doesNotContain("secretdb").doesNotContain(Integer.toString(port))
                .doesNotContain("127.0.0.1").doesNotContain("Connection");
            assertThat(logLineOf(description, log.messages())).contains(Integer.toString(port));
          });
    }
  }

  @Test
  void versionThatFailedToLoad_isUnavailable_withoutTheServersPaths() throws Exception {
    TestModels.writeBroken(repo.resolve("broken/1"));
    String base = repo.toAbsolutePath().toString();
    try (ServerFixture fixture = ServerFixture.start(repo);
        LogCapture log = LogCapture.of(StatusMapper.class, Level.INFO)) {
      ModelSpec pinned = ModelSpec.newBuilder().setName("broken").setVersion(1).build();
      assertThatThrownBy(() -> EmbeddingServiceGrpc.newBlockingStub(fixture.channel)
              .withDeadlineAfter(30, TimeUnit.SECONDS)
              .embed(EmbedRequest.newBuilder().setModel(pinned).addInputs(EmbeddingServiceTest.row(1, 2, 3, 4)).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            String description = e.getStatus().getDescription();
            assertThat(e.getStatus().getCode()).as(description).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(description).contains("broken@1").contains("ERROR").doesNotContain(base);
            assertThat(logLineOf(description, log.messages())).contains("broken@1");
          });
      // the model's status names the failure, with paths inside the repository only
      String lastError = ModelServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
          .getModelStatus(GetModelStatusRequest.newBuilder().setName("broken").build())
          .getVersions(0).getLastError();
      assertThat(lastError).isNotEmpty().doesNotContain(base);
    }
  }
}
