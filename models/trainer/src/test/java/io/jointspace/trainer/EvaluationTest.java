package io.jointspace.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class EvaluationTest {

  @Test
  void recall_countsARetrievedItemWithTheSameCaptionAsAHit() {
    // query 0 and 1 share a caption; candidate 1 is the best match for query 0.
    List<float[]> queries = List.of(new float[] {1, 0}, new float[] {1, 0}, new float[] {0, 1});
    List<float[]> candidates = List.of(new float[] {0.9f, 0.1f}, new float[] {1, 0}, new float[] {0, 1});
    List<String> captions = List.of("a red star", "a red star", "a blue cross");
    double[] r = Evaluation.recall(queries, candidates, captions, captions);
    assertThat(r).containsExactly(1.0, 1.0);
  }

  @Test
  void recall_missesWhenOnlyAnotherCaptionRanksFirst() {
    List<float[]> queries = List.of(new float[] {1, 0}, new float[] {0, 1});
    List<float[]> candidates = List.of(new float[] {0, 1}, new float[] {1, 0});
    List<String> captions = List.of("a red star", "a blue cross");
    assertThat(Evaluation.recall(queries, candidates, captions, captions)).containsExactly(0.0, 1.0);
  }

  @Test
  void topK_ranksBestFirst_andBreaksTiesByIndex() {
    assertThat(Evaluation.topK(new float[] {0.1f, 0.5f, 0.5f, 0.9f}, 3)).containsExactly(3, 1, 2);
  }
}
