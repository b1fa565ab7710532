package io.jointspace.server.runtime;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.tensorflow.proto.AssetFileDef;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.MetaGraphDef;

/**
 * One version's folder as the files its encoder spec and its SavedModel name are read from:
 * a name is resolved inside the folder it belongs in ({@code assets/}, {@code assets.extra/})
 * and refused when it is absolute, climbs out with {@code ..}, or leads (through a symbolic
 * link) to a file outside the version's folder. Links that stay inside it, and a version folder
 * that is itself a link, are fine.
 *
 * <p>This keeps a spec or an asset list from making the server read its other files by
 * accident; it is no sandbox: a model repository runs with the server's rights (TensorFlow
 * executes its graphs) and must be trusted.
 */
final class VersionFolder {
  private final Path dir;
  private final Path real;

  private VersionFolder(Path dir, Path real) {
    this.dir = dir;
    this.real = real;
  }

  /** @throws IllegalArgumentException when the folder cannot be resolved */
  static VersionFolder of(Path dir) {
    try {
      return new VersionFolder(dir, dir.toRealPath());
    } catch (IOException e) {
      throw new IllegalArgumentException("the version folder cannot be read: " + e.getMessage(), e);
    }
  }

  /**
   * The file {@code name} (as a spec or the SavedModel gives it) in the version's {@code folder},
   * whether or not it exists.
   *
   * @param what the name's source for messages, for example {@code "text.tokenizer"}
   * @throws IllegalArgumentException naming {@code what} when the name leads outside
   */
  Path file(String folder, String name, String what) {
    Path given;
    try {
      given = Path.of(name);
    } catch (java.nio.file.InvalidPathException e) {
      throw new IllegalArgumentException(what + " '" + name + "' is not a file name: " + e.getMessage(), e);
    }
    if (given.isAbsolute()) {
      throw new IllegalArgumentException(what + " '" + name + "' is an absolute path; give a name inside the"
          + " version's " + folder + "/ folder");
    }
    Path base = dir.resolve(folder).normalize();
    Path file = base.resolve(given).normalize();
    if (!file.startsWith(base)) {
      throw new IllegalArgumentException(what + " '" + name + "' leads outside the version's " + folder
          + "/ folder; give a name inside it");
    }
    requireInside(file);
    return file;
  }

  /**
   * Refuses a file or folder that is (or is under) a link to something outside the version's
   * folder; one that does not exist passes.
   */
  void requireInside(Path file) {
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Path target;
    try {
      target = file.toRealPath();
    } catch (IOException e) {
      throw new IllegalArgumentException(relative(file) + " cannot be resolved: " + e.getMessage(), e);
    }
    if (!target.startsWith(real)) {
      throw new IllegalArgumentException(relative(file) + " is a link to a file outside the version's folder;"
          + " the files a version reads must be inside it");
    }
  }

  /**
   * Checks every entry under the version's {@code assets/} and {@code assets.extra/} folders
   * ({@link #requireInside}), and every asset file name the SavedModel declares.
   */
  void checkAssets() {
    for (String folder : new String[] {"assets", "assets.extra"}) {
      Path top = dir.resolve(folder);
      if (!Files.exists(top, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      requireInside(top);
      try (Stream<Path> entries = Files.walk(top)) {
        entries.forEach(this::requireInside);
      } catch (IOException | UncheckedIOException e) {
        throw new IllegalArgumentException(folder + "/ cannot be read: " + e.getMessage(), e);
      }
    }
    for (String name : assetFileNames()) {
      file("assets", name, "the SavedModel's asset file");
    }
  }

  private String relative(Path file) {
    return dir.relativize(file).toString();
  }

  /**
   * The asset file names of every MetaGraph in the SavedModel ({@code asset_file_def} and the
   * TF1 {@code saved_model_assets} collection). A binary {@code saved_model.pb} is streamed
   * and its graphs skipped, so no second copy of a large model is held.
   */
  List<String> assetFileNames() {
    List<String> names = new ArrayList<>();
    Path pb = dir.resolve("saved_model.pb");
    try {
      if (Files.isRegularFile(pb)) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(pb), 1 << 16)) {
          CodedInputStream s = CodedInputStream.newInstance(in);
          s.setSizeLimit(Integer.MAX_VALUE);
          for (int tag = s.readTag(); tag != 0; tag = s.readTag()) {
            if (WireFormat.getTagFieldNumber(tag) == 2 && lengthDelimited(tag)) { // SavedModel.meta_graphs
              int limit = s.pushLimit(s.readRawVarint32());
              readMetaGraph(s, names);
              s.popLimit(limit);
            } else if (!s.skipField(tag)) {
              break;
            }
          }
        }
      } else if (Files.isRegularFile(dir.resolve("saved_model.pbtxt"))) {
        for (MetaGraphDef meta : MetaGraphImport.readSavedModel(dir).getMetaGraphsList()) {
          meta.getAssetFileDefList().forEach(a -> names.add(a.getFilename()));
          CollectionDef legacy = meta.getCollectionDefMap().get("saved_model_assets");
          if (legacy != null) {
            addLegacyAssets(legacy, names);
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the SavedModel in " + dir + ": " + e.getMessage(), e);
    }
    return names;
  }

  /** Reads MetaGraphDef fields up to the current limit: asset_file_def (6) and collection_def (4). */
  private static void readMetaGraph(CodedInputStream s, List<String> names) throws IOException {
    for (int tag = s.readTag(); tag != 0; tag = s.readTag()) {
      int field = WireFormat.getTagFieldNumber(tag);
      if (field == 6 && lengthDelimited(tag)) {
        names.add(AssetFileDef.parseFrom(s.readBytes()).getFilename());
      } else if (field == 4 && lengthDelimited(tag)) {
        // one map entry: key (1) string, value (2) CollectionDef; only saved_model_assets is read
        CodedInputStream entry = s.readBytes().newCodedInput();
        String key = "";
        ByteString value = ByteString.EMPTY;
        for (int t = entry.readTag(); t != 0; t = entry.readTag()) {
          if (WireFormat.getTagFieldNumber(t) == 1) {
            key = entry.readStringRequireUtf8();
          } else if (WireFormat.getTagFieldNumber(t) == 2) {
            value = entry.readBytes();
          } else if (!entry.skipField(t)) {
            break;
          }
        }
        if (key.equals("saved_model_assets")) {
          addLegacyAssets(CollectionDef.parseFrom(value), names);
        }
      } else if (!s.skipField(tag)) {
        return;
      }
    }
  }

  private static void addLegacyAssets(CollectionDef collection, List<String> names)
      throws InvalidProtocolBufferException {
    if (collection.getKindCase() == CollectionDef.KindCase.ANY_LIST) {
      for (Any any : collection.getAnyList().getValueList()) {
        if (any.is(AssetFileDef.class)) {
          names.add(any.unpack(AssetFileDef.class).getFilename());
        }
      }
    }
  }

  private static boolean lengthDelimited(int tag) {
    return WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
  }
}
