package io.jointspace.registry;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32;
import javax.annotation.Nullable;

/**
 * Where a label sends its calls: one version, or a traffic split between versions by weight
 * ({@code canary -> {2: 90, 3: 10}}). A split picks per call: by a hash of the caller's routing
 * key when it sends one (so the same key always lands on the same version while the split
 * stands), else at random. {@code fallback}, when set, is where the label sent calls before it
 * moved: it takes them while any version of the target is not AVAILABLE on this server and
 * every version of the fallback is (a version still loading here, a version that stopped
 * serving), so moving a label never fails a call a server could have served. Immutable.
 *
 * @param weights version to weight, each weight positive
 * @param fallback the label's previous target; null: none
 */
public record LabelTarget(SortedMap<Long, Integer> weights, @Nullable LabelTarget fallback) {

  public LabelTarget {
    if (weights.isEmpty()) {
      throw new IllegalArgumentException("a label needs at least one version");
    }
    long total = 0;
    for (Map.Entry<Long, Integer> e : weights.entrySet()) {
      if (e.getKey() <= 0) {
        throw new IllegalArgumentException("versions must be positive, got " + e.getKey());
      }
      if (e.getValue() == null || e.getValue() <= 0) {
        throw new IllegalArgumentException("the weight of version " + e.getKey() + " must be positive, got "
            + e.getValue());
      }
      total += e.getValue();
    }
    if (total > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("weights add up to more than " + Integer.MAX_VALUE);
    }
    weights = Collections.unmodifiableSortedMap(new TreeMap<>(weights));
    if (fallback != null && fallback.fallback() != null) {
      fallback = new LabelTarget(fallback.weights(), null);
    }
  }

  /** All calls to one version. */
  public static LabelTarget version(long version) {
    return new LabelTarget(new TreeMap<>(Map.of(version, 1)), null);
  }

  /** Calls split between versions by weight. */
  public static LabelTarget split(Map<Long, Integer> weights) {
    return new LabelTarget(new TreeMap<>(weights), null);
  }

  /** The same target with {@code fallback} taking the calls until it is all AVAILABLE. */
  public LabelTarget withFallback(@Nullable LabelTarget fallback) {
    return new LabelTarget(weights, fallback);
  }

  public boolean isSplit() {
    return weights.size() > 1;
  }

  /** The single version; only when not {@link #isSplit()}. */
  public long version() {
    if (isSplit()) {
      throw new IllegalStateException("a split has several versions: " + this);
    }
    return weights.firstKey();
  }

  /**
   * The version with the largest share (the newest of those tied): where a collection that
   * follows the label lives.
   */
  public long primary() {
    long best = weights.firstKey();
    for (Map.Entry<Long, Integer> e : weights.entrySet()) {
      if (e.getValue() >= weights.get(best)) {
        best = e.getKey();
      }
    }
    return best;
  }

  /**
   * The version for one call: the key's hash (CRC-32 of its UTF-8 bytes, the same on every
   * server process) placed on the weights, or a random draw without a key.
   */
  public long pick(@Nullable String routingKey) {
    if (!isSplit()) {
      return weights.firstKey();
    }
    int total = weights.values().stream().mapToInt(Integer::intValue).sum();
    long point;
    if (routingKey == null || routingKey.isEmpty()) {
      point = ThreadLocalRandom.current().nextInt(total);
    } else {
      CRC32 crc = new CRC32();
      crc.update(routingKey.getBytes(StandardCharsets.UTF_8));
      point = crc.getValue() % total;
    }
    for (Map.Entry<Long, Integer> e : weights.entrySet()) {
      point -= e.getValue();
      if (point < 0) {
        return e.getKey();
      }
    }
    return weights.lastKey();
  }

  /** {@code 2}, or {@code {2: 90, 3: 10}}. */
  @Override
  public String toString() {
    if (!isSplit()) {
      return Long.toString(weights.firstKey());
    }
    StringBuilder s = new StringBuilder("{");
    weights.forEach((v, w) -> s.append(s.length() > 1 ? ", " : "").append(v).append(": ").append(w));
    return s.append('}').toString();
  }
}
