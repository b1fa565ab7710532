package io.jointspace.server.api;

import com.google.protobuf.Timestamp;
import io.jointspace.api.v1.Input;
import io.jointspace.api.v1.ModelSpec;
import io.jointspace.api.v1.ModelState;
import io.jointspace.api.v1.ModelVersionStatus;
import io.jointspace.registry.LabelTarget;
import io.jointspace.registry.ModelRequest;
import io.jointspace.registry.ServableId;
import io.jointspace.registry.VersionStatus;
import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.labels.ModelLabels;
import io.jointspace.server.runtime.Content;
import io.jointspace.server.runtime.Encoder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/** Maps API messages to registry values and back. */
final class ProtoMapper {
  private ProtoMapper() {}

  /**
   * @param field the request field that holds the spec, for messages ("model")
   */
  static ModelRequest modelRequest(ModelSpec spec, String field) {
    if (spec.getName().isEmpty()) {
      throw new InvalidInputException(field + ".name is empty");
    }
    ModelRequest request = switch (spec.getVersionChoiceCase()) {
      case VERSION -> {
        if (spec.getVersion() <= 0) {
          throw new InvalidInputException(field + ".version must be positive, got " + spec.getVersion());
        }
        yield ModelRequest.version(spec.getName(), spec.getVersion());
      }
      case LABEL -> {
        if (spec.getLabel().isEmpty()) {
          throw new InvalidInputException(field + ".label is empty");
        }
        yield ModelRequest.label(spec.getName(), spec.getLabel());
      }
      case VERSIONCHOICE_NOT_SET -> ModelRequest.latest(spec.getName());
    };
    return request.withRoutingKey(spec.getRoutingKey());
  }

  /** KServe's string version: empty for the newest. */
  static ModelRequest modelRequest(String name, String version, String field) {
    if (name.isEmpty()) {
      throw new InvalidInputException(field + " is empty");
    }
    if (version.isEmpty()) {
      return ModelRequest.latest(name);
    }
    try {
      long v = Long.parseLong(version);
      if (v <= 0) {
        throw new NumberFormatException();
      }
      return ModelRequest.version(name, v);
    } catch (NumberFormatException e) {
      throw new InvalidInputException("model_version '" + version + "' is not a positive version number");
    }
  }

  /**
   * Text and image inputs as the runtime takes them, for {@code encoder}.
   *
   * @param fieldOf the request field of the i-th input, for messages ("inputs[3]")
   * @throws InvalidInputException naming the first input, in request order, that is a tensor,
   *     has no content, or is of a kind {@code encoder} does not embed
   */
  static List<Content> contents(List<Input> inputs, IntFunction<String> fieldOf, Encoder encoder) {
    List<Content> out = new ArrayList<>(inputs.size());
    for (int i = 0; i < inputs.size(); i++) {
      Input input = inputs.get(i);
      String at = fieldOf.apply(i);
      switch (input.getContentCase()) {
        case TEXT -> {
          if (!encoder.encodesText()) {
            throw new InvalidInputException(at + ".text: this model version has no text encoder");
          }
          out.add(new Content.Text(input.getText()));
        }
        case IMAGE -> {
          if (!encoder.encodesImages()) {
            throw new InvalidInputException(at + ".image: this model version has no image encoder");
          }
          out.add(new Content.Image(input.getImage().toByteArray()));
        }
        case TENSOR -> throw new InvalidInputException(at + ".tensor: tensor inputs cannot be mixed with text and"
            + " images here; send text or image inputs");
        case CONTENT_NOT_SET -> throw new InvalidInputException(at + " has no content; set text, image or tensor");
      }
    }
    return out;
  }

  /** A collection name from a request; the store checks its form. */
  static String collectionName(String name, String field) {
    if (name.isEmpty()) {
      throw new InvalidInputException(field + " is empty; name a collection");
    }
    return name;
  }

  static com.google.protobuf.Timestamp timestamp(java.time.Instant t) {
    return com.google.protobuf.Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  static ModelSpec resolved(ServableId id, String signature) {
    return ModelSpec.newBuilder().setName(id.name()).setVersion(id.version()).setSignatureName(signature).build();
  }

  static io.jointspace.api.v1.LabelTarget labelTarget(LabelTarget t) {
    io.jointspace.api.v1.LabelTarget.Builder b = io.jointspace.api.v1.LabelTarget.newBuilder();
    t.weights().forEach((v, w) -> b.putWeights(v, w));
    return b.build();
  }

  static io.jointspace.api.v1.LabelChange labelChange(ModelLabels.Change c) {
    io.jointspace.api.v1.LabelChange.Builder b = io.jointspace.api.v1.LabelChange.newBuilder()
        .setModel(c.model())
        .setLabel(c.label())
        .setChangedAt(Timestamp.newBuilder().setSeconds(c.changedAt().getEpochSecond()).setNanos(c.changedAt().getNano()))
        .setChangedBy(c.changedBy());
    if (c.from() != null) {
      b.setFrom(labelTarget(c.from()));
    }
    if (c.to() != null) {
      b.setTo(labelTarget(c.to()));
    }
    return b.build();
  }

  static io.jointspace.api.v1.Label label(ModelLabels.Label l) {
    io.jointspace.api.v1.Label.Builder b = io.jointspace.api.v1.Label.newBuilder()
        .setName(l.name()).setTarget(labelTarget(l.target()));
    if (l.lastChange() != null) {
      b.setLastChange(labelChange(l.lastChange()));
    }
    return b.build();
  }

  /** Labels that point at one version, as label -> version. */
  static Map<String, Long> singleVersionLabels(Map<String, LabelTarget> labels) {
    Map<String, Long> out = new java.util.TreeMap<>();
    labels.forEach((label, t) -> {
      if (!t.isSplit()) {
        out.put(label, t.version());
      }
    });
    return out;
  }

  static ModelVersionStatus versionStatus(VersionStatus s, Map<String, LabelTarget> labels) {
    ModelVersionStatus.Builder b = ModelVersionStatus.newBuilder()
        .setVersion(s.id().version())
        .setState(ModelState.valueOf(s.state().name()))
        .setSince(Timestamp.newBuilder()
            .setSeconds(s.since().getEpochSecond())
            .setNanos(s.since().getNano()))
        .setLastError(s.lastError());
    labels.entrySet().stream()
        .filter(e -> e.getValue().weights().containsKey(s.id().version()))
        .map(Map.Entry::getKey)
        .sorted()
        .forEach(b::addLabels);
    return b.build();
  }

  static List<ModelVersionStatus> versionStatuses(List<VersionStatus> statuses, Map<String, LabelTarget> labels) {
    return statuses.stream().map(s -> versionStatus(s, labels)).toList();
  }
}
