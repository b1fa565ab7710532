package io.jointspace.server.api;

import io.jointspace.api.v1.Input;
import io.jointspace.server.runtime.CallScope;
import io.jointspace.server.runtime.Encoder;
import io.jointspace.server.runtime.InvalidInputException;
import io.jointspace.server.runtime.PreprocessPool;
import io.jointspace.server.runtime.TensorData;
import io.jointspace.server.runtime.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Embeds text and image inputs with a version's {@link Encoder}: tokenizing and decoding
 * run on the preprocessing pool, then all texts join the text queue and all images the image
 * queue, and the vectors come back in input order.
 */
final class MultimodalInputs {
  private MultimodalInputs() {}

  /**
   * @param field the request field holding the inputs, for messages ("inputs", "queries")
   * @throws InvalidInputException naming {@code field[i]} for a bad input
   */
  static List<float[]> embed(Encoder encoder, PreprocessPool pool, List<Input> inputs, String field) {
    try (GrpcCallScope call = GrpcCallScope.current()) {
      return embed(encoder, pool, inputs, field, call.scope());
    }
  }

  /**
   * @param fieldOf the request field of the i-th input, for messages ("items[3].input")
   */
  static List<float[]> embed(Encoder encoder, PreprocessPool pool, List<Input> inputs,
      java.util.function.IntFunction<String> fieldOf) {
    try (GrpcCallScope call = GrpcCallScope.current()) {
      return embed(encoder, pool, inputs, fieldOf, call.scope());
    }
  }

  /**
   * As {@link #embed(Encoder, PreprocessPool, List, String)} within {@code scope}: work for a
   * call that has ended is skipped or dropped.
   */
  static List<float[]> embed(Encoder encoder, PreprocessPool pool, List<Input> inputs, String field,
      CallScope scope) {
    return embed(encoder, pool, inputs, i -> field + "[" + i + "]", scope);
  }

  private static List<float[]> embed(Encoder encoder, PreprocessPool pool, List<Input> inputs,
      java.util.function.IntFunction<String> fieldOf, CallScope scope) {
    scope.check();
    int textCount = 0;
    int imageCount = 0;
    for (Input input : inputs) {
      textCount += input.hasText() ? 1 : 0;
      imageCount += input.hasImage() ? 1 : 0;
    }
    try (Encoder.Room room = encoder.reserve(textCount, imageCount)) {
      return embed(encoder, pool, inputs, fieldOf, scope, room);
    }
  }

