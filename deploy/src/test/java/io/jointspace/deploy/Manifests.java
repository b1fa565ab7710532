package io.jointspace.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.jointspace.server.ServeCommand;
import io.jointspace.server.Settings;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;

/** Where the manifests are, and what the server they run is: shared by the manifest tests. */
final class Manifests {
  private Manifests() {}

  /** deploy/ (Surefire runs in the module's folder). */
  static final Path DEPLOY = Path.of("").toAbsolutePath();
  static final Path ROOT = DEPLOY.getParent();
  static final Path K8S = DEPLOY.resolve("k8s");
  static final Path BASE = K8S.resolve("base");

  /** The Maven build's version: the image tag every manifest names. */
  static String version() {
    String v = System.getProperty("jointspace.version");
    assertThat(v).as("system property jointspace.version (set by deploy/pom.xml)").isNotBlank();
    return v;
  }

  /** The Kubernetes kinds these manifests use, each with its fabric8 model class. */
  static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
      "Deployment", Deployment.class,
      "Service", Service.class,
      "ConfigMap", ConfigMap.class,
      "Secret", Secret.class,
      "Namespace", Namespace.class,
      "PodDisruptionBudget", PodDisruptionBudget.class,
      "HorizontalPodAutoscaler", HorizontalPodAutoscaler.class);

  /** One Kubernetes object, strictly: its kind known, its apiVersion that kind's, no unknown field. */
  static HasMetadata object(JsonNode doc, String where) {
    String kind = doc.path("kind").asString("");
    Class<? extends HasMetadata> type = KINDS.get(kind);
    assertThat(type).as("%s: kind '%s' is none of %s", where, kind, KINDS.keySet()).isNotNull();
    assertThat(doc.path("apiVersion").asString("")).as("%s: apiVersion of %s", where, kind)
        .isEqualTo(HasMetadata.getApiVersion(type));
    try {
      return Yaml.strict(doc, type);
    } catch (RuntimeException e) {
      throw new AssertionError(where + ": not a valid " + kind + ": " + e.getMessage(), e);
    }
  }

  static <T extends HasMetadata> T object(JsonNode doc, Class<T> type, String where) {
    HasMetadata o = object(doc, where);
    assertThat(o).as(where).isInstanceOf(type);
    return type.cast(o);
  }

  /** The kustomization.yaml of a folder. */
  static JsonNode kustomization(Path dir) throws IOException {
    JsonNode k = Yaml.document(dir.resolve("kustomization.yaml"));
    assertThat(k.path("apiVersion").asString("")).isEqualTo("kustomize.config.k8s.io/v1beta1");
    assertThat(k.path("kind").asString("")).isEqualTo("Kustomization");
    return k;
  }

  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asString()));
    return out;
  }

  /**
   * The objects a kustomization lists, read file by file (no transformation applied): the
   * resources of the folder and, for a folder resource, its own kustomization's, recursively.
   */
  static List<JsonNode> resources(Path dir) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String r : strings(kustomization(dir).path("resources"))) {
      Path p = dir.resolve(r).normalize();
      if (Files.isDirectory(p)) {
        assertThat(p.resolve("kustomization.yaml")).as("folder resource %s of %s", r, dir).isRegularFile();
        out.addAll(resources(p));
      } else {
        assertThat(p).as("resource %s of %s", r, dir).isRegularFile();
        out.addAll(Yaml.documents(p));
      }
    }
    return out;
  }

  /** The file a configMapGenerator makes key {@code key} of ConfigMap {@code name} from. */
  static Path generatedConfigFile(Path dir, String name, String key) throws IOException {
    for (JsonNode g : kustomization(dir).path("configMapGenerator")) {
      if (g.path("name").asString("").equals(name)) {
        for (String f : strings(g.path("files"))) {
          String k = f.contains("=") ? f.substring(0, f.indexOf('=')) : Path.of(f).getFileName().toString();
          String file = f.contains("=") ? f.substring(f.indexOf('=') + 1) : f;
          if (k.equals(key)) {
            return dir.resolve(file);
          }
        }
      }
    }
    throw new AssertionError(dir + "/kustomization.yaml generates no key " + key + " of ConfigMap " + name);
  }

  /** JOINTSPACE_* variables the server or the launcher reads: every such name their sources spell. */
  static Set<String> environmentVariables() throws IOException {
    Set<String> names = new TreeSet<>();
    Pattern p = Pattern.compile("JOINTSPACE_[A-Z_]+[A-Z]");
    List<Path> sources = new ArrayList<>();
    try (Stream<Path> s = Files.walk(ROOT.resolve("server/src/main/java"))) {
      s.filter(f -> f.toString().endsWith(".java")).forEach(sources::add);
    }
    sources.add(ROOT.resolve("jointspace"));
    for (Path f : sources) {
      Matcher m = p.matcher(Files.readString(f, StandardCharsets.UTF_8));
      while (m.find()) {
        names.add(m.group());
      }
    }
    assertThat(names).contains("JOINTSPACE_DATABASE_URL", "JOINTSPACE_JAVA_OPTS");
    return names;
  }

  /**
   * The settings the server in {@code container} starts with: its args through the server's
   * own command line, its environment (a Secret's value taken from {@code secrets}), and a
   * config file on a mounted volume read from {@code volumeFiles} (volume name, then key).
   */
  static Settings settings(Container container, List<String> launcher, Map<String, Secret> secrets,
      Map<String, Map<String, Path>> volumeFiles) throws IOException {
    assertThat(container.getCommand()).as("%s: command (the launcher)", container.getName()).isEqualTo(launcher);
    List<String> args = container.getArgs();
    assertThat(args).as("%s: args", container.getName()).isNotEmpty().first().isEqualTo("serve");
    // without either, the launcher adds its own: the checkout's models/ and models/serve.textproto
    assertThat(args.stream().anyMatch(a -> a.matches("--(config|models)(=.*)?")))
        .as("%s: args name --config or --models, or the launcher picks its own", container.getName()).isTrue();
    Set<String> known = environmentVariables();
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : container.getEnv()) {
      if (e.getName().startsWith("JOINTSPACE_")) {
        assertThat(known).as("%s: environment variable %s is read by the server or the launcher",
            container.getName(), e.getName()).contains(e.getName());
      }
      String value = e.getValue();
      if (e.getValueFrom() != null) {
        var ref = e.getValueFrom().getSecretKeyRef();
        assertThat(ref).as("%s: %s comes from a Secret", container.getName(), e.getName()).isNotNull();
        Secret s = secrets.get(ref.getName());
        assertThat(s).as("%s: Secret %s of %s", container.getName(), ref.getName(), e.getName()).isNotNull();
        assertThat(s.getStringData()).as("Secret %s", ref.getName()).containsKey(ref.getKey());
        value = s.getStringData().get(ref.getKey());
      }
      env.put(e.getName(), value);
    }
    return ServeCommand.settings(args, env, path -> {
      for (VolumeMount m : container.getVolumeMounts()) {
        Path mount = Path.of(m.getMountPath());
        if (path.startsWith(mount) && volumeFiles.containsKey(m.getName())) {
          Path file = volumeFiles.get(m.getName()).get(mount.relativize(path).toString());
          assertThat(file).as("%s: %s on volume %s", container.getName(), path, m.getName()).isNotNull();
          return file;
        }
      }
      throw new AssertionError(container.getName() + ": " + path + " is on no volume this test can read");
    });
  }

  static Volume volume(List<Volume> volumes, String name) {
    return volumes.stream().filter(v -> v.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  /** The mount of {@code container} that holds {@code path}, if any. */
  static Optional<VolumeMount> mountOf(Container container, Path path) {
    return container.getVolumeMounts().stream()
        .filter(m -> path.startsWith(Path.of(m.getMountPath())))
        .findFirst();
  }

  /** kubectl, when this machine has it (Debian's kubernetes-client, or any other). */
  static Optional<Path> kubectl() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, "kubectl");
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** {@code kubectl kustomize DIR}: the objects as kustomize builds them, offline. */
  static List<JsonNode> kustomize(Path kubectl, Path dir) throws IOException, InterruptedException {
    Path out = Files.createTempFile("kustomize", ".yaml");
    try {
      Process p = new ProcessBuilder(kubectl.toString(), "kustomize", dir.toString())
          .redirectErrorStream(true)
          .redirectOutput(out.toFile())
          .start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("kubectl kustomize " + dir + " took over 120 s");
      }
      assertThat(p.exitValue()).as("kubectl kustomize %s: %s", dir, Files.readString(out)).isZero();
      return Yaml.documents(out);
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** The value of {@code container}'s environment variable {@code name}, as written in the manifest. */
  static String env(Container container, String name) {
    return container.getEnv().stream()
        .filter(e -> e.getName().equals(name))
        .map(EnvVar::getValue)
        .findFirst()
        .orElseThrow(() -> new AssertionError(container.getName() + " sets no " + name));
  }

  /**
   * What a JVM started with some options made of its heap: its limit, committed at the start,
   * the resident set at the start, and committed after a full collection of a mostly freed heap.
   */
  record Heap(long maxBytes, long committedAtStart, long rssAtStart, long committedAfterGc) {}

  /**
   * The heap this machine's JVM makes with {@code javaOpts} (split at spaces, as the launcher
   * splits {@code JOINTSPACE_JAVA_OPTS}) when it sees {@code memoryBytes} of memory
   * ({@code -XX:MaxRAM}, as it would see a container's limit): {@link HeapProbe} run with them.
   */
  static Heap heap(String javaOpts, long memoryBytes) throws IOException, InterruptedException, URISyntaxException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(List.of(javaOpts.trim().split("\\s+")));
    command.addAll(List.of("-XX:MaxRAM=" + memoryBytes, "-cp",
        Path.of(HeapProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString(),
        HeapProbe.class.getName()));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " took over 60 s");
    }
    assertThat(p.exitValue()).as("%s: %s", command, out).isZero();
    String[] v = out.split(" ");
    assertThat(v).as(out).hasSize(4);
    return new Heap(Long.parseLong(v[0]), Long.parseLong(v[1]), Long.parseLong(v[2]), Long.parseLong(v[3]));
  }

  /**
   * {@code container}'s JVM options give the server its whole heap from the start, touched then,
   * at most half the memory limit (TensorFlow's native code and the models take the rest), and the
   * pod requests the memory it is limited to: the resident set stays where it starts.
   */
  static void assertHeapPinned(Container container) throws Exception {
    Map<String, Quantity> requests = container.getResources().getRequests();
    Map<String, Quantity> limits = container.getResources().getLimits();
    assertThat(Quantity.getAmountInBytes(requests.get("memory"))).as("memory requested as limited")
        .isEqualTo(Quantity.getAmountInBytes(limits.get("memory")));
    // the options' percentages, under a smaller limit than the manifest's, so the touch is quick
    long memory = 512L << 20;
    Heap heap = heap(env(container, "JOINTSPACE_JAVA_OPTS"), memory);
    assertThat(heap.maxBytes()).isBetween(memory / 4, memory / 2);
    assertThat(heap.committedAtStart()).as("heap committed at the start").isEqualTo(heap.maxBytes());
    assertThat(heap.rssAtStart()).as("resident set at the start: the heap touched").isGreaterThan(heap.maxBytes());
    assertThat(heap.committedAfterGc()).as("heap committed after a full collection").isEqualTo(heap.maxBytes());
  }
}
