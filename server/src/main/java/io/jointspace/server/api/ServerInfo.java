package io.jointspace.server.api;

/** The server's name and version, as packaged. */
public final class ServerInfo {
  private ServerInfo() {}

  public static String version() {
    String v = ServerInfo.class.getPackage().getImplementationVersion();
    return v == null ? "0.1.0-SNAPSHOT" : v;
  }
}
