package io.jointspace.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WordTokenizerTest {

  @Test
  void tokenizerJson_loadsWithDjl_andRoundTripsACaption(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tokenizer.json");
    WordTokenizer.write(file);
    try (WordTokenizer t = WordTokenizer.load(file, 16)) {
      String caption = "A photo of an Orange star on the left.";
      assertThat(t.tokens(caption)).containsExactly("a", "photo", "of", "an", "orange", "star", "on", "the", "left", ".");
      int[][] enc = t.encode(caption);
      List<String> vocab = Captions.vocabulary();
      for (int i = 0; i < 10; i++) {
        assertThat(enc[0][i]).isEqualTo(vocab.indexOf(t.tokens(caption)[i]) + 2);
        assertThat(enc[1][i]).isEqualTo(1);
      }
      for (int i = 10; i < 16; i++) {
        assertThat(enc[0][i]).isEqualTo(WordTokenizer.PAD);
        assertThat(enc[1][i]).isZero();
      }
    }
  }

  @Test
  void everyVocabularyWord_hasItsOwnId_andUnknownWordsMapToUnk(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tokenizer.json");
    WordTokenizer.write(file);
    try (WordTokenizer t = WordTokenizer.load(file, 4)) {
      List<String> vocab = Captions.vocabulary();
      for (int i = 0; i < vocab.size(); i++) {
        assertThat(t.encode(vocab.get(i))[0][0]).as(vocab.get(i)).isEqualTo(i + 2);
      }
      assertThat(t.encode("a zebra")[0]).containsExactly(2, WordTokenizer.UNK, 0, 0);
      assertThat(t.encode("a b c d e f")[1]).containsExactly(1, 1, 1, 1);
    }
  }
}
