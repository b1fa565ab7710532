package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jointspace.config.v1.TextEncoderSpec;
import io.jointspace.server.errors.InvalidInputException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextTokenizerTest {
  // ids: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, a 4, small 5, red 6, circle 7, . 8, blue 9, square 10
  private static final String ADDED_TOKENS = """
      [
        {"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
        {"id":1,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
        {"id":2,"content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
        {"id":3,"content":"[SEP]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}
      ]""";
  private static final String VOCAB = """
      {"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"a":4,"small":5,"red":6,"circle":7,".":8,"blue":9,"square":10}""";
  private static final String CLS_SEP = """
      {"type":"TemplateProcessing",
       "single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},
                 {"SpecialToken":{"id":"[SEP]","type_id":0}}],
       "pair":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},
               {"SpecialToken":{"id":"[SEP]","type_id":0}},{"Sequence":{"id":"B","type_id":1}},
               {"SpecialToken":{"id":"[SEP]","type_id":1}}],
       "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},
                         "[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}}""";

  @TempDir Path dir;

  private static String tokenizerJson(String addedTokens, String vocab, String postProcessor, String padding) {
    return """
        {"version":"1.0","truncation":null,"padding":%s,"added_tokens":%s,
         "normalizer":{"type":"Lowercase"},"pre_tokenizer":{"type":"Whitespace"},"post_processor":%s,
         "decoder":null,"model":{"type":"WordLevel","vocab":%s,"unk_token":"[UNK]"}}"""
        .formatted(padding, addedTokens, postProcessor, vocab);
  }

  private Path write(String name, String json) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, json, StandardCharsets.UTF_8);
    return file;
  }

  private Path wordLevel() throws IOException {
    return write("tokenizer.json", tokenizerJson(ADDED_TOKENS, VOCAB, "null", "null"));
  }

  private static TextEncoderSpec.Builder spec(int contextLength) {
    return TextEncoderSpec.newBuilder().setSignature("s").setInputIds("ids").setOutput("out").setContextLength(contextLength);
  }

  /** Run in a JVM of its own: prints DJL's opt-out properties before and after TextTokenizer loads. */
  public static final class Probe {
    public static void main(String[] args) throws Exception {
      System.out.println("before " + System.getProperty("OPT_OUT_TRACKING") + " " + System.getProperty("ai.djl.offline"));
      Class.forName(TextTokenizer.class.getName(), true, Probe.class.getClassLoader());
      System.out.println("after " + System.getProperty("OPT_OUT_TRACKING") + " " + System.getProperty("ai.djl.offline"));
    }
  }

  @Test
  void loadingTheClass_turnsDjlTelemetryAndDownloadsOff() throws Exception {
    // the build sets both properties for the tests; a fresh JVM without them shows what the class does
    ProcessBuilder pb = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Probe.class.getName())
        .redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().keySet().removeIf(k -> k.equals("OPT_OUT_TRACKING") || k.startsWith("DJL_"));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(out.lines().toList()).as(out).containsExactly("before null null", "after true true");
  }

  @Test
  void encode_lowercasesSplitsPunctuationAndPads() throws IOException {
    try (TextTokenizer t = TextTokenizer.load(wordLevel(), spec(8).build())) {
      TextTokenizer.Tokens tokens = t.encode("A small RED circle.");
      assertThat(tokens.ids()).containsExactly(4, 5, 6, 7, 8, 0, 0, 0);
      assertThat(tokens.attentionMask()).containsExactly(1, 1, 1, 1, 1, 0, 0, 0);
      assertThat(tokens.length()).isEqualTo(5);
      assertThat(t.contextLength()).isEqualTo(8);
      assertThat(t.encode("A small RED circle.")).isEqualTo(tokens);
    }
  }

  @Test
  void unknownWords_becomeUnk() throws IOException {
    try (TextTokenizer t = TextTokenizer.load(wordLevel(), spec(6).build())) {
      assertThat(t.encode("a green hexagon!").ids()).containsExactly(4, 1, 1, 1, 0, 0);
    }
  }

  @Test
  void padding_usesTheSpecsPadId() throws IOException {
    try (TextTokenizer t = TextTokenizer.load(wordLevel(), spec(4).setPadId(9).build())) {
      assertThat(t.padId()).isEqualTo(9);
      TextTokenizer.Tokens tokens = t.encode("red");
      assertThat(tokens.ids()).containsExactly(6, 9, 9, 9);
      assertThat(tokens.attentionMask()).containsExactly(1, 0, 0, 0);
    }
  }

  @Test
  void padId_defaultsToTheTokenizersPadToken() throws IOException {
    // [PAD] at id 5 instead of 0
    String added = ADDED_TOKENS.replace("\"id\":0,\"content\":\"[PAD]\"", "\"id\":11,\"content\":\"[PAD]\"");
    String vocab = VOCAB.replace("\"[PAD]\":0", "\"[PAD]\":11");
    Path file = write("tokenizer.json", tokenizerJson(added, vocab, "null", "null"));
    try (TextTokenizer t = TextTokenizer.load(file, spec(3).build())) {
      assertThat(t.padId()).isEqualTo(11);
      assertThat(t.encode("red").ids()).containsExactly(6, 11, 11);
    }
  }

  @Test
  void padId_comesFromThePaddingBlockFirst() throws IOException {
    String padding = """
        {"strategy":"BatchLongest","direction":"Right","pad_to_multiple_of":null,"pad_id":10,"pad_type_id":0,"pad_token":"square"}""";
    Path file = write("tokenizer.json", tokenizerJson(ADDED_TOKENS, VOCAB, "null", padding));
    try (TextTokenizer t = TextTokenizer.load(file, spec(3).build())) {
      assertThat(t.padId()).isEqualTo(10);
      // the file's own padding (to the longest in a batch) is replaced by context_length padding
      assertThat(t.encode("red").ids()).containsExactly(6, 10, 10);
    }
  }

  @Test
  void padId_comesFromTokenizerConfigWhenTheFileHasNoPadding() throws IOException {
    write("tokenizer_config.json", "{\"pad_token\": \"blue\", \"model_max_length\": 77}");
    Path file = wordLevel();
    try (TextTokenizer t = TextTokenizer.load(file, spec(3).build())) {
      assertThat(t.padId()).isEqualTo(9);
    }
  }

  @Test
  void padId_isZeroWhenTheTokenizerHasNoPadToken() throws IOException {
    String added = """
        [{"id":1,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}]""";
    String vocab = "{\"a\":0,\"[UNK]\":1,\"red\":2}";
    Path file = write("tokenizer.json", tokenizerJson(added, vocab, "null", "null"));
    try (TextTokenizer t = TextTokenizer.load(file, spec(3).build())) {
      assertThat(t.padId()).isZero();
      TextTokenizer.Tokens tokens = t.encode("red");
      assertThat(tokens.ids()).containsExactly(2, 0, 0);
      assertThat(tokens.attentionMask()).containsExactly(1, 0, 0);
    }
  }

  @Test
  void longTexts_areTruncatedToTheContextLength() throws IOException {
    try (TextTokenizer t = TextTokenizer.load(wordLevel(), spec(3).build())) {
      TextTokenizer.Tokens tokens = t.encode("A small RED circle.");
      assertThat(tokens.ids()).containsExactly(4, 5, 6);
      assertThat(tokens.attentionMask()).containsExactly(1, 1, 1);
    }
  }

  @Test
  void specialTokens_areAdded_andKeptWhenTruncating() throws IOException {
    Path file = write("tokenizer.json", tokenizerJson(ADDED_TOKENS, VOCAB, CLS_SEP, "null"));
    try (TextTokenizer t = TextTokenizer.load(file, spec(8).build())) {
      assertThat(t.encode("a red circle").ids()).containsExactly(2, 4, 6, 7, 3, 0, 0, 0);
    }
    try (TextTokenizer t = TextTokenizer.load(file, spec(4).build())) {
      TextTokenizer.Tokens tokens = t.encode("A small RED circle.");
      assertThat(tokens.ids()).containsExactly(2, 4, 5, 3); // [CLS] a small [SEP]
      assertThat(tokens.attentionMask()).containsExactly(1, 1, 1, 1);
    }
  }

  @Test
  void emptyAndWhitespaceText_isRejected() throws IOException {
    try (TextTokenizer t = TextTokenizer.load(wordLevel(), spec(4).build())) {
      for (String empty : new String[] {"", " ", " \t\n ", "\u3000"}) {
        assertThatThrownBy(() -> t.encode(empty)).isInstanceOf(InvalidInputException.class).hasMessage("is empty");
      }
      assertThatThrownBy(() -> t.encode(null)).isInstanceOf(InvalidInputException.class).hasMessage("is empty");
    }
  }

  @Test
  void tooLongText_isRejectedNamingTheLimit() throws IOException {
    try (TextTokenizer t = TextTokenizer.load(wordLevel(), spec(4).setMaxChars(10).build())) {
      assertThat(t.encode("a red blue").ids()).containsExactly(4, 6, 9, 0); // exactly 10 characters
      assertThatThrownBy(() -> t.encode("a red blue."))
          .isInstanceOf(InvalidInputException.class)
          .hasMessage("has 11 characters, over the limit of 10");
      // characters are code points: 10 emoji are 20 UTF-16 units but 10 characters
      String emoji = "\uD83D\uDE00".repeat(10);
      assertThat(t.encode(emoji).ids()).startsWith(1);
    }
  }

  @Test
  void maxChars_defaultsTo1000() throws IOException {
    try (TextTokenizer t = TextTokenizer.load(wordLevel(), spec(4).build())) {
      assertThat(t.maxChars()).isEqualTo(1000);
      assertThat(t.encode("a ".repeat(500)).ids()).containsExactly(4, 4, 4, 4); // 1000 characters
      assertThatThrownBy(() -> t.encode("a ".repeat(500) + "a"))
          .isInstanceOf(InvalidInputException.class).hasMessage("has 1001 characters, over the limit of 1000");
    }
  }

  @Test
  void invalidSpecOrFile_failsNamingTheField() throws IOException {
    Path file = wordLevel();
    assertThatThrownBy(() -> TextTokenizer.load(file, spec(0).build()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("text.context_length must be positive");
    assertThatThrownBy(() -> TextTokenizer.load(file, spec(4).setMaxChars(-1).build()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("text.max_chars must not be negative");
    assertThatThrownBy(() -> TextTokenizer.load(file, spec(4).setPadId(-1).build()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("text.pad_id must not be negative");
    assertThatThrownBy(() -> TextTokenizer.load(dir.resolve("missing.json"), spec(4).build()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("text.tokenizer ")
        .hasMessageContaining("missing.json");
    Path notJson = write("bad.json", "this is not json");
    assertThatThrownBy(() -> TextTokenizer.load(notJson, spec(4).build()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad.json");
    Path notATokenizer = write("other.json", "{\"model\": {\"type\": \"NoSuchModel\"}}");
    assertThatThrownBy(() -> TextTokenizer.load(notATokenizer, spec(4).build()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("other.json");
  }

  @Test
  void isThreadSafe() throws Exception {
    try (TextTokenizer t = TextTokenizer.load(wordLevel(), spec(8).build())) {
      List<String> texts = List.of("a small red circle.", "blue square", "a red square.", "small blue circle");
      List<TextTokenizer.Tokens> expected = new ArrayList<>();
      for (String s : texts) {
        expected.add(t.encode(s));
      }
      List<Callable<List<TextTokenizer.Tokens>>> calls = Collections.nCopies(16, () -> {
        List<TextTokenizer.Tokens> out = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
          for (String s : texts) {
            out.add(t.encode(s));
          }
        }
        return out;
      });
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        for (Future<List<TextTokenizer.Tokens>> f : pool.invokeAll(calls)) {
          List<TextTokenizer.Tokens> got = f.get();
          for (int i = 0; i < got.size(); i++) {
            assertThat(got.get(i)).isEqualTo(expected.get(i % texts.size()));
          }
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void closedTokenizer_refusesWork() throws IOException {
    TextTokenizer t = TextTokenizer.load(wordLevel(), spec(4).build());
    t.close();
    t.close(); // idempotent
    assertThatThrownBy(() -> t.encode("red")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }

  /** Records every URI the JDK's URL connections would go to, and sends them to a closed loopback port. */
  private static final class RecordingProxySelector extends ProxySelector {
    final List<URI> seen = Collections.synchronizedList(new ArrayList<>());

    @Override
    public List<Proxy> select(URI uri) {
      seen.add(uri);
      return List.of(new Proxy(Proxy.Type.HTTP, new InetSocketAddress("127.0.0.1", 9)));
    }

    @Override
    public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {}
  }

  @Test
  void loadingAndEncoding_openNoUrlConnection() throws Exception {
    ProxySelector previous = ProxySelector.getDefault();
    RecordingProxySelector recorder = new RecordingProxySelector();
    ProxySelector.setDefault(recorder);
    try {
      // the recorder sees URL connections (sanity check, loopback only)
      try {
        new URL("http://127.0.0.1:9/probe").openConnection().getInputStream().close();
      } catch (IOException expected) {
        // nothing listens there
      }
      assertThat(recorder.seen).extracting(URI::getPath).containsExactly("/probe");
      recorder.seen.clear();

      try (TextTokenizer t = TextTokenizer.load(wordLevel(), spec(4).build())) {
        t.encode("a red circle");
      }
      // DJL's telemetry entry point, called directly: offline mode makes it return at once.
      ai.djl.util.Ec2Utils.callHome("Huggingface");
      assertThat(ai.djl.util.Utils.isOfflineMode()).isTrue();
      assertThat(recorder.seen).isEmpty();
    } finally {
      ProxySelector.setDefault(previous);
    }
  }
}
