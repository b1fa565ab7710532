package io.jointspace.server;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.annotation.Nullable;

/**
 * Start-up checks that fail in milliseconds, run before anything slow (the private
 * database, loading models), so a mistake is reported at once and changes nothing.
 */
final class Preflight {
  private Preflight() {}

  /**
   * The model repository must be a readable folder.
   *
   * @throws Settings.ConfigException naming the folder and the flag that sets it
   */
  static void checkRepository(Path repository) {
    if (!Files.exists(repository)) {
      throw new Settings.ConfigException("the model repository " + repository
          + " does not exist; pass --models DIR (or JOINTSPACE_MODELS, model_repository.base_path)");
    }
    if (!Files.isDirectory(repository)) {
      throw new Settings.ConfigException("the model repository " + repository + " is not a folder; pass --models DIR");
    }
    if (!Files.isReadable(repository) || !Files.isExecutable(repository)) {
      throw new Settings.ConfigException("the model repository " + repository + " cannot be read by this user");
    }
  }

  /**
   * The gRPC port must be free on {@code address} (0 picks a free one, so it always is).
   *
   * @throws IOException naming the port and the flag that picks another
   */
  static void checkPortFree(String address, int port) throws IOException {
    if (!isFree(address, port)) {
      throw portInUse(port, null);
    }
  }

  /** The health port ({@code --health-port}) must be free (on every interface, where it listens). */
  static void checkHealthPortFree(int port) throws IOException {
    if (!isFree(null, port)) {
      throw healthPortInUse(port, null);
    }
  }

  /** The HTTP port ({@code --http-port}) must be free on the gRPC address, where it listens. */
  static void checkHttpPortFree(String address, int port) throws IOException {
    if (port > 0 && !isFree(address, port)) {
      throw httpPortInUse(port, null);
    }
  }

  private static boolean isFree(@Nullable String address, int port) throws IOException {
    if (port == 0) {
      return true;
    }
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true); // as the gRPC server binds: a port in TIME_WAIT is free
      socket.bind(address == null ? new InetSocketAddress(port) : new InetSocketAddress(address, port));
      return true;
    } catch (BindException e) {
      return false;
    }
  }

  /**
   * Authentication needs the database that keeps the keys.
   *
   * @throws Settings.ConfigException saying why, in one line
   */
  static void checkAuthHasDatabase(Settings settings) {
    if (settings.authRequired() && settings.database() == null) {
      throw new Settings.ConfigException("API keys are required (the gRPC address " + settings.grpcAddress()
          + (Settings.isLoopback(settings.grpcAddress()) ? " with --auth on" : " is not loopback")
          + ") but there is no database to keep them: pass --database-url, or --insecure-no-auth to serve without keys");
    }
  }

  static IOException portInUse(int port, @Nullable Exception cause) {
    return new IOException("gRPC port " + port + " is in use (another server?); pick another with --grpc-port N"
        + " (or JOINTSPACE_GRPC_PORT, grpc_port)", cause);
  }

  static IOException httpPortInUse(int port, @Nullable Exception cause) {
    return new IOException("HTTP port " + port + " is in use (another server?); pick another with --http-port N, or"
        + " turn it off with --http-port -1 (or JOINTSPACE_HTTP_PORT, http_port)", cause);
  }

  static IOException healthPortInUse(int port, @Nullable Exception cause) {
    return new IOException("health port " + port + " is in use (another server?); pick another with --health-port N"
        + " (or JOINTSPACE_HEALTH_PORT, health_port)", cause);
  }
}
