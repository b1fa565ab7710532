package io.jointspace.server.runtime;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import com.google.protobuf.TypeRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.AssetFileDef;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.types.TString;

/**
 * Loads a MetaGraph without TensorFlow's SavedModel loader: import the graph, restore the
 * variables through the SaverDef, run the init op (TF2 {@code __saved_model_init_op}, or the
 * {@code saved_model_main_op} / {@code legacy_init_op} collection) with the asset file
 * tensors fed their paths. Owns its graph and session.
 */
final class MetaGraphImport implements AutoCloseable {
  /** The SignatureDef key under which a SavedModel names its init op (not a callable signature). */
  static final String INIT_OP_SIGNATURE = "__saved_model_init_op";

  private final Graph graph;
  private final Session session;

  private MetaGraphImport(Graph graph, Session session) {
    this.graph = graph;
    this.session = session;
  }

  Session session() {
    return session;
  }

  /** Reads the SavedModel file ({@code saved_model.pb}, else {@code saved_model.pbtxt}) in {@code dir}. */
  static org.tensorflow.proto.SavedModel readSavedModel(Path dir) {
    org.tensorflow.proto.SavedModel saved;
    try {
      Path pb = dir.resolve("saved_model.pb");
      if (Files.isRegularFile(pb)) {
        try (InputStream in = Files.newInputStream(pb)) {
          saved = org.tensorflow.proto.SavedModel.parseFrom(
              com.google.protobuf.CodedInputStream.newInstance(in));
        }
      } else {
        org.tensorflow.proto.SavedModel.Builder b = org.tensorflow.proto.SavedModel.newBuilder();
        TextFormat.Parser parser = TextFormat.Parser.newBuilder()
            .setTypeRegistry(TypeRegistry.newBuilder()
                .add(AssetFileDef.getDescriptor())
                .add(SaverDef.getDescriptor())
                .build())
            .build();
        try (Reader r = Files.newBufferedReader(dir.resolve("saved_model.pbtxt"), StandardCharsets.UTF_8)) {
          parser.merge(r, b);
        }
        saved = b.build();
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the SavedModel in " + dir + ": " + e.getMessage(), e);
    }
    return saved;
  }

  /** Reads the SavedModel file and returns the MetaGraph whose tag set equals {@code tags}. */
  static MetaGraphDef readMetaGraph(Path dir, List<String> tags) {
    org.tensorflow.proto.SavedModel saved = readSavedModel(dir);
    List<List<String>> available = new ArrayList<>();
    for (MetaGraphDef meta : saved.getMetaGraphsList()) {
      List<String> metaTags = meta.getMetaInfoDef().getTagsList();
      available.add(metaTags);
      if (new HashSet<>(metaTags).equals(new HashSet<>(tags))) {
        return meta;
      }
    }
    throw new IllegalArgumentException(
        "no MetaGraph with tags " + tags + " in " + dir + "; its tag sets: " + available
            + " (set the model's tags in the server config)");
  }

  static MetaGraphImport load(Path dir, MetaGraphDef meta, ConfigProto config) {
    Graph graph = new Graph();
    Session session = null;
    try {
      graph.importGraphDef(meta.getGraphDef());
      session = new Session(graph, config);
      restoreVariables(dir, meta, session);
      runInitOp(dir, meta, session);
      return new MetaGraphImport(graph, session);
    } catch (RuntimeException e) {
      if (session != null) {
        session.close();
      }
      graph.close();
      throw e;
    }
  }

  private static void restoreVariables(Path dir, MetaGraphDef meta, Session session) {
    if (!meta.hasSaverDef() || !Files.isRegularFile(dir.resolve("variables/variables.index"))) {
      return;
    }
    SaverDef saver = meta.getSaverDef();
    try (TString prefix = TString.scalarOf(dir.resolve("variables/variables").toString());
        Result ignored = session.runner()
            .feed(saver.getFilenameTensorName(), prefix)
            .addTarget(opName(saver.getRestoreOpName()))
            .run()) {
      // restored
    }
  }

  private static void runInitOp(Path dir, MetaGraphDef meta, Session session) {
    String initOp = null;
    SignatureDef initSig = meta.getSignatureDefMap().get(INIT_OP_SIGNATURE);
    if (initSig != null && initSig.getOutputsCount() > 0) {
      initOp = opName(initSig.getOutputsMap().values().iterator().next().getName());
    } else {
      for (String key : List.of("saved_model_main_op", "legacy_init_op")) {
        CollectionDef c = meta.getCollectionDefMap().get(key);
        if (c != null && c.getKindCase() == CollectionDef.KindCase.NODE_LIST
            && c.getNodeList().getValueCount() > 0) {
          initOp = opName(c.getNodeList().getValue(0));
          break;
        }
      }
    }
    if (initOp == null) {
      return;
    }
    List<AssetFileDef> assets = new ArrayList<>(meta.getAssetFileDefList());
    CollectionDef assetCollection = meta.getCollectionDefMap().get("saved_model_assets");
    if (assetCollection != null && assetCollection.getKindCase() == CollectionDef.KindCase.ANY_LIST) {
      for (Any any : assetCollection.getAnyList().getValueList()) {
        try {
          assets.add(any.unpack(AssetFileDef.class));
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalArgumentException("unreadable asset entry in saved_model_assets", e);
        }
      }
    }
    List<Tensor> fed = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (AssetFileDef asset : assets) {
        TString path = TString.scalarOf(dir.resolve("assets").resolve(asset.getFilename()).toString());
        fed.add(path);
        runner.feed(asset.getTensorInfo().getName(), path);
      }
      try (Result ignored = runner.addTarget(initOp).run()) {
        // initialized
      }
    } finally {
      fed.forEach(Tensor::close);
    }
  }

  private static String opName(String tensorName) {
    String name = tensorName.startsWith("^") ? tensorName.substring(1) : tensorName;
    int colon = name.lastIndexOf(':');
    return colon > 0 ? name.substring(0, colon) : name;
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }

}
