package io.jointspace.deploy;

import static io.jointspace.deploy.Manifests.BASE;
import static io.jointspace.deploy.Manifests.K8S;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.jointspace.server.ServeCommand;
import io.jointspace.server.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * deploy/k8s: every object parses strictly as its Kubernetes type (fabric8's model classes,
 * no unknown field), and what the objects say of the server is what the server has: the
 * container's args parse with the server's own command line, the ConfigMap's textproto loads
 * with its ConfigLoader, ports and probes are the ones those settings open.
 */
class KubernetesManifestsTest {
  /** Where the image runs the launcher; the assumption is stated in base/kustomization.yaml. */
  static final List<String> LAUNCHER = List.of("/opt/jointspace/jointspace");
  static final String MODELS_IN_IMAGE = "/opt/jointspace/models";
  static final long IMAGE_UID = 10001;

  static Deployment deployment;
  static Service service;
  static Service headless;
  static PodDisruptionBudget pdb;
  static HorizontalPodAutoscaler hpa;
  static Map<String, Secret> secrets = new HashMap<>();
  static Container server;
  static Settings settings;

  @BeforeAll
  static void readBase() throws IOException {
    for (JsonNode doc : Manifests.resources(BASE)) {
      HasMetadata o = Manifests.object(doc, "deploy/k8s/base");
      if (o instanceof Deployment d) {
        deployment = d;
      } else if (o instanceof Service s) {
        if (s.getMetadata().getName().endsWith("-headless")) {
          headless = s;
        } else {
          service = s;
        }
      } else if (o instanceof PodDisruptionBudget p) {
        pdb = p;
      } else if (o instanceof HorizontalPodAutoscaler h) {
        hpa = h;
      } else {
        throw new AssertionError("unexpected " + o.getKind() + " in the base");
      }
    }
    for (JsonNode doc : Yaml.documents(BASE.resolve("secrets.example.yaml"))) {
      Secret s = Manifests.object(doc, Secret.class, "secrets.example.yaml");
      secrets.put(s.getMetadata().getName(), s);
    }
    assertThat(List.of(deployment, service, headless, pdb, hpa)).doesNotContainNull();
    assertThat(deployment.getSpec().getTemplate().getSpec().getContainers()).hasSize(1);
    server = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    settings = Manifests.settings(server, LAUNCHER, secrets, Map.of(
        "config", Map.of("server.textproto", Manifests.generatedConfigFile(BASE, "jointspace-config", "server.textproto"))));
  }

  private static PodSpec pod() {
    return deployment.getSpec().getTemplate().getSpec();
  }

  @Test
  void everyManifestInAKustomizationFolder_isListedThere_andEveryListedFileExists() throws IOException {
    for (Path dir : List.of(BASE, K8S.resolve("overlays/example"), K8S.resolve("kserve"))) {
      JsonNode k = Manifests.kustomization(dir);
      Set<String> used = new HashSet<>(Manifests.strings(k.path("resources")));
      k.path("configMapGenerator").forEach(g -> g.path("files").forEach(f -> {
        String s = f.asString();
        used.add(s.contains("=") ? s.substring(s.indexOf('=') + 1) : s);
      }));
      for (String r : used) {
        assertThat(dir.resolve(r).normalize()).as("%s in %s/kustomization.yaml", r, dir).exists();
      }
      try (Stream<Path> files = Files.list(dir)) {
        List<String> unlisted = files.map(p -> p.getFileName().toString())
            .filter(n -> n.endsWith(".yaml") || n.endsWith(".textproto"))
            .filter(n -> !n.equals("kustomization.yaml") && !n.endsWith(".example.yaml"))
            .filter(n -> !used.contains(n))
            .toList();
        assertThat(unlisted).as("files in %s that its kustomization.yaml leaves out", dir).isEmpty();
      }
    }
  }

