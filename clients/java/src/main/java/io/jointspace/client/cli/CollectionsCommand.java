package io.jointspace.client.cli;

import com.google.protobuf.FieldMask;
import io.jointspace.api.v1.Collection;
import io.jointspace.api.v1.CreateCollectionRequest;
import io.jointspace.api.v1.ListCollectionsResponse;
import io.jointspace.api.v1.Metric;
import io.jointspace.api.v1.UpdateCollectionRequest;
import io.jointspace.client.JointspaceClient;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code collections create|list|get|update|delete}. */
@Command(name = "collections", mixinStandardHelpOptions = true,
    description = "Create, list, show, change and delete collections.",
    subcommands = {CollectionsCommand.Create.class, CollectionsCommand.ListAll.class, CollectionsCommand.Get.class,
        CollectionsCommand.Update.class, CollectionsCommand.Delete.class})
final class CollectionsCommand {

  @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a collection.")
  static final class Create extends Base implements Runnable {
    @Parameters(paramLabel = "NAME")
    String name;

    @Option(names = "--model", defaultValue = "shapes-clip",
        description = "name, name@version or name@label (a collection on a label follows it). Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--metric", defaultValue = "COSINE", description = "COSINE, INNER_PRODUCT or L2.")
    Metric metric;

    @Option(names = "--description", defaultValue = "")
    String description;

    @Option(names = "--indexed-keys", split = ",", paramLabel = "KEY",
        description = "Metadata keys searches filter on by equality (comma-separated, a.b for a nested key):"
            + " each frequent value gets a partial HNSW index.")
    List<String> indexedKeys = new ArrayList<>();

    @Override
    public void run() {
      try (JointspaceClient c = connect()) {
        Collection created = c.createCollection(CreateCollectionRequest.newBuilder().setName(name)
            .setModel(EmbedCommands.model(model)).setMetric(metric).setDescription(description)
            .addAllIndexedKeys(indexedKeys).build());
        out().print(created, HEADER, List.of(row(created)));
      }
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Every collection.")
  static final class ListAll extends Base implements Runnable {
    @Override
    public void run() {
      try (JointspaceClient c = connect()) {
        List<Collection> all = c.listCollections();
        List<List<String>> rows = new ArrayList<>();
        all.forEach(x -> rows.add(row(x)));
        out().print(ListCollectionsResponse.newBuilder().addAllCollections(all), HEADER, rows);
      }
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "One collection.")
  static final class Get extends Base implements Runnable {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public void run() {
      try (JointspaceClient c = connect()) {
        Collection x = c.getCollection(name);
        out().print(x, HEADER, List.of(row(x)));
      }
    }
  }

  @Command(name = "update", mixinStandardHelpOptions = true,
      description = "Change a collection's description or indexed keys (those given).")
  static final class Update extends Base implements Runnable {
    @Parameters(paramLabel = "NAME")
    String name;

    @Option(names = "--description")
    String description;

    @Option(names = "--indexed-keys", split = ",", paramLabel = "KEY",
        description = "The whole list of indexed keys (comma-separated); an empty string for none.")
    List<String> indexedKeys;

    @Override
    public void run() {
      UpdateCollectionRequest.Builder request = UpdateCollectionRequest.newBuilder().setName(name);
      FieldMask.Builder mask = FieldMask.newBuilder();
      if (description != null) {
        request.setDescription(description);
        mask.addPaths("description");
      }
      if (indexedKeys != null) {
        request.addAllIndexedKeys(indexedKeys.stream().filter(k -> !k.isEmpty()).toList());
        mask.addPaths("indexed_keys");
      }
      try (JointspaceClient c = connect()) {
        Collection updated = c.updateCollection(request.setUpdateMask(mask).build());
        out().print(updated, HEADER, List.of(row(updated)));
      }
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Drop a collection, its tables and its view.")
  static final class Delete extends Base implements Runnable {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public void run() {
      try (JointspaceClient c = connect()) {
        c.deleteCollection(name);
        out().line(out().json() ? "{}" : "deleted " + name);
      }
    }
  }

  static final List<String> HEADER = List.of("NAME", "MODEL", "DIM", "METRIC", "ITEMS", "VIEW", "ROLLOUT",
      "INDEXED KEYS");

  static List<String> row(Collection c) {
    return List.of(c.getName(), c.getModel().getName() + "@" + c.getModel().getVersion()
        + (c.getFollowsLabel().isEmpty() ? "" : " (" + c.getFollowsLabel() + ")"), Integer.toString(c.getDimension()),
        c.getMetric().name(), Long.toString(c.getItemCount()), c.getView(),
        c.getRolloutId() == 0 ? "-" : c.getRolloutId() + " (with @" + c.getRolloutOther().getVersion() + ")",
        c.getIndexedKeysCount() == 0 ? "-" : String.join(",", c.getIndexedKeysList()));
  }
}
