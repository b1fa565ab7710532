package io.jointspace.server.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private PostgreSQL + pgvector cluster in a folder of this machine, run with
 * {@code deploy/local/pg-cluster.sh}: created on the first start, started on a free loopback
 * port. A cluster left running by a killed server is reused; one left crashed is recovered
 * from its WAL by the script.
 *
 * <p>Several server processes may share one folder. Each holds a shared lock on
 * {@code DIR/users.lock} while it uses the cluster; {@link #close()} stops the cluster only
 * when no other process holds that lock and a server started the cluster (the file
 * {@code DIR/started-by-server} says so; a cluster started by hand with the script is left
 * running). Starting and stopping are serialized by an exclusive lock on
 * {@code DIR/cluster.lock}, so a server that arrives while the last one stops waits, then
 * starts the cluster again. The locks are the operating system's: a killed process lets go
 * of them. One process holds at most one {@code PrivateCluster} per folder.
 *
 * <p>The cluster takes passwords only (SCRAM-SHA-256): the script keeps the password of the
 * user {@code postgres} in {@code DIR/password} (mode 0600), which {@link #databaseUrl()} reads;
 * the URL that is logged never carries it.
 */
public final class PrivateCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PrivateCluster.class);
  private static final long START_TIMEOUT_MINUTES = 15;
  static final String USERS_LOCK = "users.lock";
  static final String TRANSITION_LOCK = "cluster.lock";
  static final String STARTED_BY_SERVER = "started-by-server";
  static final String PASSWORD = "password";

  private final Path script;
  private final Path dir;
  private final String url;
  private final String password;
  @Nullable private FileChannel users;

  private PrivateCluster(Path script, Path dir, String url, String password, FileChannel users) {
    this.script = script;
    this.dir = dir;
    this.url = url;
    this.password = password;
    this.users = users;
  }

  /**
   * Starts (creating on first use) the cluster in {@code dir}, or joins it when it runs.
   *
   * @param home the project folder holding {@code deploy/local/pg-cluster.sh}
   * @throws IOException when the script is missing or fails
   */
  public static PrivateCluster start(Path home, Path dir) throws IOException, InterruptedException {
    Path script = home.resolve("deploy/local/pg-cluster.sh");
    if (!Files.isRegularFile(script)) {
      throw new IOException("no database URL was given and " + script + " is missing to run a private one;"
          + " pass --database-url or set JOINTSPACE_DATABASE_URL");
    }
    Files.createDirectories(dir);
    FileChannel users = open(dir.resolve(USERS_LOCK));
    try (FileChannel transition = open(dir.resolve(TRANSITION_LOCK));
        FileLock ignored = transition.lock()) {
      users.lock(0, Long.MAX_VALUE, true);
      boolean running = run(script, "status", dir, 1, true) != null;
      log.info(running ? "Using the private PostgreSQL cluster running in {}"
          : "Starting the private PostgreSQL cluster in {}", dir);
      String out = run(script, "start", dir, START_TIMEOUT_MINUTES, false);
      String url = out.lines().filter(l -> l.startsWith("postgresql://")).reduce((a, b) -> b)
          .orElseThrow(() -> new IOException(script + " start printed no URL: " + out));
      if (!running) {
        Files.writeString(dir.resolve(STARTED_BY_SERVER), ProcessHandle.current().pid() + "\n");
      }
      String password = readPassword(dir.resolve(PASSWORD));
      log.info("Private PostgreSQL cluster at {} (password in {})", url, dir.resolve(PASSWORD));
      return new PrivateCluster(script, dir, url, password, users);
    } catch (IOException | InterruptedException | RuntimeException e) {
      users.close();
      throw e;
    }
  }

  /** {@code postgresql://postgres@127.0.0.1:PORT/jointspace}, without the password: for logs. */
  public String url() {
    return url;
  }

  /** Where the cluster is, with the password of {@code DIR/password}: for connecting. */
  public DatabaseUrl databaseUrl() {
    DatabaseUrl parsed = DatabaseUrl.parse(url);
    return new DatabaseUrl(parsed.jdbcUrl(), parsed.user(), password);
  }

  /** The password the script wrote: a plain file (not a link), one line. */
  static String readPassword(Path file) throws IOException {
    if (!Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(file + " is missing or not a plain file; the private cluster's password is kept there");
    }
    String password = Files.readString(file, StandardCharsets.UTF_8).strip();
    if (password.isEmpty() || password.contains("\n")) {
      throw new IOException(file + " does not hold one password");
    }
    return password;
  }

  /**
   * Leaves the cluster: stops it when this is the last process using it and a server started
   * it; otherwise leaves it running. Safe to call more than once.
   */
  @Override
  public synchronized void close() {
    FileChannel mine = users;
    if (mine == null) {
      return;
    }
    users = null;
    try (FileChannel transition = open(dir.resolve(TRANSITION_LOCK));
        FileLock ignored = transition.lock();
        mine) {
      mine.close(); // lets go of this process's shared lock
      try (FileChannel check = open(dir.resolve(USERS_LOCK));
          FileLock last = check.tryLock()) {
        if (last == null) {
          log.info("The private PostgreSQL cluster in {} is still used by another server; left running", dir);
        } else if (!Files.exists(dir.resolve(STARTED_BY_SERVER))) {
          log.info("The private PostgreSQL cluster in {} was not started by a server; left running", dir);
        } else {
          run(script, "stop", dir, 2, false);
          Files.deleteIfExists(dir.resolve(STARTED_BY_SERVER));
          log.info("Stopped the private PostgreSQL cluster in {}", dir);
        }
      }
    } catch (IOException e) {
      log.warn("Stopping the private PostgreSQL cluster failed: {}", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static FileChannel open(Path file) throws IOException {
    return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
  }

  /**
   * Runs the script; returns what it printed, or null when {@code mayFail} and it exited non-zero.
   */
  @Nullable
  private static String run(Path script, String command, Path dir, long timeoutMinutes, boolean mayFail)
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
      if (mayFail) {
        return null;
      }
      throw new IOException(script + " " + command + " " + dir + " failed with exit code " + p.exitValue());
    }
    return out;
  }
}
