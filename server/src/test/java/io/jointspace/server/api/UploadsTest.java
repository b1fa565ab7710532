package io.jointspace.server.api;

import static io.jointspace.server.api.EmbeddingServiceTest.assertStatus;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.jointspace.api.v1.DeleteVersionRequest;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.UploadHeader;
import io.jointspace.api.v1.UploadVersionRequest;
import io.jointspace.api.v1.UploadVersionResponse;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.registry.ModelState;
import io.jointspace.registry.ServableId;
import io.jointspace.server.Recorder;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import io.jointspace.server.store.DatabaseUrl;
import io.jointspace.server.store.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * UploadVersion and DeleteVersion over gRPC: two servers with repositories of their own share
 * one PostgreSQL, and a version uploaded to one is written and served by both, then retired by
 * both; bad archives are refused before anything is written.
 */
class UploadsTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  @TempDir static Path models;
  static byte[] version2;
  private final List<ServerFixture> servers = new ArrayList<>();

  @BeforeAll
  static void makeArchive() throws Exception {
    TestModels.writeEncoder(models.resolve("made/2"), 2f);
    version2 = zip(models.resolve("made/2"));
  }

  @AfterEach
  void stop() throws Exception {
    for (ServerFixture f : servers) {
      f.close();
    }
  }

  /** A zip of the contents of {@code dir}. */
  static byte[] zip(Path dir) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes); Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        zip.putNextEntry(new ZipEntry(dir.relativize(f).toString().replace('\\', '/')));
        zip.write(Files.readAllBytes(f));
        zip.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  static byte[] zipOf(String name, byte[] content) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("saved_model.pb"));
      zip.write(new byte[] {1});
      zip.closeEntry();
      zip.putNextEntry(new ZipEntry(name));
      zip.write(content);
      zip.closeEntry();
    }
    return bytes.toByteArray();
  }

  ServerFixture server(Path repo, DatabaseUrl db, long maxUploadBytes) throws Exception {
    TestModels.writeEncoder(repo.resolve("encoder/1"), 1f);
    ServerConfig.Builder config = ServerConfig.newBuilder().setMaxUploadBytes(maxUploadBytes);
    if (db != null) {
      config.getStorageBuilder().setDatabaseUrl(TestDatabase.configUrl(db));
    }
    ServerFixture f = ServerFixture.start(config, repo);
    servers.add(f);
    return f;
  }

  /** Streams {@code archive} in 4 KiB chunks; the response, or the error. */
  static Recorder<UploadVersionResponse> upload(ServerFixture f, String model, long version, byte[] archive)
      throws Exception {
    Recorder<UploadVersionResponse> done = new Recorder<>();
    var stream = ModelServiceGrpc.newStub(f.channel).withDeadlineAfter(60, TimeUnit.SECONDS).uploadVersion(done);
    stream.onNext(UploadVersionRequest.newBuilder().setHeader(UploadHeader.newBuilder().setModel(model)
        .setVersion(version).setUploadedBy("ci")).build());
    for (int at = 0; at < archive.length; at += 4096) {
      stream.onNext(UploadVersionRequest.newBuilder()
          .setChunk(ByteString.copyFrom(archive, at, Math.min(4096, archive.length - at))).build());
    }
    stream.onCompleted();
    done.ended().get(60, TimeUnit.SECONDS);
    return done;
  }

  static long versionServing(ServerFixture f, long version) {
    return EmbeddingServiceGrpc.newBlockingStub(f.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .embed(EmbeddingServiceTest.request(ModelSpec.newBuilder().setName("encoder").setVersion(version).build(),
            EmbeddingServiceTest.row(1, 2, 3, 4))).getModel().getVersion();
  }

  static List<String> listing(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void versionUploadedToOneServer_isServedByBoth_andRetiredFromBoth(@TempDir Path repoA, @TempDir Path repoB)
      throws Exception {
    DatabaseUrl db = TestDatabase.fresh();
    ServerFixture a = server(repoA, db, 0);
    ServerFixture b = server(repoB, db, 0);
    Recorder<UploadVersionResponse> done = upload(a, "encoder", 2, version2);
    assertThat(done.ended().get()).isNull();
    assertThat(done.values()).singleElement().satisfies(r -> {
      assertThat(r.getArchiveBytes()).isEqualTo(version2.length);
      assertThat(r.getFiles()).isGreaterThan(1);
    });
    ServableId v2 = new ServableId("encoder", 2);
    a.server.registry().awaitState(v2, WAIT, ModelState.AVAILABLE);
    b.server.registry().awaitState(v2, WAIT, ModelState.AVAILABLE);
    assertThat(versionServing(a, 2)).isEqualTo(2);
    assertThat(versionServing(b, 2)).isEqualTo(2);
    assertThat(listing(repoB.resolve("encoder"))).containsExactly("1", "2");

    ModelServiceGrpc.newBlockingStub(b.channel).deleteVersion(DeleteVersionRequest.newBuilder().setModel("encoder")
        .setVersion(2).build());
    b.server.registry().awaitState(v2, WAIT, ModelState.END);
    a.server.registry().awaitState(v2, WAIT, ModelState.END);
    assertThat(listing(repoA.resolve("encoder"))).containsExactly("1");
    assertThat(listing(repoB.resolve("encoder"))).containsExactly("1");
    // a retired number is not reused
    assertThat(Status.fromThrowable(upload(a, "encoder", 2, version2).ended().get()).getCode())
        .isEqualTo(Status.Code.ALREADY_EXISTS);
  }

  @Test
  void badArchives_areRefusedBeforeAnythingIsWritten(@TempDir Path repo) throws Exception {
    ServerFixture a = server(repo, TestDatabase.fresh(), 64 << 10);
    List<String> before = listing(repo.resolve("encoder"));
    record Case(byte[] archive, long version, Status.Code code, String message) {}
    List<Case> cases = List.of(
        new Case("not a zip at all".getBytes(), 3, Status.Code.INVALID_ARGUMENT, "not a zip"),
        new Case(zipWithout(), 3, Status.Code.INVALID_ARGUMENT, "no saved_model.pb"),
        new Case(zipOf("../escape.txt", new byte[] {1}), 3, Status.Code.INVALID_ARGUMENT, "leaves its folder"),
        new Case(zipOf("/etc/passwd", new byte[] {1}), 3, Status.Code.INVALID_ARGUMENT, "not a relative path"),
        new Case(new byte[100 << 10], 3, Status.Code.RESOURCE_EXHAUSTED, "max_upload_bytes"),
        new Case(zipOf("a", new byte[] {1}), 1, Status.Code.ALREADY_EXISTS, "version 1"));
    for (Case c : cases) {
      Throwable error = upload(a, "encoder", c.version(), c.archive()).ended().get();
      assertThat(error).as(c.message()).isNotNull();
      Status status = Status.fromThrowable(error);
      assertThat(status.getCode()).as(c.message()).isEqualTo(c.code());
      assertThat(status.getDescription()).contains(c.message());
      assertThat(listing(repo.resolve("encoder"))).as("after " + c.message()).isEqualTo(before);
    }
    assertThat(Files.exists(repo.resolve("escape.txt"))).isFalse();
    assertThat(Status.fromThrowable(upload(a, "../x", 3, version2).ended().get()).getCode())
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertStatus(() -> ModelServiceGrpc.newBlockingStub(a.channel).deleteVersion(DeleteVersionRequest.newBuilder()
        .setModel("encoder").setVersion(1).build()), Status.Code.FAILED_PRECONDITION, "was not uploaded");
    assertStatus(() -> ModelServiceGrpc.newBlockingStub(a.channel).deleteVersion(DeleteVersionRequest.newBuilder()
        .setModel("encoder").setVersion(7).build()), Status.Code.NOT_FOUND, "7");
  }

  static byte[] zipWithout() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("variables/variables.index"));
      zip.write(new byte[] {1});
      zip.closeEntry();
    }
    return bytes.toByteArray();
  }

  @Test
  void withoutADatabase_anUploadIsServedByThisServer(@TempDir Path repo) throws Exception {
    ServerFixture a = server(repo, null, 0);
    assertThat(upload(a, "encoder", 2, version2).ended().get()).isNull();
    a.server.registry().awaitState(new ServableId("encoder", 2), WAIT, ModelState.AVAILABLE);
    assertThat(versionServing(a, 2)).isEqualTo(2);
  }
}
