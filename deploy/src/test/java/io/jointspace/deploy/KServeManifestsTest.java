package io.jointspace.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.jointspace.server.Settings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * deploy/k8s/kserve: the ServingRuntime and the InferenceService on it. No Java model of
 * KServe's CRDs is published, so KServe's own fields are checked against JSON Schemas
 * written from its API types (src/test/resources/kserve, validated with networknt's
 * json-schema-validator), and the Kubernetes types KServe embeds (containers, volumes, the
 * predictor's PodSpec, the model's Container) with fabric8's model classes, strictly. The
 * runtime's container is then checked against the server like the Deployment's.
 */
class KServeManifestsTest {
  static final Path KSERVE = Manifests.K8S.resolve("kserve");
  /** KServe's fields of a predictor and of its model; the rest of each is a PodSpec, a Container. */
  static final Set<String> PREDICTOR_FIELDS = Set.of("minReplicas", "maxReplicas", "scaleTarget", "scaleMetric",
      "containerConcurrency", "timeout", "canaryTrafficPercent", "logger", "batcher", "labels", "annotations",
      "deploymentStrategy", "model", "storageUris", "workerSpec", "sklearn", "xgboost", "tensorflow", "pytorch",
      "triton", "onnx", "huggingface", "pmml", "lightgbm", "paddle");
  static final Set<String> MODEL_FIELDS = Set.of("modelFormat", "runtime", "storageUri", "runtimeVersion",
      "protocolVersion", "storage");

  static JsonNode runtime;
  static JsonNode service;

  @BeforeAll
  static void read() throws IOException {
    for (JsonNode doc : Manifests.resources(KSERVE)) {
      switch (doc.path("kind").asString("")) {
        case "ServingRuntime" -> runtime = doc;
        case "InferenceService" -> service = doc;
        default -> throw new AssertionError("unexpected kind in deploy/k8s/kserve: " + doc.path("kind"));
      }
    }
    assertThat(runtime).isNotNull();
    assertThat(service).isNotNull();
  }

  static List<Error> validate(String schema, JsonNode doc) throws IOException {
    try (InputStream in = KServeManifestsTest.class.getResourceAsStream("/kserve/" + schema)) {
      Schema s = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(in);
      return s.validate(doc);
    }
  }

  /** The Kubernetes types inside a ServingRuntime, each parsed strictly. */
  static List<Container> runtimeParts(JsonNode doc) {
    JsonNode spec = doc.path("spec");
    Yaml.strict(doc.path("metadata"), ObjectMeta.class);
    List<Container> containers = new ArrayList<>();
    spec.path("containers").forEach(c -> containers.add(Yaml.strict(c, Container.class)));
    spec.path("volumes").forEach(v -> Yaml.strict(v, Volume.class));
    spec.path("tolerations").forEach(t -> Yaml.strict(t, Toleration.class));
    spec.path("imagePullSecrets").forEach(r -> Yaml.strict(r, LocalObjectReference.class));
    if (spec.has("affinity")) {
      Yaml.strict(spec.path("affinity"), Affinity.class);
    }
    return containers;
  }

  /** The predictor's inlined PodSpec and the model's inlined Container, parsed strictly. */
  static void servicePartsParse(JsonNode doc) {
    Yaml.strict(doc.path("metadata"), ObjectMeta.class);
    ObjectNode pod = (ObjectNode) doc.path("spec").path("predictor").deepCopy();
    pod.remove(PREDICTOR_FIELDS);
    Yaml.strict(pod, PodSpec.class);
    ObjectNode container = (ObjectNode) doc.path("spec").path("predictor").path("model").deepCopy();
    container.remove(MODEL_FIELDS);
    Yaml.strict(container, Container.class);
  }

  @Test
  void servingRuntime_matchesKServesSchema_andItsContainersParseStrictly() throws IOException {
    assertThat(validate("servingruntime.schema.json", runtime)).isEmpty();
    assertThat(runtimeParts(runtime)).extracting(Container::getName).containsExactly("kserve-container");
    JsonNode spec = runtime.path("spec");
    assertThat(Manifests.strings(spec.path("protocolVersions"))).containsExactly("grpc-v2");
    assertThat(spec.path("supportedModelFormats").findValuesAsString("name")).containsExactly("tensorflow");
  }

  @Test
  void inferenceService_matchesKServesSchema_andNamesTheRuntimeItsModelFits() throws IOException {
    assertThat(validate("inferenceservice.schema.json", service)).isEmpty();
    servicePartsParse(service);
    JsonNode model = service.path("spec").path("predictor").path("model");
    assertThat(model.path("runtime").asString()).isEqualTo(runtime.path("metadata").path("name").asString());
    // what KServe checks when it places the model on the runtime
    JsonNode format = model.path("modelFormat");
    boolean supported = false;
    for (JsonNode f : runtime.path("spec").path("supportedModelFormats")) {
      supported |= f.path("name").asString().equals(format.path("name").asString())
          && f.path("version").asString("").equals(format.path("version").asString(""));
    }
    assertThat(supported).as("model format %s among the runtime's", format).isTrue();
    assertThat(Manifests.strings(runtime.path("spec").path("protocolVersions")))
        .contains(model.path("protocolVersion").asString());
  }

