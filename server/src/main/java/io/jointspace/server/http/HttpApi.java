package io.jointspace.server.http;

/**
 * One HTTP API of the HTTP port: it adds its routes to the {@link Routes} table, and each
 * route makes calls of the gRPC services through the {@link Gateway}. KServe v2 REST
 * ({@link KServeRest}), the jointspace.v1 services as JSON ({@link JointspaceJson}) and
 * {@code /metrics} ({@link MetricsRoute}) are the ones today; TF Serving's REST API
 * ({@code /v1/models/...} onto {@code tensorflow.serving.PredictionService}) is the next,
 * as one more class beside them, added in {@link HttpPort#routes}.
 */
interface HttpApi {
  void register(Routes routes);
}
