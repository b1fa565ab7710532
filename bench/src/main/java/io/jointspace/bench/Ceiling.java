package io.jointspace.bench;

import io.jointspace.server.runtime.Encoder;
import io.jointspace.server.runtime.LoadOptions;
import io.jointspace.server.runtime.SavedModel;
import io.jointspace.server.runtime.TensorData;
import io.jointspace.server.runtime.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The encoder's ceiling: the model version loaded in this process without batching queues
 * or gRPC, called directly with preprocessed inputs (preprocessing not timed) at several
 * batch sizes, one thread.
 */
final class Ceiling {
  /** Items per second for each batch size, images and texts. */
  record Result(Map<Integer, Double> imagesPerSecond, Map<Integer, Double> textsPerSecond) {
    static double best(Map<Integer, Double> m) {
      return m.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    static int bestSize(Map<Integer, Double> m) {
      return m.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(0);
    }
  }

  private Ceiling() {}

  static Result measure(Path versionDir, Workload workload, int[] batchSizes, long millisPerSize) throws Exception {
    try (SavedModel model = SavedModel.load(versionDir, LoadOptions.DEFAULT)) {
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
      for (int b : batchSizes) {
        ips.put(b, rate(b, millisPerSize, n -> encoder.encodeImages(cycle(images, n)).size()));
        tps.put(b, rate(b, millisPerSize, n -> encoder.encodeTexts(cycle(texts, n)).size()));
      }
      return new Result(ips, tps);
    }
  }

  private static <T> List<T> cycle(List<T> items, int n) {
    List<T> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(items.get(i % items.size()));
    }
    return out;
  }

  /** Items per second of {@code run} at batch size {@code b}, after three warmup batches. */
  private static double rate(int b, long millis, IntFunction<Integer> run) {
    for (int i = 0; i < 3; i++) {
      run.apply(b);
    }
    long items = 0;
    long t0 = System.nanoTime();
    long until = t0 + millis * 1_000_000L;
    long t1;
    do {
      items += run.apply(b);
      t1 = System.nanoTime();
    } while (t1 < until);
    return items / ((t1 - t0) / 1e9);
  }
}
