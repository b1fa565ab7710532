package io.jointspace.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jointspace.server.TestModels;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AssetFileDef;
import org.tensorflow.proto.MetaGraphDef;

/**
 * Files a version's encoder spec or SavedModel names are read from inside its folder only:
 * a tokenizer path or asset file name with {@code ../} or an absolute path, and a link to a file
 * outside, fail the load with a message naming what is wrong.
 */
class VersionFolderTest {
  @TempDir Path repo;

  /** A clip version at repo/clip/1, and a copy of its tokenizer outside every version folder. */
  Path clipWithOutsideTokenizer() throws IOException {
    Path version = repo.resolve("clip/1");
    TestModels.writeClip(version, 10f);
    Files.copy(version.resolve("assets/tokenizer.json"), repo.resolve("outside.json"));
    return version;
  }

  static void setTokenizer(Path version, String tokenizer) throws IOException {
    Path spec = version.resolve(Encoder.SPEC_FILE);
    String text = Files.readString(spec);
    assertThat(text).contains("tokenizer: \"tokenizer.json\"");
    Files.writeString(spec, text.replace("tokenizer: \"tokenizer.json\"", "tokenizer: \"" + tokenizer + "\""));
  }

  static void assertRefused(Path version, String... messageParts) {
    assertThatThrownBy(() -> ModelVersion.load(version, LoadOptions.DEFAULT).close())
        .satisfies(e -> {
          for (String part : messageParts) {
            assertThat(e.getMessage()).contains(part);
          }
        });
  }

  @Test
  void tokenizerPathWithDotDot_isRefused() throws Exception {
    Path version = clipWithOutsideTokenizer();
    setTokenizer(version, "../../../outside.json");
    assertRefused(version, "text.tokenizer", "../../../outside.json", "outside");
  }

  @Test
  void absoluteTokenizerPath_isRefused() throws Exception {
    Path version = clipWithOutsideTokenizer();
    setTokenizer(version, repo.resolve("outside.json").toAbsolutePath().toString());
    assertRefused(version, "text.tokenizer", "absolute");
  }

  @Test
  void tokenizerThatLinksOutside_isRefused() throws Exception {
    Path version = clipWithOutsideTokenizer();
    Files.delete(version.resolve("assets/tokenizer.json"));
    Files.createSymbolicLink(version.resolve("assets/tokenizer.json"), repo.resolve("outside.json").toAbsolutePath());
    assertRefused(version, "assets/tokenizer.json", "outside");
  }

  @Test
  void specThatLinksOutside_isRefused() throws Exception {
    Path version = clipWithOutsideTokenizer();
    Files.move(version.resolve(Encoder.SPEC_FILE), repo.resolve("spec.textproto"));
    Files.createSymbolicLink(version.resolve(Encoder.SPEC_FILE), repo.resolve("spec.textproto").toAbsolutePath());
    assertRefused(version, Encoder.SPEC_FILE, "outside");
  }

  @Test
  void anyAssetThatLinksOutside_isRefused() throws Exception {
    Path version = clipWithOutsideTokenizer();
    Files.createSymbolicLink(version.resolve("assets/vocab.txt"), repo.resolve("outside.json").toAbsolutePath());
    assertRefused(version, "assets/vocab.txt", "outside");
  }

  @Test
  void linksInsideTheVersion_andALinkedVersionFolder_load() throws Exception {
    Path version = repo.resolve("clip/1");
    TestModels.writeClip(version, 10f);
    Files.move(version.resolve("assets/tokenizer.json"), version.resolve("assets/shared-tokenizer.json"));
    Files.createSymbolicLink(version.resolve("assets/tokenizer.json"), Path.of("shared-tokenizer.json"));
    Path linked = repo.resolve("linked/3");
    Files.createDirectories(linked.getParent());
    Files.createSymbolicLink(linked, version.toAbsolutePath());
    try (ModelVersion model = ModelVersion.load(linked, LoadOptions.DEFAULT)) {
      assertThat(model.encoder()).isPresent();
    }
  }

  /** TF Serving's half_plus_two (TF1 graph) declares the asset foo.txt; its name is changed here. */
  @Test
  void savedModelAssetNameLeadingOutside_isRefusedBeforeTensorFlowLoadsIt() throws Exception {
    Path source = Stream.of(Path.of("..", "..", "shared"), Path.of("..", "shared"))
        .map(p -> p.resolve("testdata/savedmodels/saved_model_half_plus_two_2_versions/00000123"))
        .filter(Files::isDirectory).findFirst().orElse(null);
    Assumptions.assumeTrue(source != null, "the third-party SavedModel fixtures (../shared/testdata) are absent");
    Path version = repo.resolve("half/1");
    copy(source, version);
    Files.writeString(repo.resolve("secret.txt"), "not the model's");
    Path pb = version.resolve("saved_model.pb");
    org.tensorflow.proto.SavedModel saved;
    try (InputStream in = Files.newInputStream(pb)) {
      saved = org.tensorflow.proto.SavedModel.parseFrom(in);
    }
    org.tensorflow.proto.SavedModel.Builder changed = saved.toBuilder();
    int renamed = 0;
    for (MetaGraphDef.Builder meta : changed.getMetaGraphsBuilderList()) {
      for (AssetFileDef.Builder asset : meta.getAssetFileDefBuilderList()) {
        asset.setFilename("../../secret.txt");
        renamed++;
      }
      var assets = meta.getCollectionDefMap().get("saved_model_assets");
      if (assets != null) {
        var list = assets.toBuilder();
        for (int i = 0; i < list.getAnyList().getValueCount(); i++) {
          AssetFileDef a = list.getAnyList().getValue(i).unpack(AssetFileDef.class);
          list.getAnyListBuilder().setValue(i, com.google.protobuf.Any.pack(
              a.toBuilder().setFilename("../../secret.txt").build()));
          renamed++;
        }
        meta.putCollectionDef("saved_model_assets", list.build());
      }
    }
    assertThat(renamed).isPositive();
    try (OutputStream out = Files.newOutputStream(pb)) {
      changed.build().writeTo(out);
    }
    assertRefused(version, "../../secret.txt", "outside");
  }

  static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
