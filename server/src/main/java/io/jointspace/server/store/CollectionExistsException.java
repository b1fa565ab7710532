package io.jointspace.server.store;

/** A collection, table or view of that name exists already. */
public final class CollectionExistsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CollectionExistsException(String message) {
    super(message);
  }
}
