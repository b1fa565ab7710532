package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.config.v1.ServerConfig;
import io.jointspace.api.inference.GRPCInferenceServiceGrpc;
import io.jointspace.api.inference.InferParameter;
import io.jointspace.api.inference.InferTensorContents;
import io.jointspace.api.inference.ModelInferRequest;
import io.jointspace.api.inference.ModelInferResponse;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Text length buckets over gRPC: a text encoder whose signature takes sequences of any length
 * gets each batch padded only to its bucket (the model reports the length it was fed), one
 * whose signature fixes the length is padded to it, and the padding ratio of every batch
 * reaches /metrics. Also: a lone call does not wait out the queue delay.
 */
class LengthBucketsTest {
  @TempDir static Path repo;
  static ServerFixture server;
  static int metricsPort;

  @BeforeAll
  static void start() throws Exception {
    TestModels.writeClip(repo.resolve("dynamic/1"), 10f, true);
    TestModels.writeClip(repo.resolve("fixed/1"), 10f, false);
    TestModels.writeClip(repo.resolve("raw/1"), 10f, true); // its own queue, for the raw-tensor test
    metricsPort = ServerFixture.freePort();
    ServerConfig.Builder config = ServerConfig.newBuilder().setMetricsPort(metricsPort);
    // a queue delay far longer than the test: a lone call runs at once because nothing else is
    // admitted (wait_only_for_admitted, the default), not because its delay passed
    config.getBatchingBuilder().addLengthBuckets(4).addLengthBuckets(2).addLengthBuckets(30)
        .setMaxQueueDelayMicros(30_000_000);
    server = ServerFixture.start(config, repo);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static EmbedResponse embed(String model, String text) {
    return EmbeddingServiceGrpc.newBlockingStub(server.channel).withDeadlineAfter(60, TimeUnit.SECONDS)
        .embed(EmbedRequest.newBuilder().setModel(ModelSpec.newBuilder().setName(model))
            .addInputs(Input.newBuilder().setText(text)).build());
  }

  /**
   * The length the dynamic model was fed, for a text of colour words only: its colour axes
   * then sum to 1 before normalization, and its fourth axis is the fed length / 100.
   */
  static float fedLength(EmbedResponse r) {
    float[] v = EmbeddingServiceTest.values(r, 0);
    return v[3] / (v[0] + v[1] + v[2]) * 100;
  }

  @Test
  void rawTensorsFedToTheTextSignature_runAtTheLengthFed() {
    // ModelInfer feeds the text signature directly: 8 columns with one real token, and 12
    // (beyond the context length 8); neither is cut to a bucket
    for (int width : new int[] {8, 12}) {
      int[] ids = new int[width];
      int[] mask = new int[width];
      ids[0] = TestModels.CLIP_VOCAB.indexOf("red");
      mask[0] = 1;
      ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("raw")
          .putParameters(InferenceServiceImpl.SIGNATURE_PARAMETER,
              InferParameter.newBuilder().setStringParam("encode_text").build())
          .addInputs(InferenceServiceTest.input("input_ids", "INT32", 1, width)
              .setContents(InferTensorContents.newBuilder().addAllIntContents(java.util.Arrays.stream(ids).boxed().toList())))
          .addInputs(InferenceServiceTest.input("attention_mask", "INT32", 1, width)
              .setContents(InferTensorContents.newBuilder().addAllIntContents(java.util.Arrays.stream(mask).boxed().toList())))
          .build();
      ModelInferResponse r = GRPCInferenceServiceGrpc.newBlockingStub(server.channel)
          .withDeadlineAfter(60, TimeUnit.SECONDS).modelInfer(request);
      List<Float> v = r.getOutputs(0).getContents().getFp32ContentsList();
      assertThat(v).hasSize(4);
      assertThat(v.get(0)).isCloseTo(1f, within(1e-6f));
      assertThat(v.get(3)).as("fed length / 100").isCloseTo(width / 100f, within(1e-6f));
    }
  }

  @Test
  void dynamicSignature_isPaddedToTheBucket_fixedOneToItsLength_andPaddingIsMeasured() throws Exception {
    long start = System.nanoTime();
    // buckets 2, 4 and the context length 8 (30 lies beyond it); calls one at a time, so
    // each batch is one text
    assertThat(fedLength(embed("dynamic", "red"))).isCloseTo(2f, within(1e-4f)); // 1 token
    assertThat(fedLength(embed("dynamic", "red red"))).isCloseTo(2f, within(1e-4f)); // 2
    assertThat(fedLength(embed("dynamic", "red red red"))).isCloseTo(4f, within(1e-4f)); // 3
    assertThat(fedLength(embed("dynamic", "red red red red red red red"))).isCloseTo(8f, within(1e-4f)); // 7
    // the cut keeps every real token: the colour axes are those of the whole text
    EmbedResponse mixed = embed("dynamic", "red green blue");
    float[] v = EmbeddingServiceTest.values(mixed, 0);
    assertThat(v[0]).isCloseTo(v[1], within(1e-6f));
    assertThat(v[1]).isCloseTo(v[2], within(1e-6f));
    assertThat(fedLength(mixed)).isCloseTo(4f, within(1e-4f));

    embed("fixed", "red");
    embed("fixed", "red green");
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start))
        .as("seven lone calls, none waiting out the 30 s queue delay").isLessThan(20);

    String text = MetricsTest.get(metricsPort, "/metrics").body();
    String dynamic = "queue=\"dynamic@1/encode_text\"";
    // padding 1/2, 0, 1/4, 1/8, 1/4
    assertThat(MetricsTest.value(text, "jointspace_batch_padding_ratio_count", dynamic)).isEqualTo(5);
    assertThat(MetricsTest.value(text, "jointspace_batch_padding_ratio_sum", dynamic))
        .isCloseTo(0.5 + 0 + 0.25 + 0.125 + 0.25, within(1e-9));
    String fixed = "queue=\"fixed@1/encode_text\"";
    // padded to 8: 7/8 and 6/8
    assertThat(MetricsTest.value(text, "jointspace_batch_padding_ratio_sum", fixed)).isCloseTo(13 / 8.0, within(1e-9));
    assertThat(MetricsTest.value(text, "jointspace_batch_queue_depth", dynamic)).isEqualTo(0);
    assertThat(MetricsTest.value(text, "jointspace_batch_queue_depth", "queue=\"fixed@1/encode_image\"")).isEqualTo(0);
  }
}
