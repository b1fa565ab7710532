package io.jointspace.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The storage benchmark's part of docs/benchmarks.md: the text between
 * {@link #BEGIN} and {@link #END}. The storage suite replaces only that part; the batching
 * suite rewrites what comes before it and carries it over, with whatever follows it.
 */
final class MarkedSection {
  static final String BEGIN = "<!-- storage-benchmark:begin -->";
  static final String END = "<!-- storage-benchmark:end -->";

  private MarkedSection() {}

  /** {@code doc} with its marked section replaced by {@code body}, or with one appended. */
  static String replace(String doc, String body) {
    String section = BEGIN + "\n" + body + (body.endsWith("\n") ? "" : "\n") + END + "\n";
    int begin = doc.indexOf(BEGIN);
    int end = begin < 0 ? -1 : doc.indexOf(END, begin);
    if (begin < 0 || end < 0) {
      String sep = doc.isEmpty() ? "" : doc.endsWith("\n\n") ? "" : doc.endsWith("\n") ? "\n" : "\n\n";
      return doc + sep + section;
    }
    int after = end + END.length();
    if (after < doc.length() && doc.charAt(after) == '\n') {
      after++;
    }
    return doc.substring(0, begin) + section + doc.substring(after);
  }

  /** The marked section of {@code doc} (markers included), or null when it has none. */
  static String find(String doc) {
    int begin = doc.indexOf(BEGIN);
    int end = begin < 0 ? -1 : doc.indexOf(END, begin);
    return end < 0 ? null : doc.substring(begin, end + END.length()) + "\n";
  }

  /**
   * {@code newDoc} followed by everything of the file at {@code path} from its marked section
   * on (the storage results, and sections written after them, such as build comparisons), when
   * the file exists and has one: what the writer of the batching part calls to keep the rest.
   */
  static String carryOver(Path path, String newDoc) throws IOException {
    if (!Files.exists(path)) {
      return newDoc;
    }
    String doc = Files.readString(path);
    int begin = doc.indexOf(BEGIN);
    if (begin < 0 || find(doc) == null || newDoc.contains(BEGIN)) {
      return newDoc;
    }
    return newDoc + (newDoc.endsWith("\n") ? "\n" : "\n\n") + doc.substring(begin);
  }
}
