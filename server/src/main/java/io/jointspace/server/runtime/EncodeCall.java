package io.jointspace.server.runtime;

import io.jointspace.server.batching.Reservation;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.errors.OverloadedException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import javax.annotation.Nullable;

/**
 * Embeds one call's texts and images with a version's {@link Encoder}, in five steps:
 * <ol>
 *   <li>admission: room for the call's texts and images is held in their queues before any
 *       work, so inputs being prepared count against the queues' backlog limits (a full queue
 *       refuses the call at once, with {@link OverloadedException});
 *   <li>preparation: each text is tokenized and each image decoded on the preprocessing pool;
 *   <li>submission: each kind joins its queue as soon as its last input is prepared, on the
 *       thread that prepared it, so neither kind holds its room (and keeps its queue waiting)
 *       while the other is prepared or runs;
 *   <li>join: the calling thread waits once, for the vectors;
 *   <li>errors are named in request order: when several inputs fail, the first one in the
 *       request is reported, whichever kind failed first.
 * </ol>
 * One instance per call; not thread-safe itself (the pool and batch threads complete its futures).
 */
final class EncodeCall {
  private final Encoder encoder;
  private final Signatures signatures;
  private final PreprocessPool pool;
  private final CallScope scope;

  EncodeCall(Encoder encoder, Signatures signatures, PreprocessPool pool, CallScope scope) {
    this.encoder = encoder;
    this.signatures = signatures;
    this.pool = pool;
    this.scope = scope;
  }

  /**
   * @param fieldOf the request field of the i-th input, for messages ("inputs[3]")
   * @return one vector per input, in input order
   * @throws InvalidInputException naming {@code fieldOf(i)} for a bad input
   * @throws OverloadedException when a queue or the pool has no room
   */
  List<float[]> encode(List<Content> inputs, IntFunction<String> fieldOf) {
    scope.check();
    int textCount = 0;
    int imageCount = 0;
    for (int i = 0; i < inputs.size(); i++) {
      if (inputs.get(i) instanceof Content.Text) {
        if (!encoder.encodesText()) {
          throw new InvalidInputException(fieldOf.apply(i) + ".text: this model version has no text encoder");
        }
        textCount++;
      } else {
        if (!encoder.encodesImages()) {
          throw new InvalidInputException(fieldOf.apply(i) + ".image: this model version has no image encoder");
        }
        imageCount++;
      }
    }
    Reservation texts = textCount == 0 ? null : signatures.reserve(encoder.textSignature(), textCount, scope);
    try (Reservation ignoredTexts = texts;
        Reservation images = imageCount == 0 ? null : signatures.reserve(encoder.imageSignature(), imageCount, scope)) {
      return encode(inputs, fieldOf, texts, images);
    }
  }

  private List<float[]> encode(List<Content> inputs, IntFunction<String> fieldOf, @Nullable Reservation textRoom,
      @Nullable Reservation imageRoom) {
    List<CompletableFuture<?>> prepared = new ArrayList<>(inputs.size());
    List<Integer> textAt = new ArrayList<>();
    List<CompletableFuture<TextTokenizer.Tokens>> texts = new ArrayList<>();
    List<Integer> imageAt = new ArrayList<>();
    List<CompletableFuture<TensorData>> images = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      String at = fieldOf.apply(i);
      if (inputs.get(i) instanceof Content.Text t) {
        CompletableFuture<TextTokenizer.Tokens> tokens =
            scope.watch(pool.submit(prefixed(at + ".text", () -> encoder.tokenize(t.text()))));
        prepared.add(tokens);
        texts.add(tokens);
        textAt.add(i);
      } else if (inputs.get(i) instanceof Content.Image image) {
        CompletableFuture<TensorData> pixels =
            scope.watch(pool.submit(prefixed(at + ".image", () -> encoder.preprocessImage(image.encoded()))));
        prepared.add(pixels);
        images.add(pixels);
        imageAt.add(i);
      }
    }
    List<CompletableFuture<List<float[]>>> running = new ArrayList<>(2);
    List<List<Integer>> positions = new ArrayList<>(2);
    if (!texts.isEmpty()) {
      running.add(whenPrepared(texts, ready -> signatures.submitRows(encoder.textSignature(),
          encoder.textRows(ready), scope, textRoom).thenApply(out -> encoder.finish(out, encoder.textOutput()))));
      positions.add(textAt);
    }
    if (!images.isEmpty()) {
      running.add(whenPrepared(images, ready -> signatures.submitRows(encoder.imageSignature(),
          encoder.imageRows(ready), scope, imageRoom).thenApply(out -> encoder.finish(out, encoder.imageOutput()))));
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
  private static <T> List<T> joinAll(List<? extends CompletableFuture<? extends T>> futures) {
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
  private <T> Supplier<T> prefixed(String field, Supplier<T> work) {
    return () -> {
      scope.check();
      try {
        return work.get();
      } catch (InvalidInputException e) {
        throw e.at(field);
      }
    };
  }
}
