package io.jointspace.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time of this process (OperatingSystemMXBean) and of others (/proc/PID/stat). */
final class Cpu {
  private static final long CLK_TCK = clockTicks();

  private Cpu() {}

  /** CPU time this JVM has used, in nanoseconds. */
  static long selfNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** utime + stime of {@code pid} in nanoseconds; -1 when unreadable. */
  static long processNanos(long pid) {
    try {
      return cpuTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat"))) * 1_000_000_000L / CLK_TCK;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * CPU time of {@code pid} and its child processes, in nanoseconds: its own, that of the
   * children it has waited for (cutime + cstime) and that of the children still running; -1
   * when {@code pid} is unreadable. For a PostgreSQL postmaster: the whole cluster, backends and
   * background workers.
   */
  static long treeNanos(long pid) {
    long ticks;
    try {
      String[] own = fields(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
      ticks = Long.parseLong(own[11]) + Long.parseLong(own[12]) + Long.parseLong(own[13]) + Long.parseLong(own[14]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path proc : (Iterable<Path>) procs::iterator) {
        if (!proc.getFileName().toString().chars().allMatch(Character::isDigit)) {
          continue;
        }
        try {
          String[] f = fields(Files.readString(proc.resolve("stat")));
          if (Long.parseLong(f[1]) == pid) {
            ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
          }
        } catch (IOException | RuntimeException e) {
          // the process ended meanwhile
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return ticks * 1_000_000_000L / CLK_TCK;
  }

  /**
   * CPU time the whole machine has spent busy (every process, all cores), in nanoseconds:
   * user, nice, system, irq, softirq and steal time of /proc/stat; -1 when unreadable.
   */
  static long machineNanos() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/stat"))) {
        if (l.startsWith("cpu ")) {
          String[] f = l.trim().split("\\s+");
          long ticks = 0;
          for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
            ticks += Long.parseLong(f[i]);
          }
          return ticks * 1_000_000_000L / CLK_TCK;
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return -1;
  }

  /** The parent of {@code pid}; -1 when unreadable. */
  static long parentOf(long pid) {
    try {
      return Long.parseLong(fields(Files.readString(Path.of("/proc", Long.toString(pid), "stat")))[1]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * CPU time of {@code pid}'s JIT compiler threads (HotSpot names them "C1 CompilerThread<n>"
   * and "C2 CompilerThread<n>") so far, in nanoseconds; -1 when unreadable.
   */
  static long jitNanos(long pid) {
    long ticks = 0;
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
            ticks += cpuTicks(stat);
          }
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return ticks * 1_000_000_000L / CLK_TCK;
  }

  /** utime + stime, in clock ticks, of a process's or thread's stat line (proc(5)). */
  private static long cpuTicks(String stat) {
    String[] f = fields(stat);
    return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of stat(5)
  }

  /** The fields of a stat line after the command name (field 3 of stat(5) is the first). */
  private static String[] fields(String stat) {
    // the command name is in parentheses and may contain spaces
    return stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
  }

  /** The CPU's model name from /proc/cpuinfo, or "unknown CPU". */
  static String model() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("model name")) {
          return l.substring(l.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return "unknown CPU";
  }

  private static long clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor();
      return Long.parseLong(out);
    } catch (IOException | RuntimeException e) {
      return 100;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 100;
    }
  }
}
