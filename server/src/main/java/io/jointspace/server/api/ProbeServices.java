package io.jointspace.server.api;

import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import java.util.List;

/**
 * What the plaintext health port serves ({@code health_port}): {@code grpc.health.v1.Health}
 * and, of KServe v2's {@code inference.GRPCInferenceService}, only ServerLive and ServerReady
 * (its other methods answer UNIMPLEMENTED there). Both answer from the same state as on the
 * gRPC port. Nothing on this port reads or changes models or collections, so it needs no
 * credentials: Kubernetes probes and load balancers reach it when the gRPC port requires
 * client certificates.
 */
public final class ProbeServices {
  private ProbeServices() {}

  public static List<ServerServiceDefinition> of(ModelHealth health, InferenceServiceImpl inference) {
    ServerServiceDefinition all = inference.bindService();
    ServerServiceDefinition.Builder probes = ServerServiceDefinition.builder(GRPCInferenceServiceGrpc.SERVICE_NAME);
    add(probes, all.getMethod(GRPCInferenceServiceGrpc.getServerLiveMethod().getFullMethodName()));
    add(probes, all.getMethod(GRPCInferenceServiceGrpc.getServerReadyMethod().getFullMethodName()));
    return List.of(health.manager().getHealthService().bindService(), probes.build());
  }

  private static <ReqT, RespT> void add(ServerServiceDefinition.Builder builder, ServerMethodDefinition<ReqT, RespT> m) {
    builder.addMethod(m);
  }
}
