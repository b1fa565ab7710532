package io.jointspace.server.api;

import static io.jointspace.server.api.EmbeddingServiceTest.assertStatus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.jointspace.api.v1.ClassifyRequest;
import io.jointspace.api.v1.ClassifyResponse;
import io.jointspace.api.v1.DataType;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.EmbedResponse;
import io.jointspace.api.v1.EmbeddingServiceGrpc;
import io.jointspace.api.v1.GetModelMetadataRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.LabelScore;
import io.jointspace.api.v1.ModelServiceGrpc;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.ScoreRequest;
import io.jointspace.api.v1.ScoreResponse;
import io.jointspace.api.v1.Tensor;
import io.jointspace.server.ServerFixture;
import io.jointspace.server.TestModels;
import io.jointspace.server.runtime.Encoder;
import io.jointspace.server.runtime.LoadOptions;
import io.jointspace.server.runtime.ModelVersion;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Text and image inputs, Classify and Score, on a tiny encoder whose answers are known. */
class MultimodalTest {
  @TempDir static Path repo;
  static ServerFixture fixture;
  static EmbeddingServiceGrpc.EmbeddingServiceBlockingStub stub;

  @BeforeAll
  static void start() throws Exception {
    TestModels.writeClip(repo.resolve("clip/1"), 10f);
    TestModels.writeEncoder(repo.resolve("plain/1"), 1f);
    fixture = ServerFixture.start(repo);
    stub = EmbeddingServiceGrpc.newBlockingStub(fixture.channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    fixture.close();
  }

  static ModelSpec clip() {
    return ModelSpec.newBuilder().setName("clip").build();
  }

  static Input text(String s) {
    return Input.newBuilder().setText(s).build();
  }

  static Input image(Color color, int w, int h, String format) throws Exception {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(color);
    g.fillRect(0, 0, w, h);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(ImageIO.write(img, format, out)).isTrue();
    return Input.newBuilder().setImage(ByteString.copyFrom(out.toByteArray())).build();
  }

  static float[] values(EmbedResponse r, int i) {
    return EmbeddingServiceTest.values(r, i);
  }

  @Test
  void embed_textAndImagesMixed_inInputOrder() throws Exception {
    EmbedResponse r = stub.embed(EmbedRequest.newBuilder().setModel(clip())
        .addInputs(text("red"))
        .addInputs(image(Color.RED, 16, 16, "png"))
        .addInputs(text("A photo of a GREEN."))
        .addInputs(image(Color.BLUE, 30, 20, "bmp"))
        .addInputs(image(Color.GREEN, 9, 12, "gif"))
        .build());
    assertThat(r.getDimension()).isEqualTo(3);
    assertThat(r.getModel().getVersion()).isEqualTo(1);
    float s = (float) (1 / Math.sqrt(3));
    EmbeddingServiceTest.assertEmbedding(values(r, 0), new float[] {1, 0, 0});
    // a red pixel normalized with mean 0.5, std 0.5 is (1, -1, -1)
    EmbeddingServiceTest.assertEmbedding(values(r, 1), new float[] {s, -s, -s});
    EmbeddingServiceTest.assertEmbedding(values(r, 2), new float[] {0, 1, 0});
    EmbeddingServiceTest.assertEmbedding(values(r, 3), new float[] {-s, -s, s});
    EmbeddingServiceTest.assertEmbedding(values(r, 4), new float[] {-s, s, -s});
  }

  @Test
  void servedEmbeddings_equalInProcessOnes() throws Exception {
    List<Input> inputs = List.of(text("a picture of a blue ."), text("red green"), image(Color.ORANGE, 40, 25, "jpeg"));
    EmbedResponse served = stub.embed(EmbedRequest.newBuilder().setModel(clip()).addAllInputs(inputs).build());
    try (ModelVersion model = ModelVersion.load(repo.resolve("clip/1"), LoadOptions.DEFAULT)) {
      Encoder encoder = model.encoder().orElseThrow();
      List<float[]> texts = model.encodeTexts(List.of(encoder.tokenize("a picture of a blue ."), encoder.tokenize("red green")));
      List<float[]> images = model.encodeImages(List.of(encoder.preprocessImage(inputs.get(2).getImage().toByteArray())));
      EmbeddingServiceTest.assertEmbedding(values(served, 0), texts.get(0));
      EmbeddingServiceTest.assertEmbedding(values(served, 1), texts.get(1));
      EmbeddingServiceTest.assertEmbedding(values(served, 2), images.get(0));
    }
  }

  @Test
  void classify_picksTheLabelOfTheImagesColor_bestFirst() throws Exception {
    ClassifyResponse r = stub.classify(ClassifyRequest.newBuilder().setModel(clip())
        .addInputs(image(Color.RED, 8, 8, "png"))
        .addInputs(image(Color.BLUE, 8, 8, "png"))
        .addInputs(text("green"))
        .addAllLabels(List.of("red", "green", "blue"))
        .build());
    assertThat(r.getModel().getVersion()).isEqualTo(1);
    assertThat(r.getResultsList()).extracting(c -> c.getScores(0).getLabel()).containsExactly("red", "blue", "green");
    for (var c : r.getResultsList()) {
      assertThat(c.getScoresCount()).isEqualTo(3);
      assertThat(c.getScoresList().stream().mapToDouble(LabelScore::getProbability).sum()).isCloseTo(1.0, within(1e-5));
      assertThat(c.getScores(0).getProbability()).isGreaterThanOrEqualTo(c.getScores(1).getProbability());
      assertThat(c.getScores(1).getProbability()).isGreaterThanOrEqualTo(c.getScores(2).getProbability());
    }
    // label embeddings average the default templates: the color word dominates, so "green" text scores cosine 1
    assertThat(r.getResults(2).getScores(0).getCosine()).isCloseTo(1f, within(1e-5f));
    // softmax uses the model's logit scale (10): p(red) = e^(10c1) / sum e^(10cj)
    var red = r.getResults(0);
    double c0 = red.getScores(0).getCosine();
    double c1 = red.getScores(1).getCosine();
    double c2 = red.getScores(2).getCosine();
    double expected = Math.exp(10 * c0) / (Math.exp(10 * c0) + Math.exp(10 * c1) + Math.exp(10 * c2));
    assertThat(red.getScores(0).getProbability()).isCloseTo((float) expected, within(1e-5f));
  }

  @Test
  void classify_topKAndCustomTemplates_andRepeatsGiveTheSameAnswer() throws Exception {
    ClassifyRequest request = ClassifyRequest.newBuilder().setModel(clip())
        .addInputs(image(Color.GREEN, 8, 8, "png"))
        .addAllLabels(List.of("red", "green", "blue"))
        .addTemplates("{}")
        .addTemplates("an image of a {} .")
        .setTopK(1)
        .build();
    ClassifyResponse first = stub.classify(request);
    assertThat(first.getResults(0).getScoresList()).extracting(LabelScore::getLabel).containsExactly("green");
    assertThat(stub.classify(request)).isEqualTo(first); // served from the label cache
  }

  @Test
  void score_ranksCaptionsForAnImage_andImagesForACaption() throws Exception {
    ScoreResponse r = stub.score(ScoreRequest.newBuilder().setModel(clip())
        .addQueries(image(Color.BLUE, 8, 8, "png"))
        .addQueries(text("red"))
        .addCandidates(text("a photo of a red ."))
        .addCandidates(text("blue"))
        .addCandidates(image(Color.RED, 8, 8, "png"))
        .setSoftmax(true)
        .build());
    assertThat(r.getRowsCount()).isEqualTo(2);
    var imageRow = r.getRows(0);
    assertThat(imageRow.getCosinesCount()).isEqualTo(3);
    assertThat(imageRow.getCosines(1)).isGreaterThan(imageRow.getCosines(0));
    assertThat(imageRow.getProbabilitiesList().stream().mapToDouble(Float::doubleValue).sum()).isCloseTo(1.0, within(1e-5));
    var textRow = r.getRows(1);
    assertThat(textRow.getCosines(0)).isCloseTo(1f, within(1e-5f));
    assertThat(textRow.getCosines(2)).isGreaterThan(textRow.getCosines(1));
    ScoreResponse plain = stub.score(ScoreRequest.newBuilder().setModel(clip()).addQueries(text("red")).addCandidates(text("red")).build());
    assertThat(plain.getRows(0).getProbabilitiesCount()).isZero();
  }

  @Test
  void metadata_showsTheEncoderSpec() {
    var meta = ModelServiceGrpc.newBlockingStub(fixture.channel)
        .getModelMetadata(GetModelMetadataRequest.newBuilder().setModel(clip()).build());
    assertThat(meta.getEmbeddingDimension()).isEqualTo(3);
    assertThat(meta.getEncoder().getText().getContextLength()).isEqualTo(8);
    assertThat(meta.getEncoder().getImage().getWidth()).isEqualTo(8);
    assertThat(meta.getEncoder().getLogitScale()).isEqualTo(10f);
  }

  @Test
  void badInputs_nameTheFieldAndIndex() throws Exception {
    assertStatus(() -> stub.embed(EmbedRequest.newBuilder().setModel(clip()).addInputs(text("red")).addInputs(text("  ")).build()),
        Status.Code.INVALID_ARGUMENT, "inputs[1].text", "empty");
    assertStatus(() -> stub.embed(EmbedRequest.newBuilder().setModel(clip()).addInputs(text("red ".repeat(100))).build()),
        Status.Code.INVALID_ARGUMENT, "inputs[0].text", "200");
    assertStatus(() -> stub.embed(EmbedRequest.newBuilder().setModel(clip()).addInputs(text("red"))
            .addInputs(Input.newBuilder().setImage(ByteString.copyFromUtf8("not an image"))).build()),
        Status.Code.INVALID_ARGUMENT, "inputs[1].image");
    assertStatus(() -> stub.embed(EmbedRequest.newBuilder().setModel(clip()).addInputs(Input.newBuilder().setImage(ByteString.EMPTY)).build()),
        Status.Code.INVALID_ARGUMENT, "inputs[0].image");
    // two bad inputs of different kinds: the first in request order is named, whichever kind fails first
    Input badImage = Input.newBuilder().setImage(ByteString.copyFromUtf8("not an image")).build();
    assertStatus(() -> stub.embed(EmbedRequest.newBuilder().setModel(clip()).addInputs(badImage).addInputs(text("  ")).build()),
        Status.Code.INVALID_ARGUMENT, "inputs[0].image");
    assertStatus(() -> stub.embed(EmbedRequest.newBuilder().setModel(clip()).addInputs(text("ok")).addInputs(text("  "))
            .addInputs(badImage).build()),
        Status.Code.INVALID_ARGUMENT, "inputs[1].text");
    assertStatus(() -> stub.embed(EmbedRequest.newBuilder().setModel(ModelSpec.newBuilder().setName("plain")).addInputs(text("red")).build()),
        Status.Code.INVALID_ARGUMENT, "no encoder spec");
    Input tensor = Input.newBuilder().setTensor(Tensor.newBuilder().setDtype(DataType.FP32).addShape(4)
        .addFloatVal(1).addFloatVal(2).addFloatVal(3).addFloatVal(4)).build();
    assertStatus(() -> stub.embed(EmbedRequest.newBuilder().setModel(clip()).addInputs(tensor).addInputs(text("red")).build()),
        Status.Code.INVALID_ARGUMENT, "inputs[1].text", "mixed");
    assertStatus(() -> stub.classify(ClassifyRequest.newBuilder().setModel(clip()).addInputs(text("red")).build()),
        Status.Code.INVALID_ARGUMENT, "labels is empty");
    assertStatus(() -> stub.classify(ClassifyRequest.newBuilder().setModel(clip()).addInputs(text("red"))
            .addLabels("red").addLabels("red").build()),
        Status.Code.INVALID_ARGUMENT, "labels[1]", "twice");
    assertStatus(() -> stub.classify(ClassifyRequest.newBuilder().setModel(clip()).addInputs(text("red"))
            .addLabels("red").addTemplates("no placeholder").build()),
        Status.Code.INVALID_ARGUMENT, "templates[0]");
    assertStatus(() -> stub.classify(ClassifyRequest.newBuilder().setModel(clip()).addInputs(text("red"))
            .addLabels("red").setTopK(-1).build()),
        Status.Code.INVALID_ARGUMENT, "top_k");
    assertStatus(() -> stub.classify(ClassifyRequest.newBuilder().setModel(clip()).addLabels("red").build()),
        Status.Code.INVALID_ARGUMENT, "inputs is empty");
    assertStatus(() -> stub.score(ScoreRequest.newBuilder().setModel(clip()).addQueries(text("red")).build()),
        Status.Code.INVALID_ARGUMENT, "candidates is empty");
    assertStatus(() -> stub.score(ScoreRequest.newBuilder().setModel(clip()).addQueries(text("red"))
            .addCandidates(tensor).build()),
        Status.Code.INVALID_ARGUMENT, "candidates[0].tensor");
    assertStatus(() -> stub.classify(ClassifyRequest.newBuilder().setModel(ModelSpec.newBuilder().setName("nope"))
            .addInputs(text("red")).addLabels("red").build()),
        Status.Code.NOT_FOUND, "nope");
  }

  static ClassifyRequest.Builder classifyLabels(int labels, int labelChars) {
    ClassifyRequest.Builder request = ClassifyRequest.newBuilder().setModel(clip()).addInputs(text("red"));
    for (int i = 0; i < labels; i++) {
      String id = "label" + i + " ";
      request.addLabels(id + "x".repeat(Math.max(0, labelChars - id.length())));
    }
    return request;
  }

  @Test
  void classify_hugeTemplatesTimesManyLabels_isRefusedBeforeAnyTextIsBuilt() {
    // 1000 labels x 60 templates of 200 KB would be 12 GB of label texts
    ClassifyRequest.Builder request = classifyLabels(1000, 10)
        .addTemplates("{}").addTemplates("a {}").addTemplates("the {}");
    String huge = "{} " + "y".repeat(200 * 1024);
    for (int i = 3; i < 60; i++) {
      request.addTemplates(huge);
    }
    assertStatus(() -> stub.withDeadlineAfter(30, TimeUnit.SECONDS).classify(request.build()),
        Status.Code.INVALID_ARGUMENT, "templates[3]", "at most 1000");
  }

  @Test
  void classify_thousandLabelsWithTheDefaultTemplates_fitsAQueueOfOnly1024Items() {
    // 1000 labels x 4 templates = 4000 label texts: more than the text queue holds at once
    ClassifyResponse response = stub.classify(classifyLabels(1000, 10).setTopK(3).build());
    assertThat(response.getResultsList()).singleElement()
        .satisfies(c -> assertThat(c.getScoresList()).hasSize(3));
  }

  @Test
  void classify_labelOverItsLength_isNamed() {
    ClassifyRequest.Builder request = classifyLabels(10, 10);
    request.setLabels(5, "z".repeat(1001));
    assertStatus(() -> stub.classify(request.build()), Status.Code.INVALID_ARGUMENT, "labels[5]", "at most 1000");
  }

  @Test
  void classify_labelsTimesTemplates_isCappedBeforeEmbedding() {
    ClassifyRequest.Builder request = classifyLabels(1000, 10);
    for (int i = 0; i < 64; i++) {
      request.addTemplates(i + " {}");
    }
    assertStatus(() -> stub.classify(request.build()), Status.Code.INVALID_ARGUMENT, "labels", "templates",
        "64000 label texts", "at most 16384");
  }

  @Test
  void classify_charactersOfAllLabelTexts_areCapped_placeholdersCounted() {
    // 16 x 1000 texts of about 1000 characters each: within the count, over the characters
    ClassifyRequest.Builder longTemplates = classifyLabels(1000, 10);
    for (int i = 0; i < 16; i++) {
      longTemplates.addTemplates(i + " {} " + "t".repeat(980));
    }
    assertStatus(() -> stub.classify(longTemplates.build()), Status.Code.INVALID_ARGUMENT, "labels and templates",
        "at most " + (4 << 20));
    // a short template that repeats {} multiplies the label's length
    ClassifyRequest.Builder repeated = classifyLabels(100, 1000).addTemplates("{}".repeat(400));
    assertStatus(() -> stub.classify(repeated.build()), Status.Code.INVALID_ARGUMENT, "labels and templates");
  }

  @Test
  void decompressionBomb_isRejectedFromItsHeader() {
    byte[] png = pngHeaderClaiming(100_000, 100_000);
    assertStatus(() -> stub.embed(EmbedRequest.newBuilder().setModel(clip())
            .addInputs(Input.newBuilder().setImage(ByteString.copyFrom(png))).build()),
        Status.Code.INVALID_ARGUMENT, "inputs[0].image");
  }

  /** A PNG signature and IHDR chunk claiming a size, with no pixel data. */
  static byte[] pngHeaderClaiming(int width, int height) {
    java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(17);
    ihdr.put("IHDR".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(width).putInt(height)
        .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(ihdr.array());
    java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(8 + 4 + 17 + 4);
    out.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}).putInt(13).put(ihdr.array()).putInt((int) crc.getValue());
    return out.array();
  }
}
