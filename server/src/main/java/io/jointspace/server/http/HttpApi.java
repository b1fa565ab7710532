package io.jointspace.server.http;

/**
 * One HTTP API of the HTTP port: it adds its routes to the {@link Routes} table, and each
 * route makes calls of the gRPC services through the {@link Gateway}: KServe v2 REST
 * ({@link KServeRest}), TF Serving's REST API ({@link TfServingRest}), the jointspace.v1
 * services as JSON ({@link JointspaceJson}) and {@code /metrics} ({@link MetricsRoute}).
 */
interface HttpApi {
  void register(Routes routes);
}
