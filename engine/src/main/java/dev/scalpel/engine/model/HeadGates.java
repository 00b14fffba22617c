package dev.scalpel.engine.model;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ScalpelException;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One multiplier per attention head, [layers, heads], applied to each head's output z before o_proj.
 * All ones is the unmodified model; 0 ablates a head; with {@link #requireGrad()} the gradient of a loss
 * w.r.t. the gates is the head-importance signal (Michel et al. 2019).
 */
public final class HeadGates implements AutoCloseable {
    private final int layers;
    private final int heads;
    private final Tensor values; // [layers, heads], float32, on the model's device

    private HeadGates(int layers, int heads, Tensor values) {
        this.layers = layers;
        this.heads = heads;
        this.values = values;
        values.retainReference();
    }

    /** Gates of 1 for every head of {@code config}'s model, on {@code device}. */
    public static HeadGates ones(ModelConfig config, ComputeDevice device) {
        Tensor t = torch.ones(new long[] {config.numLayers(), config.numHeads()},
                Tensors.floatOptions(device));
        return new HeadGates(config.numLayers(), config.numHeads(), t);
    }

    public int layers() {
        return layers;
    }

    public int heads() {
        return heads;
    }

    /** The gate tensor itself, [layers, heads]. */
    public Tensor tensor() {
        return values;
    }

    /** Sets one head's gate, e.g. 0 to ablate it. Not allowed while gradients are tracked. */
    public HeadGates set(HeadId head, double value) {
        if (head.layer() >= layers || head.head() >= heads) {
            throw new ScalpelException("Head " + head + " is outside this model (" + layers + " layers × " + heads + " heads).");
        }
        try (var guard = new org.bytedeco.pytorch.NoGradGuard()) {
            values.select(0, head.layer()).select(0, head.head()).fill_(new org.bytedeco.pytorch.Scalar(value));
        }
        return this;
    }

    /** Makes the gates a leaf that collects gradients. */
    public HeadGates requireGrad() {
        values.requires_grad_(true);
        return this;
    }

    /** Gate of layer {@code l} shaped to broadcast over z: [1, 1, heads, 1]. */
    Tensor broadcastRow(int l) {
        return values.select(0, l).view(1, 1, heads, 1);
    }

    /** Gradient collected by the last backward pass, [layers, heads], or null before any. */
    public Tensor grad() {
        Tensor g = values.grad();
        return g == null || g.isNull() || !g.defined() ? null : g;
    }

    @Override
    public void close() {
        values.releaseReference();
    }
}
