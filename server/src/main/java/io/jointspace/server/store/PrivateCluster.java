package io.jointspace.server.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private PostgreSQL + pgvector cluster in a folder of this machine, run with
 * {@code deploy/local/pg-cluster.sh}: created on the first start, started on a free loopback
 * port, stopped by {@link #close()}. A cluster left running by a killed server is reused;
 * one left crashed is recovered from its WAL by the script.
 */
public final class PrivateCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PrivateCluster.class);
  private static final long START_TIMEOUT_MINUTES = 15;

  private final Path script;
  private final Path dir;
  private final String url;

  private PrivateCluster(Path script, Path dir, String url) {
    this.script = script;
    this.dir = dir;
    this.url = url;
  }

  /**
   * Starts (creating on first use) the cluster in {@code dir}.
   *
   * @param home the project folder holding {@code deploy/local/pg-cluster.sh}
   * @throws IOException when the script is missing or fails
   */
  public static PrivateCluster start(Path home, Path dir) throws IOException, InterruptedException {
    Path script = home.resolve("deploy/local/pg-cluster.sh");
    if (!Files.isRegularFile(script)) {
      throw new IOException("no database URL was given and " + script + " is missing to run a private one;"
          + " pass --database-url");
    }
    log.info("Starting the private PostgreSQL cluster in {}", dir);
    String out = run(script, "start", dir, START_TIMEOUT_MINUTES);
    String url = out.lines().filter(l -> l.startsWith("postgresql://")).reduce((a, b) -> b)
        .orElseThrow(() -> new IOException(script + " start printed no URL: " + out));
    log.info("Private PostgreSQL cluster at {}", url);
    return new PrivateCluster(script, dir, url);
  }

  /** {@code postgresql://postgres@127.0.0.1:PORT/jointspace}. */
  public String url() {
    return url;
  }

  @Override
  public void close() {
    try {
      run(script, "stop", dir, 2);
      log.info("Stopped the private PostgreSQL cluster in {}", dir);
    } catch (IOException e) {
      log.warn("Stopping the private PostgreSQL cluster failed: {}", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String run(Path script, String command, Path dir, long timeoutMinutes)
      throws IOException, InterruptedException {
    Process p = new ProcessBuilder(List.of("bash", script.toString(), command, dir.toString()))
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (!p.waitFor(timeoutMinutes, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IOException(script + " " + command + " did not finish in " + timeoutMinutes + " min");
    }
    if (p.exitValue() != 0) {
      throw new IOException(script + " " + command + " " + dir + " failed with exit code " + p.exitValue());
    }
    return out;
  }
}
