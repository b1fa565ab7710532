package io.jointspace.server.store;

import java.time.Instant;

/** A collection as the catalog has it, with the table that holds its items now. */
public record Collection(CollectionSpec spec, String table, Instant createdAt) {

  public String name() {
    return spec.name();
  }

  /** The view SQL users query: {@code public.<name>}. */
  public String view() {
    return "public." + spec.name();
  }
}
