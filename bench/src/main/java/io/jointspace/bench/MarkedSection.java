package io.jointspace.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One suite's part of docs/benchmarks.md: the text between its begin and end markers
 * ({@code <!-- NAME:begin -->}, {@code <!-- NAME:end -->}). The overhead, storage, rollout,
 * warm-up, search and mixed-load suites replace only their own part; the batching suite rewrites what comes before the first marked
 * part and carries the rest over.
 */
record MarkedSection(String name) {
  static final MarkedSection STORAGE = new MarkedSection("storage-benchmark");
  static final MarkedSection ROLLOUT = new MarkedSection("rollout-benchmark");
  static final MarkedSection OVERHEAD = new MarkedSection("overhead-benchmark");
  static final MarkedSection WARMUP = new MarkedSection("warmup-benchmark");
  static final MarkedSection SEARCH = new MarkedSection("search-benchmark");
  static final MarkedSection MIXED = new MarkedSection("mixed-benchmark");
  private static final List<MarkedSection> ALL = List.of(OVERHEAD, STORAGE, ROLLOUT, WARMUP, SEARCH, MIXED);

  String begin() {
    return "<!-- " + name + ":begin -->";
  }

  String end() {
    return "<!-- " + name + ":end -->";
  }

  /** {@code doc} with this marked section replaced by {@code body}, or with one appended. */
  String replace(String doc, String body) {
    String section = begin() + "\n" + body + (body.endsWith("\n") ? "" : "\n") + end() + "\n";
    int begin = doc.indexOf(begin());
    int end = begin < 0 ? -1 : doc.indexOf(end(), begin);
    if (begin < 0 || end < 0) {
      String sep = doc.isEmpty() ? "" : doc.endsWith("\n\n") ? "" : doc.endsWith("\n") ? "\n" : "\n\n";
      return doc + sep + section;
    }
    int after = end + end().length();
    if (after < doc.length() && doc.charAt(after) == '\n') {
      after++;
    }
    return doc.substring(0, begin) + section + doc.substring(after);
  }

  /** Where this section begins in {@code doc} when it has the whole section (both markers), else -1. */
  int indexIn(String doc) {
    int begin = doc.indexOf(begin());
    return begin >= 0 && doc.indexOf(end(), begin) >= 0 ? begin : -1;
  }

  /**
   * {@code newDoc} followed by everything of the file at {@code path} from its first marked
   * section on (the storage and rollout results, and sections written after them, such as
   * build comparisons), when the file exists and has one: what the writer of the batching part
   * calls to keep the rest.
   */
  static String carryOver(Path path, String newDoc) throws IOException {
    if (!Files.exists(path) || ALL.stream().anyMatch(s -> newDoc.contains(s.begin()))) {
      return newDoc;
    }
    String doc = Files.readString(path);
    int first = ALL.stream().mapToInt(s -> s.indexIn(doc)).filter(i -> i >= 0).min().orElse(-1);
    if (first < 0) {
      return newDoc;
    }
    return newDoc + (newDoc.endsWith("\n") ? "\n" : "\n\n") + doc.substring(first);
  }
}
