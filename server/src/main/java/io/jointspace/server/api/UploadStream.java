package io.jointspace.server.api;

import io.grpc.stub.StreamObserver;
import io.jointspace.api.v1.UploadHeader;
import io.jointspace.api.v1.UploadVersionRequest;
import io.jointspace.api.v1.UploadVersionResponse;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.errors.OverloadedException;
import io.jointspace.server.uploads.VersionUploads;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import javax.annotation.Nullable;

/**
 * One UploadVersion call: the header first, then chunks written to a temporary file as they
 * arrive (refused once over {@code max_upload_bytes}); at the end the file goes to
 * {@link VersionUploads}. Answers exactly once; the temporary file goes on every path.
 */
final class UploadStream implements StreamObserver<UploadVersionRequest> {
  private final VersionUploads uploads;
  private final StreamObserver<UploadVersionResponse> observer;
  private final UnaryOperator<String> uploadedBy;

  UploadStream(VersionUploads uploads, StreamObserver<UploadVersionResponse> observer,
      UnaryOperator<String> uploadedBy) {
    this.uploads = uploads;
    this.observer = observer;
    this.uploadedBy = uploadedBy;
  }

  @Nullable private UploadHeader header;
  @Nullable private Path file;
  @Nullable private OutputStream out;
  private long size;
  private boolean ended;

  @Override
  public void onNext(UploadVersionRequest part) {
    if (ended) {
      return;
    }
    try {
      if (header == null) {
        if (!part.hasHeader()) {
          throw new InvalidInputException("header: the first message must be the header (model, version)");
        }
        UploadHeader h = part.getHeader();
        VersionUploads.checkModelName(h.getModel(), "header.model");
        if (h.getVersion() <= 0 || h.getVersion() > 999_999_999_999_999_999L) {
          throw new InvalidInputException("header.version must be positive with at most 18 digits (a folder"
              + " name the repository reads), got " + h.getVersion());
        }
        header = h;
        file = Files.createTempFile("jointspace-upload", ".zip");
        out = Files.newOutputStream(file);
      } else {
        if (part.hasHeader()) {
          throw new InvalidInputException("header: sent twice; send it first, then only chunks");
        }
        size += part.getChunk().size();
        if (size > uploads.maxBytes()) {
          throw new OverloadedException("the archive is over max_upload_bytes (" + uploads.maxBytes()
              + " bytes); refused", "upload", 0, (int) Math.min(uploads.maxBytes(), Integer.MAX_VALUE),
              (int) Math.min(size, Integer.MAX_VALUE), null);
        }
        part.getChunk().writeTo(out);
      }
    } catch (IOException | RuntimeException e) {
      fail(e);
    }
  }

  @Override
  public void onError(Throwable t) {
    ended = true;
    cleanUp();
  }

  @Override
  public void onCompleted() {
    if (ended) {
      return;
    }
    ended = true;
    try {
      if (header == null) {
        throw new InvalidInputException("header: no header was sent");
      }
      out.close();
      VersionUploads.Added added = uploads.upload(header.getModel(), header.getVersion(), file,
          uploadedBy.apply(header.getUploadedBy()));
      observer.onNext(UploadVersionResponse.newBuilder().setModel(added.model()).setVersion(added.version())
          .setArchiveBytes(added.archiveBytes()).setFiles(added.files()).build());
      observer.onCompleted();
    } catch (IOException | RuntimeException e) {
      observer.onError(StatusMapper.toStatus(e));
    } finally {
      cleanUp();
    }
  }

  private void fail(Exception e) {
    ended = true;
    cleanUp();
    observer.onError(StatusMapper.toStatus(e));
  }

  private void cleanUp() {
    try {
      if (out != null) {
        out.close();
      }
      if (file != null) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      // a temporary file left behind
    }
  }
}
