package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.TextFormat;
import io.jointspace.config.v1.EncoderSpec;
import io.jointspace.config.v1.TextEncoderSpec;
import io.jointspace.server.FuzzBudget;
import io.jointspace.server.FuzzTry;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.store.TestDatabase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Fuzzes {@link TextTokenizer} with the shipped model's tokenizer.json and with a byte-level
 * BPE, a WordPiece and a Unigram tokenizer made here (the Rust library's other normalizers,
 * pre-tokenizers and post-processors), on text built from hostile pieces: lone and paired
 * surrogates, combining marks, controls, NUL, noncharacters, characters NFKC expands many
 * times over, special-token look-alikes, and long runs. Every text gives exactly
 * {@code context_length} ids, in the vocabulary, padded with the pad id behind a mask of ones,
 * the same ids twice, or {@link InvalidInputException}; in time; and a text over
 * {@code max_chars} is refused without being tokenized.
 */
@AddLifecycleHook(FuzzBudget.class)
class TextTokenizerFuzzTest {
  static final Duration TIME_LIMIT = Duration.ofSeconds(10);
  static final Map<String, TextTokenizer> TOKENIZERS = new LinkedHashMap<>();
  /** Largest id each tokenizer may give (its vocabulary and added tokens). */
  static final Map<String, Long> MAX_ID = new LinkedHashMap<>();
  static Path dir;

  @BeforeContainer
  static void load() throws IOException {
    Path shipped = TestDatabase.projectRoot().resolve("models/shapes-clip/2");
    EncoderSpec.Builder spec = EncoderSpec.newBuilder();
    TextFormat.getParser().merge(Files.readString(shipped.resolve(Encoder.SPEC_FILE)), spec);
    Path json = shipped.resolve("assets").resolve(spec.getText().getTokenizer());
    add("shapes-clip", json, spec.getText());
    // the same file with a limit on characters that lets long texts reach the tokenizer
    add("shapes-clip-long", json, spec.getText().toBuilder().setMaxChars(50_000).build());
    dir = Files.createTempDirectory("tokenizers");
    add("byte-bpe", write("byte-bpe.json", byteLevelBpe()), text(77, 50_000));
    add("wordpiece", write("wordpiece.json", wordPiece()), text(32, 2_000));
    add("unigram", write("unigram.json", unigram()), text(8, 2_000));
  }

