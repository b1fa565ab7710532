package io.jointspace.server.runtime;

/**
 * JavaCPP's settings for the native memory of TensorFlow's tensors, applied before JavaCPP
 * reads them (its {@code Pointer} class reads them once, when first used).
 *
 * <p>JavaCPP's default {@code org.bytedeco.javacpp.maxPhysicalBytes} (4 times the Java heap's
 * maximum) makes every native allocation with a deallocator, every input and output tensor of
 * every call, read {@code /proc/self/statm} under a lock all threads share. Measured with
 * {@code bench/run-overhead.sh} (ModelInfer of half_plus_two, batching off, three runs each way),
 * setting it to 0 took the server CPU per call from 221-258 us to 199-236 us at 1 caller and from
 * 88-113 us to 57-71 us at 64 callers, where the lock was contended. The server sets it to 0, no
 * such check, unless it was set on
 * the command line; native memory is freed when each call ends (its {@code PointerScope}), not
 * when a garbage collection finds it, and {@code org.bytedeco.javacpp.maxBytes} (the Java heap's
 * maximum by default) still bounds what is held at once.
 */
public final class NativeMemory {
  static final String MAX_PHYSICAL_BYTES = "org.bytedeco.javacpp.maxPhysicalBytes";

  private NativeMemory() {}

  /** Sets JavaCPP's defaults that are not already set; to be called before any TensorFlow class is used. */
  public static void configure() {
    if (System.getProperty(MAX_PHYSICAL_BYTES) == null) {
      System.setProperty(MAX_PHYSICAL_BYTES, "0");
    }
  }
}
