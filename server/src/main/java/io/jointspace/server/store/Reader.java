package io.jointspace.server.store;

/**
 * The read side of one database server, the primary or a streaming replica: its catalog and
 * its items. A read that looks a collection up and then reads its items does both through one
 * reader, so the item read sees at least the catalog state it was planned on (a replica
 * replays in commit order).
 */
public record Reader(CollectionCatalog catalog, ItemStore items) {}
