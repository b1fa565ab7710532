package io.jointspace.server.api;

import com.google.inject.Singleton;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether the server is ready for traffic: after the model versions found at start have
 * finished loading (AVAILABLE or ERROR), and until shutdown begins.
 */
@Singleton
public final class ServerState {
  private final AtomicBoolean ready = new AtomicBoolean();

  public boolean isReady() {
    return ready.get();
  }

  public void setReady(boolean value) {
    ready.set(value);
  }
}
