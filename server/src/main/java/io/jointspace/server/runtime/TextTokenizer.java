package io.jointspace.server.runtime;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.jointspace.config.v1.TextEncoderSpec;
import io.jointspace.server.errors.InvalidInputException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import javax.annotation.Nullable;

/**
 * Turns text into the fixed-length token ids and attention mask a text encoder takes, with a
 * Hugging Face {@code tokenizer.json} (BPE, WordPiece, WordLevel, Unigram; its normalizer,
 * pre-tokenizer and post-processor apply) run by DJL's binding of the Rust
 * {@code tokenizers} library.
 *
 * <p>Every text becomes exactly {@code context_length} ids: the tokenizer's special tokens
 * are added (its post-processor, e.g. {@code [CLS] ... [SEP]} or
 * {@code <|startoftext|> ... <|endoftext|>}); a longer text is truncated by the tokenizer
 * itself, which cuts the text's tokens and keeps the special tokens around them; a shorter
 * one is padded at the end with the pad id and mask 0. The pad id is the spec's
 * {@code pad_id}, else the tokenizer's padding token (the {@code padding} block of
 * {@code tokenizer.json}, else {@code pad_token} of a {@code tokenizer_config.json} or
 * {@code special_tokens_map.json} beside it, else a special token named {@code [PAD]},
 * {@code <pad>} or {@code <|pad|>}), else 0.
 *
 * <p><b>Offline only.</b> DJL calls the cloud metadata address (169.254.169.254) and a
 * telemetry URL on first use, and may download native libraries, unless told not to. This
 * class sets the system properties {@code OPT_OUT_TRACKING=true} and
 * {@code ai.djl.offline=true} in its static initializer, before any DJL class is loaded
 * (all DJL use sits in the nested {@code Native} class, which loads only after that), and
 * {@link #load} refuses to run when the environment variable {@code DJL_OFFLINE} is set to
 * something other than {@code true} (DJL reads the variable before the property). The
 * native library comes from the DJL jar (extracted once into DJL's cache folder,
 * {@code ~/.djl.ai} unless {@code DJL_CACHE_DIR} says otherwise); it is never downloaded.
 *
 * <p>Thread-safe: {@link #encode} may run on many threads at once. Owned by its model
 * version's {@link Encoder}, which closes it; {@link #close} waits for running calls and
 * later calls fail with {@link IllegalStateException}.
 */
public final class TextTokenizer implements AutoCloseable {
  static {
    // Before any DJL class loads: no telemetry, no metadata calls, no downloads.
    System.setProperty("OPT_OUT_TRACKING", "true");
    System.setProperty("ai.djl.offline", "true");
  }

  /** Texts longer than this many characters (code points) are rejected unless the spec says otherwise. */
  public static final int DEFAULT_MAX_CHARS = 1000;

  /** Conventional names of padding tokens, used when nothing names the pad token. */
  private static final Set<String> PAD_TOKEN_NAMES = Set.of("[PAD]", "<pad>", "<|pad|>");

  /**
   * One text as the model takes it: {@code ids} and {@code attentionMask} both hold
   * {@code context_length} values; the mask is 1 for tokens and 0 for padding. The arrays
   * are not copied: do not change them.
   */
  public record Tokens(long[] ids, long[] attentionMask) {
    public Tokens {
      if (ids.length != attentionMask.length) {
        throw new IllegalArgumentException(
            "ids and attentionMask differ in length: " + ids.length + " vs " + attentionMask.length);
      }
    }

    /** Number of real (unpadded) tokens. */
    public int length() {
      int n = 0;
      for (long m : attentionMask) {
        if (m != 0) {
          n++;
        }
      }
      return n;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Tokens t && Arrays.equals(ids, t.ids) && Arrays.equals(attentionMask, t.attentionMask);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.hashCode(ids) + Arrays.hashCode(attentionMask);
    }

    @Override
    public String toString() {
      return "Tokens[ids=" + Arrays.toString(ids) + ", attentionMask=" + Arrays.toString(attentionMask) + "]";
    }
  }

  private final Native tokenizer;
  private final Path file;
  private final int contextLength;
  private final int maxChars;
  private final long padId;
  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  // @GuardedBy("lock")
  private boolean closed;

  private TextTokenizer(Native tokenizer, Path file, int contextLength, int maxChars, long padId) {
    this.tokenizer = tokenizer;
    this.file = file;
    this.contextLength = contextLength;
    this.maxChars = maxChars;
    this.padId = padId;
  }

