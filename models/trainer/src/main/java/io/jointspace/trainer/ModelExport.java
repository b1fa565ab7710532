package io.jointspace.trainer;

import com.google.protobuf.TextFormat;
import io.jointspace.config.v1.ChannelOrder;
import io.jointspace.config.v1.CropMode;
import io.jointspace.config.v1.EncoderSpec;
import io.jointspace.config.v1.ImageEncoderSpec;
import io.jointspace.config.v1.Layout;
import io.jointspace.config.v1.PixelType;
import io.jointspace.config.v1.ResizeFilter;
import io.jointspace.config.v1.TextEncoderSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Writes a trained model as one TF Serving version folder: a clean inference graph (the
 * towers only, no optimizer state) with signatures {@code encode_image} (pixels FP32
 * [-1,S,S,3] -> embedding FP32 [-1,d]) and {@code encode_text} (input_ids, attention_mask
 * INT32 [-1,L] -> embedding), L2-normalized in the graph; {@code assets/tokenizer.json};
 * and {@code assets.extra/jointspace.textproto}, the encoder spec.
 *
 * <p>The folder is assembled next to its target under a non-numeric name (which model
 * servers ignore) and moved into place at the end, replacing an older one.
 */
public final class ModelExport {
  public static final String SPEC_FILE = "jointspace.textproto";

  private ModelExport() {}

  public static void export(TrainedModel model, Path versionDir) throws IOException {
    Path parent = versionDir.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path staging = parent.resolve("." + versionDir.getFileName() + ".staging");
    deleteTree(staging);
    writeSavedModel(model, staging);
    Files.createDirectories(staging.resolve("assets"));
    WordTokenizer.write(staging.resolve("assets/tokenizer.json"));
    Files.createDirectories(staging.resolve("assets.extra"));
    Files.writeString(staging.resolve("assets.extra").resolve(SPEC_FILE),
        "# shapes-clip v" + model.config().version() + ": written by io.jointspace.trainer.Trainer\n"
            + TextFormat.printer().printToString(spec(model)));
    deleteTree(versionDir);
    Files.move(staging, versionDir);
  }

  /** The encoder spec the server reads. */
  public static EncoderSpec spec(TrainedModel model) {
    ModelConfig c = model.config().model();
    ImageEncoderSpec.Builder image = ImageEncoderSpec.newBuilder()
        .setSignature("encode_image").setInput("pixels").setOutput("embedding")
        .setWidth(c.imageSize()).setHeight(c.imageSize())
        .setResize(ResizeFilter.BILINEAR).setCrop(CropMode.CENTER_CROP)
        .setChannelOrder(ChannelOrder.RGB).setLayout(Layout.NHWC).setPixelType(PixelType.FP32);
    for (int i = 0; i < 3; i++) {
      image.addMean(Pixels.MEAN[i]).addStd(Pixels.STD[i]);
    }
    return EncoderSpec.newBuilder()
        .setText(TextEncoderSpec.newBuilder()
            .setSignature("encode_text").setInputIds("input_ids").setAttentionMask("attention_mask")
            .setOutput("embedding").setTokenizer("tokenizer.json").setContextLength(c.contextLength())
            .setPadId(WordTokenizer.PAD))
        .setImage(image)
        .setNormalize(true)
        .setLogitScale(Math.round(model.logitScale() * 1000) / 1000f)
        .build();
  }

  private static void writeSavedModel(TrainedModel model, Path dir) throws IOException {
    ModelConfig c = model.config().model();
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Fixed weights = new Fixed(tf, model);
      Placeholder<TFloat32> pixels = tf.withName("pixels")
          .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, c.imageSize(), c.imageSize(), 3)));
      Placeholder<TInt32> ids = tf.withName("input_ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, c.contextLength())));
      Placeholder<TInt32> mask = tf.withName("attention_mask").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, c.contextLength())));
      Operand<TFloat32> image = tf.withName("image_embedding").identity(DualEncoder.image(tf, weights, c, pixels));
      Operand<TFloat32> text = tf.withName("text_embedding").identity(DualEncoder.text(tf, weights, c, ids, mask));
      weights.assign(s);
      SavedModelBundle.exporter(dir.toString())
          .withSession(s)
          .withFunctions(
              SessionFunction.create(Signature.builder().key("encode_image")
                  .input("pixels", pixels).output("embedding", image).build(), s),
              SessionFunction.create(Signature.builder().key("encode_text")
                  .input("input_ids", ids).input("attention_mask", mask).output("embedding", text).build(), s))
          .export();
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** Weights as variables assigned the trained values from fed tensors (kept out of the graph's constants). */
  private static final class Fixed implements DualEncoder.Weights {
    private record Pending(Placeholder<TFloat32> value, Assign<TFloat32> assign, float[] data, long[] shape) {}

    private final Ops tf;
    private final TrainedModel model;
    private final List<Pending> pending = new ArrayList<>();

    Fixed(Ops tf, TrainedModel model) {
      this.tf = tf;
      this.model = model;
    }

    @Override
    public Operand<TFloat32> get(String name, long[] shape, float std) {
      float[] data = model.weights().get(name);
      if (data == null) {
        throw new IllegalStateException("trained model has no weight '" + name + "'");
      }
      Variable<TFloat32> v = tf.withName(name).variable(Shape.of(shape), TFloat32.class);
      Placeholder<TFloat32> value = tf.withName(name + "_value").placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
      pending.add(new Pending(value, tf.withName(name + "_assign").assign(v, value), data, shape));
      return v;
    }

    void assign(Session s) {
      for (Pending p : pending) {
        try (TFloat32 t = TFloat32.tensorOf(Shape.of(p.shape()), DataBuffers.of(p.data(), true, false))) {
          s.runner().feed(p.value(), t).addTarget(p.assign()).run().close();
        }
      }
    }
  }
}