  @Test
  void containerArgs_areServeFlags_andTheConfigMapLoadsAsTheServersConfig() throws IOException {
    // the args parsed (an unknown flag throws in readBase); these are real flags of serve
    Set<String> flags = ServeCommand.flags();
    for (String a : server.getArgs()) {
      if (a.startsWith("--")) {
        assertThat(flags).contains(a.contains("=") ? a.substring(0, a.indexOf('=')) : a);
      }
    }
    assertThat(settings.grpcAddress()).isEqualTo("0.0.0.0");
    assertThat(settings.authRequired()).as("a pod's address is not loopback: keys on").isTrue();
    assertThat(settings.repository()).isEqualTo(Path.of(MODELS_IN_IMAGE));
    assertThat(settings.database()).as("database URL from the Secret").isNotNull();
    assertThat(settings.tls()).as("TLS on the gRPC port").isNotNull();
    assertThat(settings.healthPort()).as("a plaintext health port for the probes").isPositive();
    // the same file, as kustomize will generate it, loads on its own too
    ServeCommand.settings(Manifests.generatedConfigFile(BASE, "jointspace-config", "server.textproto"));
  }

  @Test
  void containerPorts_areTheOnesTheServerOpens_andProbesUseTheHealthPort() {
    Map<String, Integer> ports = server.getPorts().stream()
        .collect(Collectors.toMap(ContainerPort::getName, ContainerPort::getContainerPort));
    assertThat(ports).containsExactlyInAnyOrderEntriesOf(Map.of(
        "grpc", settings.grpcPort(), "http", settings.httpPort(), "health", settings.healthPort()));
    assertThat(settings.metricsPort()).as("/metrics is on the HTTP port; the metrics port is deprecated").isNegative();
    for (Probe p : List.of(server.getStartupProbe(), server.getReadinessProbe(), server.getLivenessProbe())) {
      assertThat(p).isNotNull();
      assertThat(p.getGrpc()).as("a native gRPC probe").isNotNull();
      assertThat(p.getGrpc().getPort()).isEqualTo(settings.healthPort());
      assertThat(p.getGrpc().getService()).as("the server as a whole").isNullOrEmpty();
    }
    // the health port opens after the models found at start have loaded, for which the
    // server waits up to 10 minutes (JointspaceServer.INITIAL_LOAD_TIMEOUT)
    Probe startup = server.getStartupProbe();
    assertThat(startup.getPeriodSeconds() * startup.getFailureThreshold()).isGreaterThan(600);
  }

