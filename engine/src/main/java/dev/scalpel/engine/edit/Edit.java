package dev.scalpel.engine.edit;

import dev.scalpel.engine.train.Optimizer;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A change to a model, as data: it adds a contribution to some named linear layers (never writing the stored
 * weights), can be trained (its {@link #trainables()}), described for undo menus, and saved ({@link #metadata()} +
 * {@link #tensors()}) to an edits file.
 */
public interface Edit extends AutoCloseable {

    /** e.g. "lora", "head-lora", "head-finetune". */
    String kind();

    /** One line for menus and logs, e.g. "head-LoRA r=4 on L1H1,L2H1 (q,k,v,o), 12,288 params". */
    String describe();

    /** The Hugging Face weight names this edit touches. */
    List<String> weightNames();

    /**
     * What this edit adds to linear layer {@code weightName}'s output for input x, or null when it does not touch it.
     *
     * @param x      [..., in]
     * @param weight the stored weight [out, in]
     * @return [..., out]
     */
    Tensor contribution(String weightName, Tensor x, Tensor weight);

    /**
     * What this edit adds to parameter vector {@code name} (a tensor the forward pass reads directly, not a linear
     * layer's weight), shaped like it, or null when it does not touch it.
     */
    default Tensor parameterDelta(String name) {
        return null;
    }

    /** The edit as a dense delta per touched weight or parameter, shaped like it (for merging and export). */
    Map<String, Tensor> denseDeltas(Map<String, Tensor> weights);

    /** Its trainable tensors (leaves); empty once frozen. */
    List<Optimizer.Trainable> trainables();

    /**
     * A frozen copy of this edit as it is now (its tensors cloned, without gradients): what a reader uses while this
     * edit keeps training, and what undo keeps.
     */
    Edit copy();

    /** Turns training-only behaviour (dropout) on or off. */
    default void setTraining(boolean training) {}

    /** Scalar parameters that {@link #trainables()} hold. */
    default long parameterCount() {
        return trainables().stream().mapToLong(t -> t.value().numel()).sum();
    }

    /** Everything but the tensors, JSON-serialisable (kind, heads, rank, …). */
    Map<String, Object> metadata();

    /** Its tensors by a name unique within the edit. */
    Map<String, Tensor> tensors();

    @Override
    void close();
}
