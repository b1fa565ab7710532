package io.jointspace.server;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.jointspace.config.v1.ServerConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real server on a loopback port over a model repository folder, with a plaintext channel
 * to it. Polling is off: tests call {@link JointspaceServer#rescan()} to make the server see
 * repository changes at once.
 */
public final class ServerFixture implements AutoCloseable {
  public final JointspaceServer server;
  public final ManagedChannel channel;

  private ServerFixture(JointspaceServer server, ManagedChannel channel) {
    this.server = server;
    this.channel = channel;
  }

  public static ServerFixture start(Path repository) throws Exception {
    return start(ServerConfig.newBuilder(), repository);
  }

  /**
   * Starts with {@code config}, filling in the repository, a free port and no polling; the
   * metrics endpoint and the HTTP port are off unless {@code config} sets their ports.
   */
  public static ServerFixture start(ServerConfig.Builder config, Path repository) throws Exception {
    config.getModelRepositoryBuilder().setBasePath(repository.toString());
    if (config.getModelRepository().getPollIntervalMs() == 0) {
      config.getModelRepositoryBuilder().setPollIntervalMs(-1);
    }
    if (config.getGrpcPort() == 0) {
      config.setGrpcPort(freePort());
    }
    if (config.getMetricsPort() == 0) {
      config.setMetricsPort(-1); // no metrics endpoint unless the test asks for one
    }
    if (config.getHttpPort() == 0) {
      config.setHttpPort(-1); // nor an HTTP port: tests would fight over 8501
    }
    JointspaceServer server = new JointspaceServer(Settings.of(config.build())).start();
    ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port())
        .usePlaintext()
        .maxInboundMessageSize(256 << 20)
        .build();
    return new ServerFixture(server, channel);
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.stop();
  }
}
