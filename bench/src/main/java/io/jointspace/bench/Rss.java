package io.jointspace.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The resident set size of a process, from {@code /proc/<pid>/status} (VmRSS), and a sampler
 * that reads it on a thread of its own while a measured step runs.
 */
final class Rss implements AutoCloseable {
  private final long pid;
  private final List<long[]> samples = new ArrayList<>(); // {nanos since start, kB}
  private final Thread thread;
  private final long start = System.nanoTime();
  private volatile boolean stop;

  private Rss(long pid, long everyMillis) {
    this.pid = pid;
    this.thread = new Thread(() -> {
      while (!stop) {
        sample();
        try {
          Thread.sleep(everyMillis);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "rss-sampler");
    thread.setDaemon(true);
  }

  /** Samples {@code pid}'s RSS every {@code everyMillis} until closed. */
  static Rss sample(long pid, long everyMillis) {
    Rss r = new Rss(pid, everyMillis);
    r.thread.start();
    return r;
  }

  private void sample() {
    long kb = kilobytes(pid);
    synchronized (samples) {
      samples.add(new long[] {System.nanoTime() - start, kb});
    }
  }

  /** VmRSS of {@code pid} in kB; -1 when it cannot be read. */
  static long kilobytes(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // gone
    }
    return -1;
  }

  /**
   * The Java heap {@code pid} uses after a full collection (MiB), by {@code jcmd GC.run} then
   * {@code GC.heap_info}: what it holds alive, which grows with a leak, unlike RSS, which
   * also grows while the heap is expanded toward -Xmx; -1 when jcmd cannot tell.
   */
  static double liveHeapMib(long pid) {
    try {
      String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
      new ProcessBuilder(jcmd, Long.toString(pid), "GC.run").redirectErrorStream(true).start().waitFor();
      Process p = new ProcessBuilder(jcmd, Long.toString(pid), "GC.heap_info").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      p.waitFor();
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("heap\\s+total \\d+K, used (\\d+)K").matcher(out);
      return m.find() ? Long.parseLong(m.group(1)) / 1024.0 : -1;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** What the samples show: RSS (MiB) at {@code warm} of the way through, at the end, and the most. */
  record Summary(double atWarm, double atEnd, double max, int samples) {
    /** (end - warm) / warm. */
    double growth() {
      return (atEnd - atWarm) / atWarm;
    }
  }

  /** Stops sampling, takes a last sample, and sums up with the sample at fraction {@code warm} of the run. */
  Summary finish(double warm) throws InterruptedException {
    stop = true;
    thread.interrupt();
    thread.join();
    sample();
    synchronized (samples) {
      long total = samples.get(samples.size() - 1)[0];
      long atWarm = samples.get(0)[1];
      for (long[] s : samples) {
        if (s[0] <= warm * total) {
          atWarm = s[1];
        }
      }
      long max = samples.stream().mapToLong(s -> s[1]).max().orElse(0);
      return new Summary(atWarm / 1024.0, samples.get(samples.size() - 1)[1] / 1024.0, max / 1024.0, samples.size());
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop = true;
    thread.interrupt();
    thread.join();
  }
}
