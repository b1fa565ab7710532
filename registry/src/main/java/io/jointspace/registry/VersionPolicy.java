package io.jointspace.registry;

import java.util.List;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;

/** Which of the versions found on disk a model serves, after TF Serving's ServableVersionPolicy. */
public sealed interface VersionPolicy {

  /** Picks the versions to serve from those present. */
  List<Long> select(NavigableSet<Long> present);

  /** The newest {@code count} versions. The default, with a count of 1. */
  record Latest(int count) implements VersionPolicy {
    public Latest {
      if (count < 1) {
        throw new IllegalArgumentException("latest.num_versions must be at least 1, got " + count);
      }
    }

    @Override
    public List<Long> select(NavigableSet<Long> present) {
      return present.descendingSet().stream().limit(count).sorted().toList();
    }
  }

  /** Every version present. */
  record All() implements VersionPolicy {
    @Override
    public List<Long> select(NavigableSet<Long> present) {
      return List.copyOf(present);
    }
  }

  /** Exactly these versions, those of them that are present. */
  record Specific(Set<Long> versions) implements VersionPolicy {
    public Specific {
      if (versions.isEmpty()) {
        throw new IllegalArgumentException("specific.versions must name at least one version");
      }
      versions = Set.copyOf(versions);
    }

    @Override
    public List<Long> select(NavigableSet<Long> present) {
      TreeSet<Long> chosen = new TreeSet<>(present);
      chosen.retainAll(versions);
      return List.copyOf(chosen);
    }
  }

  static VersionPolicy latest() {
    return new Latest(1);
  }
}