  @Test
  void runtimeContainer_runsTheServerWithItsRealFlags_onThePortAndProbesItOpens() throws IOException {
    Container c = runtimeParts(runtime).get(0);
    Map<String, Secret> secrets = new HashMap<>();
    for (JsonNode doc : Yaml.documents(Manifests.BASE.resolve("secrets.example.yaml"))) {
      Secret s = Manifests.object(doc, Secret.class, "secrets.example.yaml");
      secrets.put(s.getMetadata().getName(), s);
    }
    Settings settings = Manifests.settings(c, KubernetesManifestsTest.LAUNCHER, secrets, Map.of());
    assertThat(settings.repository()).as("where KServe mounts the storageUri").isEqualTo(Path.of("/mnt/models"));
    assertThat(settings.grpcAddress()).isEqualTo("0.0.0.0");
    assertThat(settings.database()).isNotNull();
    assertThat(settings.tls()).as("plaintext behind KServe's ingress").isNull();
    assertThat(settings.healthPort()).as("one port only").isZero();
    assertThat(c.getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getContainerPort()).isEqualTo(settings.grpcPort());
      assertThat(p.getName()).as("KServe and Knative take h2c for gRPC").isEqualTo("h2c");
    });
    for (Probe p : List.of(c.getStartupProbe(), c.getReadinessProbe(), c.getLivenessProbe())) {
      // the health service needs no API key, so probes work with keys on
      assertThat(p.getGrpc().getPort()).isEqualTo(settings.grpcPort());
    }
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getRunAsUser()).isEqualTo(KubernetesManifestsTest.IMAGE_UID);
    assertThat(c.getVolumeMounts()).anyMatch(m -> m.getMountPath().equals("/tmp"));
    assertThat(c.getImage()).as("the name kustomize's images: replaces").isEqualTo("jointspace");
    assertThat(c.getPorts()).extracting(ContainerPort::getProtocol).containsOnly("TCP");
  }

  @Test
  void runtimeHeap_isWholeAndTouchedFromTheStart_atHalfTheMemoryLimit_whichIsTheRequest() throws Exception {
    Manifests.assertHeapPinned(runtimeParts(runtime).get(0));
  }

  @Test
  void schemasAndStrictParsing_refuseWhatKServeWouldNotTake() throws IOException {
    ObjectNode unknownField = (ObjectNode) runtime.deepCopy();
    ((ObjectNode) unknownField.path("spec")).put("protocolVersion", "grpc-v2");
    assertThat(validate("servingruntime.schema.json", unknownField)).isNotEmpty();

    ObjectNode badProtocol = (ObjectNode) runtime.deepCopy();
    ((ArrayNode) badProtocol.path("spec").path("protocolVersions")).add("grpc-v3");
    assertThat(validate("servingruntime.schema.json", badProtocol)).isNotEmpty();

    ObjectNode badContainer = (ObjectNode) runtime.deepCopy();
    ((ObjectNode) badContainer.path("spec").path("containers").get(0)).put("arguments", "serve");
    assertThat(validate("servingruntime.schema.json", badContainer)).as("containers are fabric8's to check").isEmpty();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> runtimeParts(badContainer)).hasMessageContaining("arguments");

    ObjectNode misspelt = (ObjectNode) service.deepCopy();
    ObjectNode model = (ObjectNode) misspelt.path("spec").path("predictor").path("model");
    model.set("storageURI", model.remove("storageUri"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> servicePartsParse(misspelt))
        .hasMessageContaining("storageURI");

    ObjectNode noFormat = (ObjectNode) service.deepCopy();
    ((ObjectNode) noFormat.path("spec").path("predictor").path("model")).remove("modelFormat");
    assertThat(validate("inferenceservice.schema.json", noFormat)).isNotEmpty();
  }

  @Test
  void kubectlKustomize_buildsTheRuntimeAndTheService_withTheBuildsImage() throws Exception {
    var kubectl = Manifests.kubectl();
    Assumptions.assumeTrue(kubectl.isPresent(), "kubectl is not installed: deploy/k8s/kserve checked file by file only");
    List<JsonNode> built = Manifests.kustomize(kubectl.get(), KSERVE);
    assertThat(built).extracting(d -> d.path("kind").asString()).containsExactlyInAnyOrder("ServingRuntime", "InferenceService");
    for (JsonNode doc : built) {
      String schema = doc.path("kind").asString().equals("ServingRuntime") ? "servingruntime.schema.json"
          : "inferenceservice.schema.json";
      assertThat(validate(schema, doc)).isEmpty();
      if (schema.startsWith("servingruntime")) {
        assertThat(runtimeParts(doc).get(0).getImage()).isEqualTo("jointspace:" + Manifests.version());
      }
    }
  }
}
