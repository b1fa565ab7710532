package io.jointspace.trainer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The shapes world's tokenizer: a Hugging Face WordLevel {@code tokenizer.json} (Lowercase
 * normalizer, Whitespace pre-tokenizer, [PAD]=0, [UNK]=1, then {@link Captions#vocabulary()}),
 * run with the DJL tokenizers library, the one the server uses, so training and serving
 * produce the same ids.
 *
 * <p>This class is the only one that touches DJL; it opts out of DJL's usage tracking (a
 * call to a cloud metadata address) before any DJL class initializes. Not thread-safe.
 */
public final class WordTokenizer implements AutoCloseable {
  static {
    System.setProperty("OPT_OUT_TRACKING", "true");
    System.setProperty("ai.djl.offline", "true");
  }

  public static final int PAD = 0;
  public static final int UNK = 1;

  private final HuggingFaceTokenizer tokenizer;
  private final int contextLength;
  private final Map<String, int[][]> cache = new HashMap<>();

  private WordTokenizer(HuggingFaceTokenizer tokenizer, int contextLength) {
    this.tokenizer = tokenizer;
    this.contextLength = contextLength;
  }

  /** Loads a tokenizer.json; texts are padded or truncated to {@code contextLength} ids. */
  public static WordTokenizer load(Path tokenizerJson, int contextLength) throws IOException {
    HuggingFaceTokenizer t = HuggingFaceTokenizer.builder()
        .optTokenizerPath(tokenizerJson)
        .optAddSpecialTokens(false)
        .build();
    return new WordTokenizer(t, contextLength);
  }

  /** Writes the shapes world's tokenizer.json to {@code file}. */
  public static void write(Path file) throws IOException {
    Files.writeString(file, json(Captions.vocabulary()));
  }

  /** The tokenizer.json text for a vocabulary (ids from 2, after [PAD] and [UNK]). */
  static String json(List<String> words) {
    StringBuilder vocab = new StringBuilder("\"[PAD]\": 0, \"[UNK]\": 1");
    for (int i = 0; i < words.size(); i++) {
      vocab.append(", ").append(quote(words.get(i))).append(": ").append(i + 2);
    }
    return """
        {
          "version": "1.0",
          "truncation": null,
          "padding": null,
          "added_tokens": [
            {"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": 1, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
          ],
          "normalizer": {"type": "Lowercase"},
          "pre_tokenizer": {"type": "Whitespace"},
          "post_processor": null,
          "decoder": null,
          "model": {"type": "WordLevel", "vocab": {%s}, "unk_token": "[UNK]"}
        }
        """.formatted(vocab);
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** Number of ids: [PAD], [UNK] and the words. */
  public static int vocabularySize() {
    return Captions.vocabulary().size() + 2;
  }

  public int contextLength() {
    return contextLength;
  }

  /** {ids, attention mask}, each {@link #contextLength()} long; cached per text. */
  public int[][] encode(String text) {
    return cache.computeIfAbsent(text, this::encodeUncached);
  }

  /** The tokens DJL produces for {@code text}, without padding. */
  public String[] tokens(String text) {
    return tokenizer.encode(text).getTokens();
  }

  private int[][] encodeUncached(String text) {
    Encoding e = tokenizer.encode(text);
    long[] raw = e.getIds();
    int[] ids = new int[contextLength];
    int[] mask = new int[contextLength];
    for (int i = 0; i < Math.min(raw.length, contextLength); i++) {
      ids[i] = (int) raw[i];
      mask[i] = 1;
    }
    return new int[][] {ids, mask};
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
