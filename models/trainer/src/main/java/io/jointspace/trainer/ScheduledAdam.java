package io.jointspace.trainer;

import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.framework.optimizers.Adam;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.train.ApplyAdam;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TType;

/**
 * Adam (the framework's {@link Optimizer} machinery and the same update op as
 * {@link Adam}) whose learning rate is fed on every step through {@link #learningRate()},
 * so the trainer can run a warmup + cosine schedule. The beta powers advance only after
 * every variable's update has run.
 */
final class ScheduledAdam extends Optimizer {
  private static final float BETA1 = 0.9f;
  private static final float BETA2 = 0.999f;
  private static final float EPSILON = 1e-7f;

  private final Placeholder<TFloat32> learningRate;
  private Variable<TFloat32> beta1Power;
  private Variable<TFloat32> beta2Power;

  ScheduledAdam(Graph graph) {
    super(graph, "Adam");
    this.learningRate = tf.withName("learning_rate").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
  }

  /** Feed the step's learning rate here. */
  Placeholder<TFloat32> learningRate() {
    return learningRate;
  }

  @Override
  protected void createSlots(List<Output<? extends TType>> variables) {
    for (Output<? extends TType> v : variables) {
      zeroSlot(v, Adam.FIRST_MOMENT);
      zeroSlot(v, Adam.SECOND_MOMENT);
    }
    beta1Power = tf.withName("beta1_power").variable(tf.constant(BETA1));
    beta2Power = tf.withName("beta2_power").variable(tf.constant(BETA2));
  }

  private <T extends TType> void zeroSlot(Output<T> v, String slot) {
    Operand<T> zeros = tf.zeros(tf.constant(v.shape().asArray()), v.type());
    createSlot(v, slot, zeros);
  }

  @Override
  protected <T extends TType> Op applyDense(org.tensorflow.op.Ops deps, Output<T> gradient, Output<T> variable) {
    Class<T> type = gradient.type();
    return deps.train.applyAdam(variable,
        getSlot(variable, Adam.FIRST_MOMENT).orElseThrow(),
        getSlot(variable, Adam.SECOND_MOMENT).orElseThrow(),
        deps.dtypes.cast(beta1Power, type), deps.dtypes.cast(beta2Power, type),
        deps.dtypes.cast(learningRate, type),
        deps.dtypes.cast(deps.constant(BETA1), type), deps.dtypes.cast(deps.constant(BETA2), type),
        deps.dtypes.cast(deps.constant(EPSILON), type),
        gradient, ApplyAdam.useLocking(true));
  }

  @Override
  protected Op finish(List<Op> updates, String name) {
    org.tensorflow.op.Ops after = tf.withControlDependencies(updates);
    Op b1 = after.assign(beta1Power, after.math.mul(beta1Power, after.constant(BETA1)));
    Op b2 = after.assign(beta2Power, after.math.mul(beta2Power, after.constant(BETA2)));
    return super.finish(List.of(b1, b2), name);
  }

  @Override
  public String getOptimizerName() {
    return "Adam";
  }
}
