package io.jointspace.server.store;

import java.time.Instant;
import java.util.Optional;
import javax.annotation.Nullable;

/**
 * A collection as the catalog has it: its spec (for the active model version), the table
 * that holds its items now, and the open rollout, if any.
 *
 * @param epoch changes whenever the set of tables written changes; writes check it
 * @param rollout the open rollout: while there is one, writes go to both versions
 * @param following the model label the collection follows, or null when bound to its version
 */
public record Collection(CollectionSpec spec, String table, Instant createdAt, long epoch,
    @Nullable OpenRollout rollout, @Nullable Following following) {

  /**
   * A collection that moves with a model label.
   *
   * @param policyJson how it moves (a rollout package's policy, as JSON)
   */
  public record Following(String label, String policyJson) {}

  /**
   * The open rollout of a collection, as writes need it.
   *
   * @param replica the other version's table: the target before a promote (and after a
   *     rollback), the old one after
   */
  public record OpenRollout(long id, RolloutState state, Unembeddable unembeddable, VersionTable replica) {}

  public String name() {
    return spec.name();
  }

  /** The view SQL users query: {@code public.<name>}. */
  public String view() {
    return "public." + spec.name();
  }

  /** The active version's table. */
  public VersionTable active() {
    return new VersionTable(spec.modelName(), spec.modelVersion(), table, spec.dimension());
  }

  /** The table that also receives writes during a rollout. */
  public Optional<VersionTable> replica() {
    return rollout == null ? Optional.empty() : Optional.of(rollout.replica());
  }

  /**
   * This collection as seen through one of its versions: the active one, or the other one of
   * an open rollout.
   *
   * @throws io.jointspace.server.errors.InvalidInputException naming {@code field} when the
   *     collection has no table of that version
   */
  public Collection atVersion(long version, String field) {
    if (version == spec.modelVersion()) {
      return this;
    }
    VersionTable other = replica().filter(r -> r.version() == version).orElseThrow(() ->
        new io.jointspace.server.errors.InvalidInputException(field + ": collection '" + name() + "' has no version "
            + version + "; it holds version " + spec.modelVersion()
            + replica().map(r -> " and, during its rollout, version " + r.version()).orElse("")));
    return at(other);
  }

  /**
   * Checks that {@code v} fits this collection's table (dimension, finite values, half
   * precision range).
   *
   * @throws io.jointspace.server.errors.InvalidInputException naming {@code field}
   */
  public void checkVector(float[] v, String field) {
    ItemStore.checkVector(v, this, field);
  }

  /** This collection with {@code t} in place of the active table (same index parameters). */
  public Collection at(VersionTable t) {
    CollectionSpec s = spec;
    return new Collection(new CollectionSpec(s.name(), t.modelName(), t.version(), t.dimension(), s.metric(),
        s.vectorType(), s.m(), s.efConstruction(), s.keepSources(), s.description(), s.indexedKeys()), t.table(), createdAt, epoch,
        rollout, following);
  }
}
