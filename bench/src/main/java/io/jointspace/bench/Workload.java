package io.jointspace.bench;

import com.google.protobuf.ByteString;
import io.jointspace.api.v1.EmbedRequest;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.trainer.Scene;
import io.jointspace.trainer.SceneGenerator;
import io.jointspace.trainer.Split;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;

/**
 * The requests of a run: a few 64x64 PNGs of demo scenes and their captions, rendered once up
 * front (seed fixed), each request carrying exactly one input, cycled round-robin.
 */
final class Workload {
  /**
   * Embed of an image or a caption; ModelInfer of half_plus_two; KServe v2 ServerLive (no work
   * at all). See {@link LoadGenerator}.
   */
  enum Kind { image, text, infer, live }

  static final int DISTINCT = 16;

  private final List<byte[]> pngs = new ArrayList<>();
  private final List<String> captions = new ArrayList<>();
  private final List<EmbedRequest> imageRequests = new ArrayList<>();
  private final List<EmbedRequest> textRequests = new ArrayList<>();
  private final AtomicLong next = new AtomicLong();

  Workload(String model, long version) {
    SceneGenerator generator = new SceneGenerator(20_260_101L, Split.ALL, 64, 64);
    ModelSpec spec = ModelSpec.newBuilder().setName(model).setVersion(version).build();
    for (Scene scene : generator.next(DISTINCT)) {
      byte[] png = png(generator, scene);
      pngs.add(png);
      captions.add(scene.caption());
      imageRequests.add(EmbedRequest.newBuilder().setModel(spec)
          .addInputs(Input.newBuilder().setImage(ByteString.copyFrom(png))).build());
      textRequests.add(EmbedRequest.newBuilder().setModel(spec)
          .addInputs(Input.newBuilder().setText(scene.caption())).build());
    }
  }

  /** {@code scene} rendered by {@code generator}, as PNG bytes. */
  static byte[] png(SceneGenerator generator, Scene scene) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (!ImageIO.write(generator.render(scene), "png", out)) {
        throw new IllegalStateException("no PNG writer");
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  List<byte[]> pngs() {
    return pngs;
  }

  List<String> captions() {
    return captions;
  }

  /** The next request of {@code kind}, round-robin over the distinct inputs; thread-safe. */
  EmbedRequest next(Kind kind) {
    int i = (int) (next.getAndIncrement() % DISTINCT);
    return kind == Kind.image ? imageRequests.get(i) : textRequests.get(i);
  }
}
