package io.jointspace.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.util.concurrent.Executor;

/**
 * Sends an API key with every call as {@code authorization: Bearer <key>}, as a server with
 * keys required expects (see KeyService). Made by {@link JointspaceClient.Builder#apiKey};
 * usable on any stub: {@code stub.withCallCredentials(new ApiKeyCredentials(key))}.
 */
public final class ApiKeyCredentials extends CallCredentials {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final String key;

  public ApiKeyCredentials(String key) {
    if (key == null || key.isBlank()) {
      throw new IllegalArgumentException("the API key is empty");
    }
    this.key = key.strip();
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + key);
    applier.apply(headers);
  }

  @Override
  public String toString() {
    return "ApiKeyCredentials[" + (key.length() > 19 ? key.substring(0, 19) + "_..." : "...") + "]";
  }
}