  /**
   * Loads {@code tokenizerJson} for the spec's {@code context_length}, {@code pad_id} and
   * {@code max_chars}. Reads only that file and, for the pad token, a
   * {@code tokenizer_config.json} or {@code special_tokens_map.json} in the same folder.
   *
   * @throws IllegalArgumentException naming the spec field ({@code text.context_length},
   *     {@code text.max_chars}, {@code text.pad_id}) or the file, when either is unusable
   * @throws IllegalStateException when the environment turns DJL's offline mode off
   */
  public static TextTokenizer load(Path tokenizerJson, TextEncoderSpec spec) {
    if (spec.getContextLength() <= 0) {
      throw new IllegalArgumentException("text.context_length must be positive, is " + spec.getContextLength());
    }
    if (spec.getMaxChars() < 0) {
      throw new IllegalArgumentException("text.max_chars must not be negative, is " + spec.getMaxChars());
    }
    if (spec.hasPadId() && spec.getPadId() < 0) {
      throw new IllegalArgumentException("text.pad_id must not be negative, is " + spec.getPadId());
    }
    int maxChars = spec.getMaxChars() == 0 ? DEFAULT_MAX_CHARS : spec.getMaxChars();
    String json;
    JsonObject root;
    try {
      json = Files.readString(tokenizerJson, StandardCharsets.UTF_8);
      root = JsonParser.parseString(json).getAsJsonObject();
    } catch (IOException | JsonParseException | IllegalStateException e) {
      throw new IllegalArgumentException("text.tokenizer " + tokenizerJson + " cannot be read as a tokenizer.json: "
          + e.getMessage(), e);
    }
    long padId = spec.hasPadId() ? spec.getPadId() : defaultPadId(root, tokenizerJson.getParent());
    requireOfflineMode();
    Native tokenizer = Native.create(json, spec.getContextLength(), tokenizerJson);
    return new TextTokenizer(tokenizer, tokenizerJson, spec.getContextLength(), maxChars, padId);
  }

  /**
   * Loads the tokenizer library's native code without loading a tokenizer. The first load
   * unpacks it into DJL's cache folder ({@code DJL_CACHE_DIR}, else {@code ~/.djl.ai});
   * a container image does that when it is built, so that nothing is written at start.
   *
   * @throws IllegalStateException when the environment turns DJL's offline mode off
   */
  public static void loadNativeLibrary() {
    requireOfflineMode();
    Native.loadLibrary();
  }

  /**
   * Tokenizes one text into {@code context_length} ids and mask values.
   *
   * @throws InvalidInputException when the text is empty or only whitespace, has more than
   *     {@code max_chars} characters, or yields no token at all
   * @throws IllegalStateException after {@link #close}
   */
  public Tokens encode(String text) {
    if (text == null || text.isBlank()) {
      throw new InvalidInputException("is empty");
    }
    if (text.length() > maxChars) {
      int chars = text.codePointCount(0, text.length());
      if (chars > maxChars) {
        throw new InvalidInputException("has " + chars + " characters, over the limit of " + maxChars);
      }
    }
    long[] raw;
    lock.readLock().lock();
    try {
      if (closed) {
        throw new IllegalStateException("tokenizer " + file + " is closed");
      }
      raw = tokenizer.encode(text);
    } finally {
      lock.readLock().unlock();
    }
    if (raw.length == 0) {
      throw new InvalidInputException("has no tokens (only characters the tokenizer drops)");
    }
    long[] ids = new long[contextLength];
    long[] mask = new long[contextLength];
    int n = Math.min(raw.length, contextLength);
    System.arraycopy(raw, 0, ids, 0, n);
    Arrays.fill(mask, 0, n, 1L);
    Arrays.fill(ids, n, contextLength, padId);
    return new Tokens(ids, mask);
  }

  /** Ids per text, the length of every {@link Tokens}. */
  public int contextLength() {
    return contextLength;
  }

  public int maxChars() {
    return maxChars;
  }

