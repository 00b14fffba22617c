package dev.scalpel.engine.train;

import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Updates trainable tensors from their gradients. Implementations keep their state as tensors so it can be measured
 * ({@link #stateBytes()}), saved and restored.
 */
public interface Optimizer extends AutoCloseable {

    /**
     * A trainable leaf tensor (requires_grad) with its learning-rate multiplier (per-head learning rates) and whether
     * decoupled weight decay applies to it; {@code elementLrScale}, when not null, further multiplies the update of each
     * element (a tensor that broadcasts to the value's shape, e.g. [rows, 1] for per-head rows of a LoRA factor).
     */
    record Trainable(String name, Tensor value, double lrScale, boolean decay, Tensor elementLrScale) {
        public Trainable(String name, Tensor value, double lrScale, boolean decay) {
            this(name, value, lrScale, decay, null);
        }

        /** A tensor trained at the base rate, decayed when it is a matrix. */
        public static Trainable of(String name, Tensor value) {
            return new Trainable(name, value, 1.0, value.dim() >= 2);
        }
    }

    List<Trainable> trainables();

    /** Optimizer steps taken so far. */
    long step();

    /** One update at base learning rate {@code lr} (each tensor uses lr × its lrScale); tensors without a gradient are skipped. */
    void step(double lr);

    /** Clears every trainable's gradient. */
    default void zeroGrad() {
        for (Trainable t : trainables()) {
            Tensor grad = t.value().grad();
            if (grad != null && !grad.isNull() && grad.defined()) {
                grad.zero_();
            }
        }
    }

    /** What the optimizer chose to do differently from its settings, one line each (e.g. a matrix too thin to project). */
    default List<String> notes() {
        return List.of();
    }

    /** Bytes of optimizer state (moments, projections). */
    long stateBytes();

    /**
     * The tensors a checkpoint must save to resume this optimizer exactly, by a stable name (live tensors: a restore
     * copies into them, then calls {@link #resumeAt}). State that is recomputed from the settings (APOLLO's seeded
     * projections) is not listed.
     */
    Map<String, Tensor> state();

    /** Continues as if {@code step} steps had been taken, with {@link #state()} already filled from a checkpoint. */
    void resumeAt(long step);

    @Override
    void close();
}
