package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.jointspace.server.TestModels;
import io.jointspace.server.batching.BatchScheduler;
import io.jointspace.server.batching.BatchingOptions;
import io.jointspace.server.batching.DeadlineExceededException;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.errors.OverloadedException;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The encode path of one loaded version, without gRPC: admission, preparation on the pool,
 * one queue per kind, vectors back in input order, errors named in request order.
 */
class ModelVersionTest {
  @TempDir static Path repo;
  static PreprocessPool pool;
  static BatchScheduler scheduler;
  static ModelVersion clip;
  static ModelVersion small;
  static ModelVersion tensorsOnly;

  @BeforeAll
  static void load() throws Exception {
    TestModels.writeClip(repo.resolve("clip/1"), 10f);
    TestModels.writeEncoder(repo.resolve("encoder/1"), 1f);
    pool = new PreprocessPool(2, 64);
    scheduler = BatchScheduler.create(2);
    BatchingOptions batching = BatchingOptions.DEFAULT.withMaxQueueDelay(Duration.ofMillis(1));
    clip = ModelVersion.load(repo.resolve("clip/1"), "clip@1", LoadOptions.DEFAULT, ImageLimits.DEFAULT, scheduler,
        batching, pool);
    small = ModelVersion.load(repo.resolve("clip/1"), "small@1", LoadOptions.DEFAULT, ImageLimits.DEFAULT, scheduler,
        batching.withMaxQueuedItems(2), pool);
    tensorsOnly = ModelVersion.load(repo.resolve("encoder/1"), LoadOptions.DEFAULT);
  }

  @AfterAll
  static void close() {
    for (ModelVersion v : new ModelVersion[] {clip, small, tensorsOnly}) {
      if (v != null) {
        v.close();
      }
    }
    scheduler.close();
    pool.close();
  }

  static byte[] png(Color color) throws Exception {
    BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 8; y++) {
      for (int x = 0; x < 8; x++) {
        img.setRGB(x, y, color.getRGB());
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  static String field(int i) {
    return "inputs[" + i + "]";
  }

  @Test
  void encode_mixedTextsAndImages_givesTheEncodersOwnVectors_inInputOrder() throws Exception {
    byte[] red = png(Color.RED);
    List<float[]> got = clip.encode(List.of(new Content.Text("red"), new Content.Image(red),
        new Content.Text("green blue")), ModelVersionTest::field, CallScope.NONE);
    Encoder e = clip.encoder().orElseThrow();
    List<float[]> texts = clip.encodeTexts(List.of(e.tokenize("red"), e.tokenize("green blue")));
    List<float[]> images = clip.encodeImages(List.of(e.preprocessImage(red)));
    assertThat(got).hasSize(3);
    assertThat(got.get(0)).containsExactly(texts.get(0), within(1e-6f));
    assertThat(got.get(1)).containsExactly(images.get(0), within(1e-6f));
    assertThat(got.get(2)).containsExactly(texts.get(1), within(1e-6f));
    float s = (float) (1 / Math.sqrt(2));
    assertThat(got.get(2)).containsExactly(new float[] {0, s, s}, within(1e-6f));
  }

  @Test
  void encode_namesTheFirstBadInputInRequestOrder_whicheverKindFailsFirst() throws Exception {
    byte[] notAnImage = {1, 2, 3};
    assertThatThrownBy(() -> clip.encode(List.of(new Content.Text("red"), new Content.Image(notAnImage),
        new Content.Text("")), ModelVersionTest::field, CallScope.NONE))
        .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("inputs[1].image");
    assertThatThrownBy(() -> clip.encode(List.of(new Content.Text(""), new Content.Image(notAnImage)),
        ModelVersionTest::field, CallScope.NONE))
        .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("inputs[0].text");
  }

  @Test
  void encode_onAVersionWithoutEncoderSpec_namesTheModel() {
    assertThatThrownBy(() -> tensorsOnly.encode(List.of(new Content.Text("red")), ModelVersionTest::field,
        CallScope.NONE))
        .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("model:").hasMessageContaining("no encoder spec");
    assertThat(tensorsOnly.embeddingDimension()).isEqualTo(3);
    assertThat(clip.embeddingDimension()).isEqualTo(3);
  }

  @Test
  void encode_refusedByAFullQueue_isOverloaded_andHoldsNoRoomAfterwards() {
    List<Content> three = List.of(new Content.Text("red"), new Content.Text("green"), new Content.Text("blue"));
    assertThatThrownBy(() -> small.encode(three, ModelVersionTest::field, CallScope.NONE))
        .isInstanceOfSatisfying(OverloadedException.class, e -> {
          assertThat(e.resource()).isEqualTo("small@1/encode_text");
          assertThat(e.capacity()).isEqualTo(2);
          assertThat(e.requested()).isEqualTo(3);
        });
    for (int round = 0; round < 3; round++) {
      assertThat(small.encode(three.subList(0, 2), ModelVersionTest::field, CallScope.NONE)).hasSize(2);
    }
  }

  @Test
  void encode_ofACallThatEnded_doesNoWork() {
    CallScope cancelled = CallScope.withTimeout(Duration.ofSeconds(30));
    cancelled.cancel();
    assertThatThrownBy(() -> clip.encode(List.of(new Content.Text("red")), ModelVersionTest::field, cancelled))
        .isInstanceOf(CancellationException.class);
    assertThatThrownBy(() -> clip.encode(List.of(new Content.Text("red")), ModelVersionTest::field,
        CallScope.withTimeout(Duration.ZERO)))
        .isInstanceOf(DeadlineExceededException.class);
  }

  @Test
  void similarity_cosineSoftmaxAndMean() {
    assertThat(Similarity.cosine(new float[] {1, 0}, new float[] {1, 1})).isCloseTo((float) (1 / Math.sqrt(2)),
        within(1e-6f));
    assertThat(Similarity.cosine(new float[] {0, 0}, new float[] {1, 1})).isZero();
    float[] p = Similarity.softmax(new float[] {1, 0}, 10f);
    assertThat(p[0] + p[1]).isCloseTo(1f, within(1e-6f));
    assertThat(p[0] / p[1]).isCloseTo((float) Math.exp(10), within(1f));
    assertThat(Similarity.normalizedMean(List.of(new float[] {2, 0}, new float[] {0, 5})))
        .containsExactly(new float[] {(float) (1 / Math.sqrt(2)), (float) (1 / Math.sqrt(2))}, within(1e-6f));
  }
}
