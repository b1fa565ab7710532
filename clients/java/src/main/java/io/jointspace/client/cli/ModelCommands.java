package io.jointspace.client.cli;

import io.jointspace.api.v1.GetModelStatusResponse;
import io.jointspace.api.v1.LabelChange;
import io.jointspace.api.v1.ListLabelHistoryResponse;
import io.jointspace.api.v1.ListModelsResponse;
import io.jointspace.api.v1.ModelSummary;
import io.jointspace.api.v1.ModelVersionStatus;
import io.jointspace.client.JointspaceClient;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code models}, {@code status MODEL}, {@code labels set|history}. */
final class ModelCommands {
  private ModelCommands() {}

  @Command(name = "models", mixinStandardHelpOptions = true, description = "List the models and their versions.")
  static final class Models extends Base implements Runnable {
    @Override
    public void run() {
      try (JointspaceClient c = connect()) {
        ListModelsResponse r = c.listModels();
        List<List<String>> rows = new ArrayList<>();
        for (ModelSummary m : r.getModelsList()) {
          rows.add(List.of(m.getName(), versions(m.getVersionsList()),
              m.getLabelsMap().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                  .sorted().collect(Collectors.joining(" "))));
        }
        out().print(r, List.of("MODEL", "VERSIONS", "LABELS"), rows);
      }
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "Every version of a model: state, since, error.")
  static final class Status extends Base implements Runnable {
    @Parameters(paramLabel = "MODEL")
    String model;

    @Override
    public void run() {
      try (JointspaceClient c = connect()) {
        GetModelStatusResponse r = c.modelStatus(model);
        List<List<String>> rows = new ArrayList<>();
        for (ModelVersionStatus v : r.getVersionsList()) {
          rows.add(List.of(Long.toString(v.getVersion()), v.getState().name(),
              java.time.Instant.ofEpochSecond(v.getSince().getSeconds()).toString(), String.join(",", v.getLabelsList()),
              v.getLastError()));
        }
        out().print(r, List.of("VERSION", "STATE", "SINCE", "LABELS", "LAST ERROR"), rows);
      }
    }
  }

  @Command(name = "labels", mixinStandardHelpOptions = true, description = "Move a label, or list its changes.",
      subcommands = {Labels.Set.class, Labels.History.class})
  static final class Labels {
    @Command(name = "set", mixinStandardHelpOptions = true, description = "Point LABEL of MODEL at VERSION.")
    static final class Set extends Base implements Runnable {
      @Parameters(index = "0", paramLabel = "MODEL")
      String model;

      @Parameters(index = "1", paramLabel = "LABEL")
      String label;

      @Parameters(index = "2", paramLabel = "VERSION")
      long version;

      @Override
      public void run() {
        try (JointspaceClient c = connect()) {
          LabelChange change = c.setLabel(model, label, version);
          out().print(change, List.of("MODEL", "LABEL", "FROM", "TO"), List.of(row(change)));
        }
      }
    }

    @Command(name = "history", mixinStandardHelpOptions = true, description = "Every change of LABEL (all labels without one).")
    static final class History extends Base implements Runnable {
      @Parameters(index = "0", paramLabel = "MODEL")
      String model;

      @Parameters(index = "1", paramLabel = "LABEL", arity = "0..1", defaultValue = "")
      String label;

      @Override
      public void run() {
        try (JointspaceClient c = connect()) {
          List<LabelChange> changes = c.labelHistory(model, label);
          List<List<String>> rows = new ArrayList<>();
          changes.forEach(ch -> rows.add(row(ch)));
          out().print(ListLabelHistoryResponse.newBuilder().addAllChanges(changes),
              List.of("MODEL", "LABEL", "FROM", "TO"), rows);
        }
      }
    }
  }

  private static List<String> row(LabelChange c) {
    return List.of(c.getModel(), c.getLabel(), c.hasFrom() ? c.getFrom().getWeightsMap().keySet().toString() : "-",
        c.hasTo() ? c.getTo().getWeightsMap().keySet().toString() : "(deleted)");
  }

  private static String versions(List<ModelVersionStatus> versions) {
    return versions.stream().map(v -> v.getVersion() + ":" + v.getState().name()).collect(Collectors.joining(" "));
  }
}