  @Test
  void configAndTlsFiles_comeFromTheMountedConfigMapAndSecret() {
    Volume config = Manifests.volume(pod().getVolumes(), "config");
    assertThat(config.getConfigMap().getName()).isEqualTo("jointspace-config");
    Volume tls = Manifests.volume(pod().getVolumes(), "tls");
    Secret tlsSecret = secrets.get(tls.getSecret().getSecretName());
    assertThat(tlsSecret).as("Secret of the tls volume in secrets.example.yaml").isNotNull();
    assertThat(tlsSecret.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(tls.getSecret().getDefaultMode()).as("0440: readable by the fsGroup").isEqualTo(0440);
    for (Path file : List.of(settings.tls().cert(), settings.tls().key())) {
      VolumeMount m = Manifests.mountOf(server, file).orElseThrow(() -> new AssertionError(file + " is on no volume"));
      assertThat(m.getName()).isEqualTo("tls");
      assertThat(m.getSubPath()).as("a subPath mount is never updated when the Secret is").isNullOrEmpty();
      assertThat(tlsSecret.getStringData()).containsKey(Path.of(m.getMountPath()).relativize(file).toString());
    }
  }

  @Test
  void services_pdb_andHpa_selectTheDeploymentsPods() {
    Map<String, String> labels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    assertThat(labels).containsAllEntriesOf(deployment.getSpec().getSelector().getMatchLabels());
    Set<String> portNames = server.getPorts().stream().map(ContainerPort::getName).collect(Collectors.toSet());
    for (Service s : List.of(service, headless)) {
      assertThat(labels).as("pod labels selected by Service %s", s.getMetadata().getName())
          .containsAllEntriesOf(s.getSpec().getSelector());
      for (ServicePort p : s.getSpec().getPorts()) {
        IntOrString target = p.getTargetPort();
        assertThat(target.getStrVal()).as("Service %s port %s targets a named container port",
            s.getMetadata().getName(), p.getName()).isIn(portNames);
      }
    }
    assertThat(service.getSpec().getType()).isEqualTo("ClusterIP");
    assertThat(headless.getSpec().getClusterIP()).as("headless: DNS answers every pod").isEqualTo("None");
    assertThat(headless.getSpec().getPorts()).extracting(ServicePort::getPort).containsExactly(settings.grpcPort());
    assertThat(labels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
    assertThat(pdb.getSpec().getMaxUnavailable()).isEqualTo(new IntOrString(1));
    var target = hpa.getSpec().getScaleTargetRef();
    assertThat(target.getApiVersion()).isEqualTo(HasMetadata.getApiVersion(Deployment.class));
    assertThat(target.getKind()).isEqualTo("Deployment");
    assertThat(target.getName()).isEqualTo(deployment.getMetadata().getName());
    assertThat(hpa.getSpec().getMinReplicas()).isGreaterThanOrEqualTo(2).isLessThanOrEqualTo(hpa.getSpec().getMaxReplicas());
    assertThat(hpa.getSpec().getMetrics()).singleElement()
        .satisfies(m -> assertThat(m.getResource().getName()).isEqualTo("cpu"));
    assertThat(server.getResources().getRequests()).as("HPA utilization is relative to the request").containsKey("cpu");
    assertThat(deployment.getSpec().getReplicas()).as("the HPA owns the replica count").isNull();
  }

  @Test
  void rollingUpdate_keepsEveryWantedReplica_andTheGracePeriodOutlastsTheServersDrain() {
    var rolling = deployment.getSpec().getStrategy().getRollingUpdate();
    assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
    assertThat(rolling.getMaxUnavailable()).isEqualTo(new IntOrString(0));
    assertThat(rolling.getMaxSurge().getIntVal()).isPositive();
    // the gRPC port closes at SIGTERM: the pod must leave the endpoints first
    long preStop = server.getLifecycle().getPreStop().getSleep().getSeconds();
    assertThat(preStop).isGreaterThanOrEqualTo(5);
    // JointspaceServer.stop: calls get shutdown_grace_ms, calls still running are cancelled
    // (awaited 5 s), models unload (awaited up to the grace again), loads still running stop
    // (awaited 10 s)
    long graceS = (settings.shutdownGraceMillis() + 999) / 1000;
    long worst = preStop + graceS + 5 + Math.max(graceS, 1) + 10;
    assertThat(pod().getTerminationGracePeriodSeconds()).isGreaterThan(worst);
  }

  @Test
  void pod_runsAsTheImagesNonRootUser_onAReadOnlyRootFilesystem_withTmpWritable() {
    var podSecurity = pod().getSecurityContext();
    assertThat(podSecurity.getRunAsNonRoot()).isTrue();
    assertThat(podSecurity.getRunAsUser()).isEqualTo(IMAGE_UID);
    var sc = server.getSecurityContext();
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
    VolumeMount tmp = Manifests.mountOf(server, Path.of("/tmp")).orElseThrow();
    assertThat(tmp.getMountPath()).isEqualTo("/tmp");
    assertThat(Manifests.volume(pod().getVolumes(), tmp.getName()).getEmptyDir()).isNotNull();
    Map<String, Quantity> requests = server.getResources().getRequests();
    Map<String, Quantity> limits = server.getResources().getLimits();
    assertThat(requests).containsKeys("cpu", "memory");
    assertThat(limits).containsKeys("cpu", "memory");
    assertThat(Quantity.getAmountInBytes(limits.get("memory")))
        .isGreaterThanOrEqualTo(Quantity.getAmountInBytes(requests.get("memory")));
  }

  @Test
  void heap_isWholeAndTouchedFromTheStart_atHalfTheMemoryLimit_whichIsTheRequest() throws Exception {
    Manifests.assertHeapPinned(server);
  }

  @Test
  void images_nameTheVersionTheBuildMakes() throws IOException {
    for (Path dir : List.of(BASE, K8S.resolve("overlays/example"), K8S.resolve("kserve"))) {
      JsonNode images = Manifests.kustomization(dir).path("images");
      assertThat(images.size()).as("images: in %s", dir).isEqualTo(1);
      assertThat(images.get(0).path("name").asString()).isEqualTo("jointspace");
      assertThat(images.get(0).path("newTag").asString()).as("image tag in %s", dir).isEqualTo(Manifests.version());
    }
    assertThat(server.getImage()).as("the name kustomize's images: replaces").isEqualTo("jointspace");
  }

  @Test
  void overlay_buildsOnTheBase_andItsPatchesTargetObjectsThere() throws IOException {
    Path overlay = K8S.resolve("overlays/example");
    JsonNode k = Manifests.kustomization(overlay);
    List<HasMetadata> objects = new ArrayList<>();
    for (JsonNode doc : Manifests.resources(overlay)) {
      objects.add(Manifests.object(doc, "deploy/k8s/overlays/example"));
    }
    assertThat(objects).extracting(HasMetadata::getKind).contains("Namespace", "Deployment");
    String namespace = k.path("namespace").asString();
    assertThat(objects).filteredOn(o -> o.getKind().equals("Namespace"))
        .singleElement().extracting(o -> o.getMetadata().getName()).isEqualTo(namespace);
    for (JsonNode patch : k.path("patches")) {
      JsonNode t = patch.path("target");
      assertThat(objects).as("target of a patch in the overlay: %s", t)
          .anyMatch(o -> o.getKind().equals(t.path("kind").asString())
              && o.getMetadata().getName().equals(t.path("name").asString())
              && o.getApiVersion().equals(t.path("group").asString() + "/" + t.path("version").asString()));
    }
  }

  @Test
  void kubectlKustomize_buildsEachKustomization_intoObjectsThatParseStrictly() throws Exception {
    var kubectl = Manifests.kubectl();
    Assumptions.assumeTrue(kubectl.isPresent(),
        "kubectl is not installed: the kustomizations were checked file by file only");
    for (Path dir : List.of(BASE, K8S.resolve("overlays/example"))) {
      Map<String, HasMetadata> built = new LinkedHashMap<>();
      for (JsonNode doc : Manifests.kustomize(kubectl.get(), dir)) {
        HasMetadata o = Manifests.object(doc, "kubectl kustomize " + dir);
        built.put(o.getKind() + "/" + o.getMetadata().getName(), o);
      }
      ConfigMap config = built.values().stream().filter(ConfigMap.class::isInstance).map(ConfigMap.class::cast)
          .findFirst().orElseThrow();
      assertThat(config.getMetadata().getName()).startsWith("jointspace-config-");
      Deployment d = (Deployment) built.get("Deployment/jointspace");
      assertThat(Manifests.volume(d.getSpec().getTemplate().getSpec().getVolumes(), "config").getConfigMap().getName())
          .as("the Deployment follows the generated name").isEqualTo(config.getMetadata().getName());
      // the ConfigMap's text, as the pod will read it, loads with the server's loader
      Path file = Files.createTempFile("server", ".textproto");
      try {
        Files.writeString(file, config.getData().get("server.textproto"), StandardCharsets.UTF_8);
        assertThat(ServeCommand.settings(file).healthPort()).isEqualTo(settings.healthPort());
      } finally {
        Files.delete(file);
      }
      String image = d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
      assertThat(image).endsWith(":" + Manifests.version());
    }
  }

  @Test
  void strictParsing_refusesAFieldKubernetesDoesNotHave() throws IOException {
    JsonNode doc = Manifests.resources(BASE).stream()
        .filter(d -> d.path("kind").asString("").equals("Deployment")).findFirst().orElseThrow();
    ObjectNode bad = (ObjectNode) doc.deepCopy();
    ((ObjectNode) bad.path("spec").path("template").path("spec").path("containers").get(0)).put("readinessprobe", 1);
    assertThatThrownBy(() -> Manifests.object(bad, "a misspelt field"))
        .hasMessageContaining("readinessprobe");
  }

  @Test
  void imageAssumptions_agreeWithTheDockerfile_whenThereIsOne() throws IOException {
    Path dockerfile = Manifests.DEPLOY.resolve("docker/Dockerfile");
    Assumptions.assumeTrue(Files.isRegularFile(dockerfile), "no deploy/docker/Dockerfile yet");
    String text = Files.readString(dockerfile, StandardCharsets.UTF_8);
    assertThat(text).as("the image's user (base/kustomization.yaml lists the assumptions)").contains("10001");
    assertThat(text).as("the models in the image").contains(MODELS_IN_IMAGE);
    assertThat(text).as("the launcher in the image").contains(Path.of(LAUNCHER.get(0)).getParent().toString());
  }
}
