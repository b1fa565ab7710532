package io.jointspace.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Stored metadata text to Struct: the same Struct as protobuf's own JsonFormat gives, and back. */
class JsonTest {
  static final List<String> DOCUMENTS = List.of(
      "{}",
      "{\"n\": 12345, \"group\": \"g3\", \"shard\": 42}",
      "{\"a\": {\"b\": {\"c\": [1, 2.5, -3e-7, 1e300, \"x\", true, false, null, {}, []]}}}",
      "{\"text\": \"caf\\u00e9 \\\"quoted\\\" \\\\ \\n tab\\t \\ud83d\\ude00 \u00fc\", \"empty\": \"\"}",
      "{\"it's \\\"k\\\"; DROP TABLE x; --\": \"'); DROP TABLE t; --\", \"n\": 0, \"neg\": -0.5}",
      "{\"big\": 9007199254740993, \"year\": 2024, \"list\": [[[]]], \"nil\": null}");

  @Test
  void struct_isWhatJsonFormatReads() throws Exception {
    for (String doc : DOCUMENTS) {
      Struct.Builder expected = Struct.newBuilder();
      JsonFormat.parser().merge(doc, expected);
      assertThat(Json.struct(doc)).as(doc).isEqualTo(expected.build());
      // and written back, read again the same
      assertThat(Json.struct(Json.of(Json.struct(doc), "metadata"))).as(doc).isEqualTo(expected.build());
    }
  }

  @Test
  void notAnObject_orTextAfterIt_isAnError() {
    for (String bad : List.of("[]", "\"x\"", "{\"a\": 1} {}", "{\"a\": }", "{'a': 1}", "")) {
      assertThatThrownBy(() -> Json.struct(bad)).as(bad).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("stored metadata");
    }
  }
}
