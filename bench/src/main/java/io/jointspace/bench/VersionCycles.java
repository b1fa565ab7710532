package io.jointspace.bench;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.DeleteVersionRequest;
import io.jointspace.api.v1.GetModelStatusRequest;
import io.jointspace.api.v1.GetModelStatusResponse;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.ModelVersionStatus;
import io.jointspace.api.v1.UploadHeader;
import io.jointspace.api.v1.UploadVersionRequest;
import io.jointspace.api.v1.UploadVersionResponse;
import io.grpc.ManagedChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Load/unload cycles of a model version through ModelService: UploadVersion of a zip of a
 * version folder as a new version number, until it is AVAILABLE; DeleteVersion, until it is
 * gone. With the default version policy (latest 1), each upload also unloads the version
 * that was served, and each delete loads it again.
 */
final class VersionCycles {
  private final ManagedChannel channel;
  private final String model;
  private final byte[] zip;

  VersionCycles(ManagedChannel channel, String model, Path versionDir) throws IOException {
    this.channel = channel;
    this.model = model;
    this.zip = zip(versionDir);
  }

  private static byte[] zip(Path dir) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream out = new ZipOutputStream(bytes); Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
        out.putNextEntry(new ZipEntry(dir.relativize(p).toString().replace('\\', '/')));
        out.write(Files.readAllBytes(p));
        out.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  /** Uploads {@code version}, waits until AVAILABLE, deletes it, waits until it is unloaded. */
  void cycle(long version) throws Exception {
    CompletableFuture<UploadVersionResponse> done = new CompletableFuture<>();
    StreamObserver<UploadVersionRequest> up = ModelServiceGrpc.newStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
        .uploadVersion(new StreamObserver<>() {
          @Override
          public void onNext(UploadVersionResponse r) {
            done.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    up.onNext(UploadVersionRequest.newBuilder().setHeader(UploadHeader.newBuilder().setModel(model).setVersion(version)
        .setUploadedBy("bench")).build());
    up.onNext(UploadVersionRequest.newBuilder().setChunk(ByteString.copyFrom(zip)).build());
    up.onCompleted();
    done.get(60, TimeUnit.SECONDS);
    await(version, true);
    ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
        .deleteVersion(DeleteVersionRequest.newBuilder().setModel(model).setVersion(version).build());
    await(version, false);
  }

  /** Until {@code version} is AVAILABLE ({@code available}), or unloaded (END or gone). */
  private void await(long version, boolean available) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < until) {
      GetModelStatusResponse s = ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .getModelStatus(GetModelStatusRequest.newBuilder().setName(model).build());
      ModelVersionStatus v = s.getVersionsList().stream().filter(x -> x.getVersion() == version).findFirst()
          .orElse(null);
      String state = v == null ? "" : v.getState().name();
      if (available ? state.equals("AVAILABLE") : v == null || state.equals("END")) {
        return;
      }
      if (state.equals("ERROR")) {
        throw new IllegalStateException("version " + version + " ERROR: " + v);
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("version " + version + (available ? " not AVAILABLE" : " not unloaded")
        + " within 60 s");
  }
}
