package io.jointspace.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.config.v1.EncoderSpec;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClipTrainingSmokeTest {

  @Test
  void tinyTrainingRun_exportsASavedModelThatLoadsAndGivesNormalizedEmbeddings(@TempDir Path dir) throws Exception {
    TrainConfig config = new TrainConfig(3, new ModelConfig(8, new int[] {4, 8, 8, 8}, 16, 8, 8, 32, 16), 5, 16, 1e-3f, 7, 1);
    TrainedModel trained = ClipTraining.train(config, new PrintStream(OutputStream.nullOutputStream()), 0);
    assertThat(Float.isFinite(trained.finalLoss())).isTrue();
    assertThat(trained.logitScale()).isBetween(1f, ClipTraining.MAX_LOGIT_SCALE);

    Path version = dir.resolve("shapes-clip/3");
    ModelExport.export(trained, version);
    assertThat(version.resolve("saved_model.pb")).isRegularFile();
    assertThat(version.resolve("assets/tokenizer.json")).isRegularFile();
    assertThat(version.resolve("assets.extra/jointspace.textproto")).isRegularFile();
    assertThat(Files.list(dir.resolve("shapes-clip")).map(p -> p.getFileName().toString())).containsExactly("3");

    try (ShapesClipModel model = ShapesClipModel.load(version)) {
      EncoderSpec spec = model.spec();
      assertThat(spec.getText().getContextLength()).isEqualTo(16);
      assertThat(spec.getImage().getWidth()).isEqualTo(32);
      assertThat(spec.getImage().getMeanList()).hasSize(3);
      assertThat(spec.getNormalize()).isTrue();
      assertThat(spec.getLogitScale()).isEqualTo(trained.logitScale(), org.assertj.core.data.Offset.offset(1e-3f));

      SceneGenerator g = new SceneGenerator(99, Split.ALL, 32, 32);
      List<Scene> scenes = g.next(3);
      List<float[]> images = model.encodeImages(scenes.stream().map(g::render).toList());
      List<float[]> texts = model.encodeTexts(List.of("a photo of a red circle.", scenes.get(0).caption()));
      assertThat(images).hasSize(3);
      assertThat(texts).hasSize(2);
      for (float[] v : concat(images, texts)) {
        assertThat(v).hasSize(8);
        double norm = 0;
        for (float x : v) {
          assertThat(Float.isFinite(x)).isTrue();
          norm += x * x;
        }
        assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
      }
    }
  }

  @Test
  void exportedGraph_normalizesByItself(@TempDir Path dir) throws Exception {
    TrainConfig config = new TrainConfig(1, new ModelConfig(4, new int[] {2, 2, 2, 2}, 4, 4, 4, 32, 8), 2, 8, 1e-3f, 1, 1);
    Path version = dir.resolve("1");
    ModelExport.export(ClipTraining.train(config, new PrintStream(OutputStream.nullOutputStream()), 0), version);
    SceneGenerator g = new SceneGenerator(5, Split.ALL, 32, 32);
    float[] pixels = new float[2 * 32 * 32 * 3];
    Pixels.write(g.render(g.next()), pixels, 0);
    Pixels.write(g.render(g.next()), pixels, 32 * 32 * 3);
    try (org.tensorflow.SavedModelBundle b = org.tensorflow.SavedModelBundle.load(version.toString(), "serve");
         org.tensorflow.types.TFloat32 px = org.tensorflow.types.TFloat32.tensorOf(org.tensorflow.ndarray.Shape.of(2, 32, 32, 3),
             org.tensorflow.ndarray.buffer.DataBuffers.of(pixels, true, false));
         org.tensorflow.Result r = b.function("encode_image").call(java.util.Map.of("pixels", px))) {
      org.tensorflow.types.TFloat32 out = (org.tensorflow.types.TFloat32) r.get("embedding").orElseThrow();
      assertThat(out.shape().asArray()).containsExactly(2, 4);
      double norm = 0;
      for (int j = 0; j < 4; j++) {
        norm += out.getFloat(0, j) * out.getFloat(0, j);
      }
      assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
    }
  }

  private static List<float[]> concat(List<float[]> a, List<float[]> b) {
    return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
  }
}
