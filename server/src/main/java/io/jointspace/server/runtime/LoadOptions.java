package io.jointspace.server.runtime;

import java.util.List;

/**
 * How to load one model's versions.
 *
 * @param tags the MetaGraph tag set; must equal the saved one. Default {@code ["serve"]}
 * @param defaultSignature used when a request names none; empty: "serving_default", else the
 *     only signature
 * @param intraOpThreads 0 lets TensorFlow choose
 * @param interOpThreads 0 lets TensorFlow choose
 * @param allowSoftPlacement run ops pinned to an absent device on one that exists. Default true
 * @param threadSpinning let TensorFlow's thread pools spin-wait for work before sleeping.
 *     Default false: the spinning takes cores from decoding, tokenizing and gRPC
 */
public record LoadOptions(
    List<String> tags,
    String defaultSignature,
    int intraOpThreads,
    int interOpThreads,
    boolean allowSoftPlacement,
    boolean threadSpinning) {

  public static final LoadOptions DEFAULT = new LoadOptions(List.of("serve"), "", 0, 0, true, false);

  public LoadOptions {
    tags = tags.isEmpty() ? List.of("serve") : List.copyOf(tags);
    if (intraOpThreads < 0 || interOpThreads < 0) {
      throw new IllegalArgumentException("session thread counts must not be negative");
    }
  }
}
