package io.jointspace.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.jointspace.server.store.Limits;
import io.jointspace.server.store.TestDatabase;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/operations.md's "Limits" table says what the code does: each row that names a
 * constant states its value, and every constant of {@link Limits} has a row.
 */
class LimitsTableTest {
  static final Map<String, Class<?>> CLASSES = Map.of(
      "Limits", Limits.class,
      "Settings", Settings.class,
      "ParseGuard", io.jointspace.server.api.ParseGuard.class,
      "HttpPort", io.jointspace.server.http.HttpPort.class);

  /** Constant ("Limits.MAX_IDS") to the value its row states. */
  static Map<String, Long> table() throws Exception {
    List<String> lines = Files.readAllLines(TestDatabase.projectRoot().resolve("docs/operations.md"));
    int start = lines.indexOf("## Limits");
    assertThat(start).as("docs/operations.md has a section \"## Limits\"").isGreaterThanOrEqualTo(0);
    Map<String, Long> rows = new LinkedHashMap<>();
    Pattern constant = Pattern.compile("^`(\\w+)\\.(\\w+)`$");
    Pattern number = Pattern.compile("^(\\d+)");
    for (String line : lines.subList(start + 1, lines.size())) {
      if (line.startsWith("## ")) {
        break;
      }
      if (!line.startsWith("| ") || line.startsWith("| ---") || line.startsWith("| limit ")) {
        continue;
      }
      String[] cells = line.substring(1).split("\\|");
      String code = cells[2].trim();
      if (code.isEmpty()) {
        continue;
      }
      Matcher m = constant.matcher(code);
      assertThat(m.matches()).as("the code column of \"%s\" names one constant", line).isTrue();
      Matcher v = number.matcher(cells[1].trim());
      assertThat(v.find()).as("the value of \"%s\" starts with a number", line).isTrue();
      rows.put(m.group(1) + "." + m.group(2), Long.parseLong(v.group(1)));
    }
    return rows;
  }

  static long value(String constant) throws Exception {
    String[] parts = constant.split("\\.");
    assertThat(CLASSES).as("a class the table may name").containsKey(parts[0]);
    Field f = CLASSES.get(parts[0]).getDeclaredField(parts[1]);
    f.setAccessible(true);
    return ((Number) f.get(null)).longValue();
  }

  @Test
  void everyRowThatNamesAConstant_statesItsValue() throws Exception {
    Map<String, Long> rows = table();
    assertThat(rows).hasSizeGreaterThan(20);
    List<String> wrong = new ArrayList<>();
    for (Map.Entry<String, Long> row : rows.entrySet()) {
      if (value(row.getKey()) != row.getValue()) {
        wrong.add(row.getKey() + " is " + value(row.getKey()) + ", the table says " + row.getValue());
      }
    }
    assertThat(wrong).isEmpty();
  }

  @Test
  void everyLimitsConstant_hasARow() throws Exception {
    Map<String, Long> rows = table();
    for (Field f : Limits.class.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers()) && Modifier.isPublic(f.getModifiers())) {
        assertThat(rows).as("a row for Limits." + f.getName()).containsKey("Limits." + f.getName());
      }
    }
  }
}
