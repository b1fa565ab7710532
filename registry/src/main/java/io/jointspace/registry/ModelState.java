package io.jointspace.registry;

/** Lifecycle of one model version, after TF Serving's ServableState. */
public enum ModelState {
  /** Found in the repository; loading has not started. */
  NEW,
  /** Loading and warming up; takes no traffic. */
  LOADING,
  /** Serving traffic. */
  AVAILABLE,
  /** Takes no new calls; unloads once the calls in flight have finished. */
  UNLOADING,
  /** Unloaded, or left the repository before it was loaded. */
  END,
  /** Failed to load. Never takes traffic; loaded again only if its files change. */
  ERROR
}