  /**
   * Prepares the inputs on the pool and embeds them in the room held for them. Each kind joins
   * its queue as soon as its last input is prepared, on the thread that prepared it, so
   * neither kind holds its room (and keeps its queue waiting) while the other is prepared or
   * runs, and the calling thread waits once, for the vectors.
   */
  private static List<float[]> embed(Encoder encoder, PreprocessPool pool, List<Input> inputs,
      java.util.function.IntFunction<String> fieldOf, CallScope scope, Encoder.Room room) {
    List<CompletableFuture<?>> prepared = new ArrayList<>(inputs.size());
    List<Integer> textAt = new ArrayList<>();
    List<CompletableFuture<TextTokenizer.Tokens>> texts = new ArrayList<>();
    List<Integer> imageAt = new ArrayList<>();
    List<CompletableFuture<TensorData>> images = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      Input input = inputs.get(i);
      String at = fieldOf.apply(i);
      switch (input.getContentCase()) {
        case TEXT -> {
          if (!encoder.encodesText()) {
            throw new InvalidInputException(at + ".text: this model version has no text encoder");
          }
          String text = input.getText();
          CompletableFuture<TextTokenizer.Tokens> tokens =
              scope.watch(pool.submit(prefixed(at + ".text", scope, () -> encoder.tokenize(text))));
          prepared.add(tokens);
          texts.add(tokens);
          textAt.add(i);
        }
        case IMAGE -> {
          if (!encoder.encodesImages()) {
            throw new InvalidInputException(at + ".image: this model version has no image encoder");
          }
          byte[] bytes = input.getImage().toByteArray();
          CompletableFuture<TensorData> pixels =
              scope.watch(pool.submit(prefixed(at + ".image", scope, () -> encoder.preprocessImage(bytes))));
          prepared.add(pixels);
          images.add(pixels);
          imageAt.add(i);
        }
        case TENSOR -> throw new InvalidInputException(at + ".tensor: tensor inputs cannot be mixed with text and"
            + " images here; send text or image inputs");
        case CONTENT_NOT_SET -> throw new InvalidInputException(at + " has no content; set text, image or tensor");
      }
    }
    List<CompletableFuture<List<float[]>>> running = new ArrayList<>(2);
    List<List<Integer>> positions = new ArrayList<>(2);
    if (!texts.isEmpty()) {
      running.add(whenPrepared(texts, ready -> encoder.submitTexts(ready, scope, room.texts())));
      positions.add(textAt);
    }
    if (!images.isEmpty()) {
      running.add(whenPrepared(images, ready -> encoder.submitImages(ready, scope, room.images())));
      positions.add(imageAt);
    }
    List<List<float[]>> vectors;
    try {
      vectors = joinAll(running);
    } catch (RuntimeException e) {
      throw firstFailure(prepared, e);
    }
    float[][] out = new float[inputs.size()][];
    for (int kind = 0; kind < vectors.size(); kind++) {
      List<float[]> v = vectors.get(kind);
      for (int k = 0; k < v.size(); k++) {
        out[positions.get(kind).get(k)] = v.get(k);
      }
    }
    return List.of(out);
  }

  /**
   * {@code submit} of the prepared values, in order, called on the thread that completes the
   * last of {@code parts}; when a part fails, fails with that failure without calling it.
   */
  private static <T> CompletableFuture<List<float[]>> whenPrepared(List<CompletableFuture<T>> parts,
      Function<List<T>, CompletableFuture<List<float[]>>> submit) {
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
        .thenCompose(done -> submit.apply(parts.stream().map(CompletableFuture::join).toList()));
  }

  /**
   * The error to answer after {@code failure}: the first input, in request order, whose
   * preparation failed (so a bad input is named the same way whichever kind failed first),
   * else {@code failure} itself. Cancels the preparations left once it knows.
   */
  private static RuntimeException firstFailure(List<CompletableFuture<?>> prepared, RuntimeException failure) {
    try {
      joinAll(prepared);
      return failure;
    } catch (CancellationException e) {
      prepared.forEach(f -> f.cancel(false));
      return failure;
    } catch (RuntimeException e) {
      return e;
    }
  }

  /**
   * Waits for every future, in order; on the first failure cancels the rest and rethrows
   * that failure's own exception (an input error names its field).
   */
  static <T> List<T> joinAll(List<? extends CompletableFuture<? extends T>> futures) {
    List<T> ready = new ArrayList<>(futures.size());
    for (CompletableFuture<? extends T> f : futures) {
      try {
        ready.add(f.join());
      } catch (CompletionException e) {
        futures.forEach(other -> other.cancel(false));
        throw e.getCause() instanceof RuntimeException re ? re : e;
      }
    }
    return ready;
  }

  /**
   * Runs {@code work} unless the call has ended meanwhile, putting {@code field} in front of
   * an input error's message.
   */
  private static <T> Supplier<T> prefixed(String field, CallScope scope, Supplier<T> work) {
    return () -> {
      scope.check();
      try {
        return work.get();
      } catch (InvalidInputException e) {
        throw e.at(field);
      }
    };
  }

  /** Cosine similarity; 0 when either vector is zero. */
  static float cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalStateException("embeddings of " + a.length + " and " + b.length + " values");
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return na == 0 || nb == 0 ? 0f : (float) (dot / Math.sqrt(na * nb));
  }

  /** Softmax of {@code scale * x}, computed stably. */
  static float[] softmax(float[] x, float scale) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : x) {
      max = Math.max(max, (double) scale * v);
    }
    double sum = 0;
    double[] e = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      e[i] = Math.exp((double) scale * x[i] - max);
      sum += e[i];
    }
    float[] p = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      p[i] = (float) (e[i] / sum);
    }
    return p;
  }
}
