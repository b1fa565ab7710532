package io.jointspace.server.store;

/** No collection of that name, or no stored item of that id where one is required. */
public final class CollectionNotFoundException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CollectionNotFoundException(String message) {
    super(message);
  }
}
