package io.jointspace.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The gRPC service config that retries the calls that can be repeated without harm on
 * UNAVAILABLE and RESOURCE_EXHAUSTED, with exponential backoff (0.2 s, doubling, at most 5 s,
 * with gRPC's jitter). Creating, starting and switching things are left out: a retry after a
 * lost answer could do them twice.
 */
final class RetryPolicy {
  private RetryPolicy() {}

  /** Methods that read, or write by id (the same write twice leaves the same state). */
  static final Map<String, List<String>> REPEATABLE = Map.of(
      "jointspace.v1.EmbeddingService", List.of("Embed", "Classify", "Score"),
      "jointspace.v1.ModelService", List.of("ListModels", "GetModelStatus", "GetModelMetadata", "ListLabelHistory"),
      "jointspace.v1.CollectionService", List.of("GetCollection", "ListCollections", "Get", "Search", "Upsert",
          "Delete"),
      "jointspace.v1.RolloutService", List.of("GetRollout", "ListRollouts"),
      "inference.GRPCInferenceService", List.of("ServerLive", "ServerReady", "ModelReady", "ServerMetadata",
          "ModelMetadata", "ModelInfer"));

  static Map<String, Object> serviceConfig(int maxAttempts) {
    List<Object> names = new ArrayList<>();
    REPEATABLE.forEach((service, methods) -> methods.forEach(m -> names.add(Map.of("service", service, "method", m))));
    Map<String, Object> retry = Map.of(
        "maxAttempts", (double) maxAttempts,
        "initialBackoff", "0.2s",
        "maxBackoff", "5s",
        "backoffMultiplier", 2.0,
        "retryableStatusCodes", List.of("UNAVAILABLE", "RESOURCE_EXHAUSTED"));
    return Map.of("methodConfig", List.of(Map.of("name", names, "retryPolicy", retry)));
  }
}
