package io.jointspace.server.api;

import io.jointspace.server.errors.InvalidInputException;
import io.jointspace.server.rollout.LabelPolicy;

/** CreateCollectionRequest.label_policy and Collection.label_policy: checked, and mapped both ways. */
final class LabelPolicies {
  private LabelPolicies() {}

  /**
   * @throws InvalidInputException naming the label_policy field that is out of range
   */
  static LabelPolicy fromProto(io.jointspace.api.v1.LabelPolicy p) {
    if (!(p.getMinNeighbourAgreement() >= 0 && p.getMinNeighbourAgreement() <= 1)) {
      throw new InvalidInputException("label_policy.min_neighbour_agreement must be within 0..1, got "
          + p.getMinNeighbourAgreement());
    }
    if (p.hasMinZeroShotGain() && p.getClassKey().isEmpty()) {
      throw new InvalidInputException("label_policy.min_zero_shot_gain needs label_policy.class_key: zero-shot"
          + " accuracy is measured over a metadata class");
    }
    if (p.hasMinZeroShotGain() && !(Math.abs(p.getMinZeroShotGain()) <= 1)) {
      throw new InvalidInputException("label_policy.min_zero_shot_gain must be within -1..1, got "
          + p.getMinZeroShotGain());
    }
    io.jointspace.server.rollout.Rollouts.checkRate(p.getRateLimit(), "label_policy.rate_limit");
    String template = p.getClassTemplate().isEmpty() ? "{}" : p.getClassTemplate();
    if (!template.contains("{}")) {
      throw new InvalidInputException("label_policy.class_template '" + template + "' has no {} for the class name");
    }
    Long finalizeAfter = null;
    if (p.hasFinalizeAfter()) {
      if (p.getFinalizeAfter().getSeconds() < 0) {
        throw new InvalidInputException("label_policy.finalize_after must not be negative");
      }
      finalizeAfter = p.getFinalizeAfter().getSeconds() * 1000 + p.getFinalizeAfter().getNanos() / 1_000_000;
    }
    return new LabelPolicy(p.getAutoPromote(), p.getMinNeighbourAgreement(), p.getClassKey(), template,
        p.hasMinZeroShotGain() ? p.getMinZeroShotGain() : null,
        RolloutServiceImpl.unembeddable(p.getUnembeddable(), "label_policy.unembeddable"), p.getRateLimit(),
        finalizeAfter);
  }

  static io.jointspace.api.v1.LabelPolicy toProto(LabelPolicy p) {
    io.jointspace.api.v1.LabelPolicy.Builder b = io.jointspace.api.v1.LabelPolicy.newBuilder()
        .setAutoPromote(p.autoPromote())
        .setMinNeighbourAgreement(p.minNeighbourAgreement())
        .setClassKey(p.classKey())
        .setClassTemplate(p.classTemplate())
        .setUnembeddable(RolloutServiceImpl.unembeddable(p.unembeddable()))
        .setRateLimit(p.rateLimit());
    if (p.minZeroShotGain() != null) {
      b.setMinZeroShotGain(p.minZeroShotGain());
    }
    if (p.finalizeAfterMillis() != null) {
      b.setFinalizeAfter(com.google.protobuf.util.Durations.fromMillis(p.finalizeAfterMillis()));
    }
    return b.build();
  }
}