  @AfterContainer
  static void close() throws IOException {
    TOKENIZERS.values().forEach(TextTokenizer::close);
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static TextEncoderSpec text(int contextLength, int maxChars) {
    return TextEncoderSpec.newBuilder().setSignature("s").setInputIds("ids").setOutput("out")
        .setContextLength(contextLength).setMaxChars(maxChars).build();
  }

  private static void add(String name, Path json, TextEncoderSpec spec) throws IOException {
    TOKENIZERS.put(name, TextTokenizer.load(json, spec));
    JsonObject root = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
    long max = 0;
    JsonElement vocab = root.getAsJsonObject("model").get("vocab");
    if (vocab.isJsonObject()) {
      for (Map.Entry<String, JsonElement> e : vocab.getAsJsonObject().entrySet()) {
        max = Math.max(max, e.getValue().getAsLong());
      }
    } else {
      max = vocab.getAsJsonArray().size() - 1;
    }
    for (JsonElement t : root.getAsJsonArray("added_tokens")) {
      max = Math.max(max, t.getAsJsonObject().get("id").getAsLong());
    }
    MAX_ID.put(name, max);
  }

  private static Path write(String name, String json) throws IOException {
    return Files.writeString(dir.resolve(name), json, StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------ tokenizers made here

  private static JsonObject added(int id, String content) {
    JsonObject t = new JsonObject();
    t.addProperty("id", id);
    t.addProperty("content", content);
    t.addProperty("single_word", false);
    t.addProperty("lstrip", false);
    t.addProperty("rstrip", false);
    t.addProperty("normalized", false);
    t.addProperty("special", true);
    return t;
  }

  private static JsonObject template(String first, String last) {
    String json = """
        {"type":"TemplateProcessing",
         "single":[{"SpecialToken":{"id":"%1$s","type_id":0}},{"Sequence":{"id":"A","type_id":0}},
                   {"SpecialToken":{"id":"%2$s","type_id":0}}],
         "pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],
         "special_tokens":{}}""".formatted(first, last);
    return JsonParser.parseString(json).getAsJsonObject();
  }

  private static void special(JsonObject template, String token, int id) {
    JsonObject s = new JsonObject();
    s.addProperty("id", token);
    JsonArray ids = new JsonArray();
    ids.add(id);
    s.add("ids", ids);
    JsonArray tokens = new JsonArray();
    tokens.add(token);
    s.add("tokens", tokens);
    template.getAsJsonObject("special_tokens").add(token, s);
  }

  /** GPT-2's map of bytes to printable characters, which byte-level BPE vocabularies are written in. */
  private static char[] bytesToUnicode() {
    char[] out = new char[256];
    int n = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
      out[b] = printable ? (char) b : (char) (256 + n++);
    }
    return out;
  }

  /** CLIP-like: NFC and lowercase, byte-level pre-tokenizer, BPE with a few merges, start and end tokens. */
  static String byteLevelBpe() {
    char[] map = bytesToUnicode();
    JsonObject vocab = new JsonObject();
    int id = 0;
    for (char c : map) {
      vocab.addProperty(String.valueOf(c), id++);
    }
    String g = String.valueOf(map[' ']);
    String[][] merges = {{"t", "h"}, {"th", "e"}, {g, "a"}, {"r", "e"}, {"re", "d"}, {g, "red"}, {g, "the"},
        {"c", "i"}, {"ci", "r"}, {"cir", "c"}, {"circ", "l"}, {"circl", "e"}, {g, "circle"}};
    JsonArray m = new JsonArray();
    for (String[] pair : merges) {
      m.add(pair[0] + " " + pair[1]);
      if (!vocab.has(pair[0] + pair[1])) {
        vocab.addProperty(pair[0] + pair[1], id++);
      }
    }
    int start = id++;
    int end = id;
    JsonArray addedTokens = new JsonArray();
    addedTokens.add(added(start, "<|startoftext|>"));
    addedTokens.add(added(end, "<|endoftext|>"));
    JsonObject model = new JsonObject();
    model.addProperty("type", "BPE");
    model.add("dropout", null);
    model.add("unk_token", null);
    model.add("continuing_subword_prefix", null);
    model.add("end_of_word_suffix", null);
    model.addProperty("fuse_unk", false);
    model.addProperty("byte_fallback", false);
    model.add("vocab", vocab);
    model.add("merges", m);
    JsonObject post = template("<|startoftext|>", "<|endoftext|>");
    special(post, "<|startoftext|>", start);
    special(post, "<|endoftext|>", end);
    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    root.add("truncation", null);
    root.add("padding", null);
    root.add("added_tokens", addedTokens);
    root.add("normalizer", JsonParser.parseString(
        "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},{\"type\":\"Lowercase\"}]}"));
    root.add("pre_tokenizer", JsonParser.parseString(
        "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}"));
    root.add("post_processor", post);
    root.add("decoder", JsonParser.parseString(
        "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true}"));
    root.add("model", model);
    return root.toString();
  }

  /** BERT-like: BertNormalizer (accents stripped, CJK split), BertPreTokenizer, WordPiece, [CLS] ... [SEP]. */
  static String wordPiece() {
    String[] words = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "red", "circle", "blue", "square", "##s", "##ing",
        "the", "of", ".", ",", "!", "é", "cafe", "中", "文", "##ed", "shape"};
    JsonObject vocab = new JsonObject();
    for (int i = 0; i < words.length; i++) {
      vocab.addProperty(words[i], i);
    }
    JsonArray addedTokens = new JsonArray();
    for (int i = 0; i < 4; i++) {
      addedTokens.add(added(i, words[i]));
    }
    JsonObject post = template("[CLS]", "[SEP]");
    special(post, "[CLS]", 2);
    special(post, "[SEP]", 3);
    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    root.add("truncation", null);
    root.add("padding", null);
    root.add("added_tokens", addedTokens);
    root.add("normalizer", JsonParser.parseString("{\"type\":\"BertNormalizer\",\"clean_text\":true,"
        + "\"handle_chinese_chars\":true,\"strip_accents\":null,\"lowercase\":true}"));
    root.add("pre_tokenizer", JsonParser.parseString("{\"type\":\"BertPreTokenizer\"}"));
    root.add("post_processor", post);
    root.add("decoder", JsonParser.parseString("{\"type\":\"WordPiece\",\"prefix\":\"##\",\"cleanup\":true}"));
    JsonObject model = new JsonObject();
    model.addProperty("type", "WordPiece");
    model.addProperty("unk_token", "[UNK]");
    model.addProperty("continuing_subword_prefix", "##");
    model.addProperty("max_input_chars_per_word", 100);
    model.add("vocab", vocab);
    root.add("model", model);
    return root.toString();
  }

  /** T5-like: NFKC, Metaspace, Unigram with an unknown piece, an end token; no start token. */
  static String unigram() {
    String[] pieces = {"<pad>", "</s>", "<unk>", "\u2581", "\u2581a", "\u2581red", "\u2581circle", "s", "e", "r", "d",
        "a", "c", "i", "l", "\u2581the", "."};
    JsonArray vocab = new JsonArray();
    for (int i = 0; i < pieces.length; i++) {
      JsonArray p = new JsonArray();
      p.add(pieces[i]);
      p.add(i < 3 ? 0.0 : -1.0 - i * 0.1);
      vocab.add(p);
    }
    JsonArray addedTokens = new JsonArray();
    addedTokens.add(added(0, "<pad>"));
    addedTokens.add(added(1, "</s>"));
    addedTokens.add(added(2, "<unk>"));
    JsonObject post = JsonParser.parseString("""
        {"type":"TemplateProcessing",
         "single":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],
         "pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],
         "special_tokens":{}}""").getAsJsonObject();
    special(post, "</s>", 1);
    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    root.add("truncation", null);
    root.add("padding", null);
    root.add("added_tokens", addedTokens);
    root.add("normalizer", JsonParser.parseString("{\"type\":\"NFKC\"}"));
    root.add("pre_tokenizer", JsonParser.parseString(
        "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"always\",\"split\":true}"));
    root.add("post_processor", post);
    root.add("decoder", JsonParser.parseString(
        "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"always\",\"split\":true}"));
    JsonObject model = new JsonObject();
    model.addProperty("type", "Unigram");
    model.addProperty("unk_id", 2);
    model.add("vocab", vocab);
    model.addProperty("byte_fallback", false);
    root.add("model", model);
    return root.toString();
  }

  // ------------------------------------------------------------ texts

  /** Pieces that exercise normalizers, pre-tokenizers and the Java/Rust string boundary. */
  static final String[] PIECES = {
      "a", "red", "circle", "the", "Square", "CAFÉ", "cafe\u0301", ".", ",", "!", " ", "  ", "\t", "\n", "\r\n",
      "\u00a0", "\u2028", "\u3000", "\u200b", "\u200d", "\u200e", "\u202e", "\ufeff", "\u0000", "\u0001", "\u001b",
      "\u007f", "\u0085", "\u0301", "\u0301\u0301\u0301\u0301", "\u20d0", "\ud83d\ude00", "\ud83d\udc69\u200d\ud83d\udcbb",
      "\ud800", "\udc00", "\udbff\udfff", "\ud83d", "\ude00", "\uffff", "\ufffe", "\ufffd", "\ue000", "\uf8ff",
      "中文", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\u0939\u093f\u0928\u094d\u0926\u0940", "\u1100\u1161\u11a8",
      "\ufdfa", "\u3300", "\ufb03", "\u2460", "\u1e9b\u0323", "[PAD]", "[UNK]", "[CLS]", "[SEP]", "<pad>", "</s>",
      "<unk>", "<|startoftext|>", "<|endoftext|>", "<|endoftext", "##s", "\u2581", "%", "\\", "\"", "'", "<", ">",
      "\u0130", "\u0131", "\u00df", "\u03a3", "\u0345", "\u1f80"};

  @Provide
  Arbitrary<String> texts() {
    Arbitrary<String> piece = Arbitraries.oneOf(Arbitraries.of(PIECES), Arbitraries.strings().all().ofMaxLength(4),
        Arbitraries.strings().withCharRange('\u0300', '\u036f').ofMinLength(1).ofMaxLength(30));
    Arbitrary<String> repeated = Combinators.combine(piece, Arbitraries.integers().between(1, 300))
        .as((p, times) -> p.repeat(times));
    Arbitrary<String> built = Arbitraries.oneOf(piece, piece, repeated).list().ofMaxSize(40).map(l -> String.join("", l));
    return Arbitraries.oneOf(built, Arbitraries.strings().all().ofMaxLength(200));
  }

  @Property(tries = 800)
  void anyText_givesContextLengthIdsInTheVocabulary_orIsRefused(@ForAll("texts") String text,
      @ForAll("tokenizerNames") String name) {
    TextTokenizer tokenizer = TOKENIZERS.get(name);
    FuzzTry.Outcome<TextTokenizer.Tokens> out = FuzzTry.run(TIME_LIMIT, () -> tokenizer.encode(text));
    TextTokenizer.Tokens tokens = out.valueOrOnly(InvalidInputException.class);
    Statistics.label("outcome").collect(tokens == null ? "refused" : "tokens");
    // the text's UTF-16 copy for the native call, and the ids and mask
    out.allocatedAtMost(64L * text.length() + 16L * tokenizer.contextLength() + (256 << 10), name);
    if (tokens == null) {
      return;
    }
    long[] ids = tokens.ids();
    long[] mask = tokens.attentionMask();
    assertThat(ids).hasSize(tokenizer.contextLength());
    assertThat(mask).hasSize(tokenizer.contextLength());
    int real = tokens.length();
    assertThat(real).isPositive();
    for (int i = 0; i < ids.length; i++) {
      assertThat(mask[i]).as("mask[%d]", i).isEqualTo(i < real ? 1 : 0);
      if (i < real) {
        assertThat(ids[i]).as("ids[%d]", i).isBetween(0L, MAX_ID.get(name));
      } else {
        assertThat(ids[i]).as("ids[%d], padding", i).isEqualTo(tokenizer.padId());
      }
    }
    assertThat(tokenizer.encode(text)).as("the same text again").isEqualTo(tokens);
  }

  @Provide
  Arbitrary<String> tokenizerNames() {
    return Arbitraries.of(new ArrayList<>(TOKENIZERS.keySet()));
  }

  /** Texts around and far over max_chars: built from one piece, as long runs of one character are. */
  @Provide
  Arbitrary<String> longTexts() {
    return Combinators.combine(Arbitraries.of(PIECES), Arbitraries.integers().between(1, 60_000))
        .as((piece, times) -> piece.repeat(Math.max(1, times / Math.max(1, piece.length()))));
  }

  @Property(tries = 200)
  void longTexts_areTokenizedInTime_orRefusedWithoutTokenizing(@ForAll("longTexts") String text,
      @ForAll("tokenizerNames") String name) {
    TextTokenizer tokenizer = TOKENIZERS.get(name);
    FuzzTry.Outcome<TextTokenizer.Tokens> out = FuzzTry.run(TIME_LIMIT, () -> tokenizer.encode(text));
    TextTokenizer.Tokens tokens = out.valueOrOnly(InvalidInputException.class);
    long chars = text.codePointCount(0, text.length());
    Statistics.label("length").collect(chars > tokenizer.maxChars() ? "over max_chars" : "within max_chars");
    if (chars > tokenizer.maxChars()) {
      assertThat(tokens).as("a text of %d characters, over max_chars %d", chars, tokenizer.maxChars()).isNull();
      if (!text.isBlank()) {
        assertThat(out.error()).hasMessage("has " + chars + " characters, over the limit of " + tokenizer.maxChars());
      }
      out.allocatedAtMost(4096, "a refusal by length reads only the length");
    } else {
      out.allocatedAtMost(64L * text.length() + 16L * tokenizer.contextLength() + (256 << 10), name);
    }
  }
}
