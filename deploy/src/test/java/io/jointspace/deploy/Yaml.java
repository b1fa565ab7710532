package io.jointspace.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.cfg.MapperConfig;
import tools.jackson.databind.introspect.Annotated;
import tools.jackson.databind.introspect.JacksonAnnotationIntrospector;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Reading the manifests: YAML into trees (duplicate keys refused), and trees into fabric8's
 * Kubernetes model classes strictly. fabric8 keeps fields it does not know in a map of
 * "additional properties" (its {@code @JsonAnySetter}); here that setter is switched off, so
 * a misspelt or misplaced field fails with its path, as the API server's strict field
 * validation would.
 */
final class Yaml {
  private Yaml() {}

  static final YAMLMapper MAPPER = YAMLMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();

  /** Binds fabric8 model classes with no place for unknown fields. */
  private static final YAMLMapper STRICT = YAMLMapper.builder()
      .annotationIntrospector(new JacksonAnnotationIntrospector() {
        private static final long serialVersionUID = 1L;

        @Override
        public Boolean hasAnySetter(MapperConfig<?> config, Annotated a) {
          return Boolean.FALSE;
        }
      })
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  /** Every document of a YAML file (empty ones left out). */
  static List<JsonNode> documents(Path file) throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = MAPPER.readerFor(JsonNode.class).readValues(Files.readString(file))) {
      while (it.hasNextValue()) {
        JsonNode doc = it.nextValue();
        if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
          docs.add(doc);
        }
      }
    }
    return docs;
  }

  static JsonNode document(Path file) throws IOException {
    List<JsonNode> docs = documents(file);
    if (docs.size() != 1) {
      throw new IllegalArgumentException(file + " holds " + docs.size() + " documents, not one");
    }
    return docs.get(0);
  }

  /** {@code node} as {@code type}; a field the type does not have throws, naming it and its path. */
  static <T> T strict(JsonNode node, Class<T> type) {
    return STRICT.treeToValue(node, type);
  }
}
