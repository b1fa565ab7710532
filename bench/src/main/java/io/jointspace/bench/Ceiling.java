package io.jointspace.bench;

import io.jointspace.server.runtime.CallScope;
import io.jointspace.server.runtime.Content;
import io.jointspace.server.runtime.Encoder;
import io.jointspace.server.runtime.LoadOptions;
import io.jointspace.server.runtime.ModelVersion;
import io.jointspace.server.runtime.TensorData;
import io.jointspace.server.runtime.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * The encoder's ceiling: the model version loaded in this process without batching queues
 * or gRPC, called directly with preprocessed inputs (preprocessing not timed) at several
 * batch sizes, by one thread and by {@code callers} threads at once (as the server's batch
 * threads run batches side by side); and at batch 1 by {@code unbatchedCallers} threads at
 * once, as a server without batching runs one session call per request. {@link #images}
 * measures images alone, from their PNG bytes too, as a rollout's backfill embeds them.
 */
final class Ceiling {
  /**
   * Items per second for each batch size, images and texts, with one caller and with
   * {@code callers} concurrent callers.
   */
  record Result(Map<Integer, Double> imagesPerSecond, Map<Integer, Double> textsPerSecond, int callers,
      Map<Integer, Double> imagesConcurrent, Map<Integer, Double> textsConcurrent, int unbatchedCallers,
      double imagesUnbatched, double textsUnbatched) {
    static double best(Map<Integer, Double> m) {
      return m.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    /** The best of both maps. */
    static double best(Map<Integer, Double> a, Map<Integer, Double> b) {
      return Math.max(best(a), best(b));
    }

    static int bestSize(Map<Integer, Double> m) {
      return m.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(0);
    }
  }

  private Ceiling() {}

  static Result measure(Path versionDir, Workload workload, int[] batchSizes, long millisPerSize, int callers,
      int unbatchedCallers) throws Exception {
    try (ModelVersion model = ModelVersion.load(versionDir, LoadOptions.DEFAULT)) {
      Encoder encoder = model.encoder().orElseThrow(() -> new IllegalStateException(versionDir + " has no encoder spec"));
      List<TensorData> images = new ArrayList<>();
      for (byte[] png : workload.pngs()) {
        images.add(encoder.preprocessImage(png));
      }
      List<TextTokenizer.Tokens> texts = new ArrayList<>();
      for (String caption : workload.captions()) {
        texts.add(encoder.tokenize(caption));
      }
      Map<Integer, Double> ips = new LinkedHashMap<>();
      Map<Integer, Double> tps = new LinkedHashMap<>();
      Map<Integer, Double> ipsN = new LinkedHashMap<>();
      Map<Integer, Double> tpsN = new LinkedHashMap<>();
      IntFunction<Integer> encodeImages = n -> model.encodeImages(cycle(images, n)).size();
      IntFunction<Integer> encodeTexts = n -> model.encodeTexts(cycle(texts, n)).size();
      for (int b : batchSizes) {
        ips.put(b, rate(b, millisPerSize, 1, encodeImages));
        tps.put(b, rate(b, millisPerSize, 1, encodeTexts));
        ipsN.put(b, rate(b, millisPerSize, callers, encodeImages));
        tpsN.put(b, rate(b, millisPerSize, callers, encodeTexts));
      }
      double imagesUnbatched = rate(1, millisPerSize, unbatchedCallers, encodeImages);
      double textsUnbatched = rate(1, millisPerSize, unbatchedCallers, encodeTexts);
      return new Result(ips, tps, callers, ipsN, tpsN, unbatchedCallers, imagesUnbatched, textsUnbatched);
    }
  }

  /**
   * One measurement of {@link #images}: images per second at batch size {@code batch} by
   * {@code callers} threads at once, embedded from PNG bytes ({@code fromPng}) or from
   * preprocessed pixels; this process's CPU meanwhile and the whole machine's (cores; the
   * machine's NaN when unreadable).
   */
  record ImageRate(boolean fromPng, int batch, int callers, double perSecond, double cores, double machineCores) {}

  /**
   * Images only, as a rollout's backfill embeds them: {@code pngs} embedded from their bytes
   * ({@code encode} with {@link Content.Image}: decode, resize and encode, all timed) and from
   * pixels preprocessed before the clock starts ({@code encodeImages}), at each batch size by
   * each caller count, {@code millis} each. Both paths first run {@code warmupMillis} each,
   * untimed, so that the JIT compiler has done its work before the first measurement.
   */
  static List<ImageRate> images(Path versionDir, List<byte[]> pngs, int[] batchSizes, int[] callers, long millis,
      long warmupMillis) throws Exception {
    try (ModelVersion model = ModelVersion.load(versionDir, LoadOptions.DEFAULT)) {
      Encoder encoder = model.encoder().orElseThrow(() -> new IllegalStateException(versionDir + " has no encoder spec"));
      List<Content> contents = new ArrayList<>();
      List<TensorData> pixels = new ArrayList<>();
      for (byte[] png : pngs) {
        contents.add(new Content.Image(png));
        pixels.add(encoder.preprocessImage(png));
      }
      IntFunction<Integer> fromPng = n -> model.encode(cycle(contents, n), i -> "x", CallScope.NONE).size();
      IntFunction<Integer> fromPixels = n -> model.encodeImages(cycle(pixels, n)).size();
      int most = Arrays.stream(callers).max().orElse(1);
      rate(batchSizes[0], warmupMillis, most, fromPng);
      rate(batchSizes[0], warmupMillis, most, fromPixels);
      List<ImageRate> rates = new ArrayList<>();
      for (boolean png : new boolean[] {false, true}) {
        for (int b : batchSizes) {
          for (int c : callers) {
            long cpu0 = Cpu.selfNanos();
            long machine0 = Cpu.machineNanos();
            long t0 = System.nanoTime();
            double perSecond = rate(b, millis, c, png ? fromPng : fromPixels);
            double wall = System.nanoTime() - t0;
            long machine1 = Cpu.machineNanos();
            rates.add(new ImageRate(png, b, c, perSecond, (Cpu.selfNanos() - cpu0) / wall,
                machine0 < 0 || machine1 < 0 ? Double.NaN : (machine1 - machine0) / wall));
          }
        }
      }
      return rates;
    }
  }

  private static <T> List<T> cycle(List<T> items, int n) {
    List<T> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(items.get(i % items.size()));
    }
    return out;
  }

  /**
   * Items per second of {@code run} at batch size {@code b}, called by {@code threads} threads
   * at once, after three warmup batches each.
   */
  private static double rate(int b, long millis, int threads, IntFunction<Integer> run) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch warm = new CountDownLatch(threads);
      List<Future<long[]>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(pool.submit(() -> {
          for (int i = 0; i < 3; i++) {
            run.apply(b);
          }
          warm.countDown();
          warm.await();
          long items = 0;
          long t0 = System.nanoTime();
          long until = t0 + millis * 1_000_000L;
          long t1;
          do {
            items += run.apply(b);
            t1 = System.nanoTime();
          } while (t1 < until);
          return new long[] {items, t0, t1};
        }));
      }
      long items = 0;
      long first = Long.MAX_VALUE;
      long last = Long.MIN_VALUE;
      for (Future<long[]> f : done) {
        long[] r = f.get();
        items += r[0];
        first = Math.min(first, r[1]);
        last = Math.max(last, r[2]);
      }
      return items / ((last - first) / 1e9);
    } finally {
      pool.shutdownNow();
    }
  }
}