  public long padId() {
    return padId;
  }

  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (!closed) {
        closed = true;
        tokenizer.close();
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public String toString() {
    return "TextTokenizer[" + file + ", context_length=" + contextLength + ", pad_id=" + padId + "]";
  }

  /**
   * DJL reads the environment variable {@code DJL_OFFLINE} before the system property
   * {@code ai.djl.offline}: a variable set to anything but {@code true} would switch
   * offline mode off again (metadata calls, telemetry and downloads with it).
   */
  private static void requireOfflineMode() {
    String env = System.getenv("DJL_OFFLINE");
    if (env != null && !Boolean.parseBoolean(env)) {
      throw new IllegalStateException("environment variable DJL_OFFLINE=" + env + " would let the tokenizer library "
          + "go online (telemetry, cloud metadata calls, downloads); unset it or set it to true");
    }
    if (!Boolean.parseBoolean(System.getProperty("ai.djl.offline"))) {
      throw new IllegalStateException("system property ai.djl.offline must stay true, is "
          + System.getProperty("ai.djl.offline"));
    }
  }

  /** The tokenizer's own padding token id, else 0 (see the class comment). */
  static long defaultPadId(JsonObject tokenizer, @Nullable Path dir) {
    JsonObject padding = object(tokenizer, "padding");
    if (padding != null && number(padding.get("pad_id")) != null) {
      return number(padding.get("pad_id"));
    }
    if (dir != null) {
      for (String name : new String[] {"tokenizer_config.json", "special_tokens_map.json"}) {
        Optional<String> padToken = configuredPadToken(dir.resolve(name));
        if (padToken.isPresent()) {
          Long id = tokenId(tokenizer, padToken.get());
          if (id != null) {
            return id;
          }
        }
      }
    }
    for (JsonObject t : addedTokens(tokenizer)) {
      String content = string(t.get("content"));
      JsonElement special = t.get("special");
      if (content != null && PAD_TOKEN_NAMES.contains(content) && number(t.get("id")) != null
          && special != null && special.isJsonPrimitive() && special.getAsJsonPrimitive().isBoolean()
          && special.getAsBoolean()) {
        return number(t.get("id"));
      }
    }
    return 0;
  }

  /** {@code pad_token} of a tokenizer_config.json / special_tokens_map.json: a string or {"content": ...}. */
  private static Optional<String> configuredPadToken(Path file) {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      JsonElement root = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
      if (!root.isJsonObject()) {
        return Optional.empty();
      }
      JsonElement pad = root.getAsJsonObject().get("pad_token");
      String token = pad != null && pad.isJsonObject() ? string(pad.getAsJsonObject().get("content")) : string(pad);
      return Optional.ofNullable(token);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("text.tokenizer: " + file + " cannot be read: " + e.getMessage(), e);
    }
  }

  /** The id of {@code token}: an added token, else the model's vocabulary (map or Unigram list). */
  @Nullable
  private static Long tokenId(JsonObject tokenizer, String token) {
    for (JsonObject t : addedTokens(tokenizer)) {
      if (token.equals(string(t.get("content")))) {
        return number(t.get("id"));
      }
    }
    JsonObject model = object(tokenizer, "model");
    JsonElement vocab = model == null ? null : model.get("vocab");
    if (vocab != null && vocab.isJsonObject()) {
      return number(vocab.getAsJsonObject().get(token));
    }
    if (vocab != null && vocab.isJsonArray()) { // Unigram: [[piece, score], ...], id = index
      for (int i = 0; i < vocab.getAsJsonArray().size(); i++) {
        JsonElement piece = vocab.getAsJsonArray().get(i);
        if (piece.isJsonArray() && !piece.getAsJsonArray().isEmpty() && token.equals(string(piece.getAsJsonArray().get(0)))) {
          return (long) i;
        }
      }
    }
    return null;
  }

  private static List<JsonObject> addedTokens(JsonObject tokenizer) {
    JsonElement added = tokenizer.get("added_tokens");
    List<JsonObject> out = new ArrayList<>();
    if (added != null && added.isJsonArray()) {
      for (JsonElement e : added.getAsJsonArray()) {
        if (e.isJsonObject()) {
          out.add(e.getAsJsonObject());
        }
      }
    }
    return out;
  }

  @Nullable
  private static String string(@Nullable JsonElement e) {
    return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() ? e.getAsString() : null;
  }

  @Nullable
  private static JsonObject object(JsonObject parent, String key) {
    JsonElement e = parent.get(key);
    return e != null && e.isJsonObject() ? e.getAsJsonObject() : null;
  }

  @Nullable
  private static Long number(@Nullable JsonElement e) {
    return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? e.getAsLong() : null;
  }

  /**
   * The only code that touches DJL. A separate class so that DJL classes load only when it
   * is first used, after {@link TextTokenizer}'s static initializer set the opt-out
   * properties.
   */
  private static final class Native implements AutoCloseable {
    private final ai.djl.huggingface.tokenizers.HuggingFaceTokenizer hf;

    private Native(ai.djl.huggingface.tokenizers.HuggingFaceTokenizer hf) {
      this.hf = hf;
    }

    static void loadLibrary() {
      ai.djl.huggingface.tokenizers.jni.LibUtils.checkStatus();
    }

    static Native create(String json, int contextLength, Path file) {
      // Truncation by the library (it keeps the post-processor's special tokens); no
      // padding there: TextTokenizer pads with its own pad id. Whatever truncation and
      // padding the file itself configures is replaced by these options.
      Map<String, String> options = Map.of(
          "addSpecialTokens", "true",
          "withOverflowingTokens", "false",
          "truncation", "LONGEST_FIRST",
          "padding", "false",
          "maxLength", Integer.toString(contextLength),
          "modelMaxLength", Integer.toString(contextLength),
          "stride", "0",
          "padToMultipleOf", "0");
      try (var in = new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8))) {
        return new Native(ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.newInstance(in, options));
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException("text.tokenizer " + file + " is not a tokenizer.json the tokenizers "
            + "library can load: " + e.getMessage(), e);
      }
    }

    long[] encode(String text) {
      return hf.encode(text, true, false).getIds();
    }

    @Override
    public void close() {
      hf.close();
    }
  }
}
