package dev.scalpel.engine.model;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ScalpelException;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One multiplier per attention head, applied to each head's output z before o_proj: z' = g·z, or with a baseline
 * (mean ablation) z' = b + g·(z − b). All ones is the unmodified model; 0 ablates a head (to zero, or to its
 * baseline); with {@link #requireGrad()} the gradient of a loss w.r.t. the gates is the head-importance signal
 * (Michel et al. 2019).
 *
 * <p>The gates are shared by every position ([layers, heads]), or one set per sequence of the batch
 * ([layers, B, heads], so one batch can ablate a different head in each sequence), or one per token
 * ([layers, B, S, heads], for per-token gradients).
 */
public final class HeadGates implements AutoCloseable {
    private final int layers;
    private final int heads;
    private final Tensor values;  // [L, H] | [L, B, H] | [L, B, S, H], float32, on the model's device
    private Tensor baseline;      // [L, H, D] or null

    private HeadGates(int layers, int heads, Tensor values) {
        this.layers = layers;
        this.heads = heads;
        this.values = values;
        values.retainReference();
    }

    /** Gates of 1 shared by every position, [layers, heads]. */
    public static HeadGates ones(ModelConfig config, ComputeDevice device) {
        return new HeadGates(config.numLayers(), config.numHeads(),
                torch.ones(new long[] {config.numLayers(), config.numHeads()}, Tensors.floatOptions(device)));
    }

    /** Gates of 1, one set per sequence of a batch of {@code batch}, [layers, batch, heads]. */
    public static HeadGates perSequence(ModelConfig config, int batch, ComputeDevice device) {
        return new HeadGates(config.numLayers(), config.numHeads(),
                torch.ones(new long[] {config.numLayers(), batch, config.numHeads()}, Tensors.floatOptions(device)));
    }

    /** Gates of 1, one per token of a [batch, seq] input, [layers, batch, seq, heads]. */
    public static HeadGates perToken(ModelConfig config, int batch, int seq, ComputeDevice device) {
        return new HeadGates(config.numLayers(), config.numHeads(),
                torch.ones(new long[] {config.numLayers(), batch, seq, config.numHeads()}, Tensors.floatOptions(device)));
    }

    /**
     * Makes gate 0 mean "replace the head's output by {@code meanZ}" instead of "by zero".
     *
     * @param meanZ each head's mean output over some tokens, [layers, heads, head_dim]
     */
    public HeadGates withBaseline(Tensor meanZ) {
        if (meanZ.dim() != 3 || meanZ.size(0) != layers || meanZ.size(1) != heads) {
            throw new ScalpelException("A head baseline must be [layers, heads, head_dim] = [" + layers + ", " + heads
                    + ", D], got " + java.util.Arrays.toString(Tensors.shape(meanZ)) + ".");
        }
        if (baseline != null) {
            baseline.releaseReference();
        }
        baseline = meanZ;
        baseline.retainReference();
        return this;
    }

    public int layers() {
        return layers;
    }

    public int heads() {
        return heads;
    }

    /** The gate tensor itself. */
    public Tensor tensor() {
        return values;
    }

    /** Sets one head's gate at every position (shared gates), e.g. 0 to ablate it. */
    public HeadGates set(HeadId head, double value) {
        check(head);
        if (values.dim() != 2) {
            throw new IllegalStateException("set(head, value) is for shared gates; use set(sequence, head, value)");
        }
        fill(values.select(0, head.layer()).select(0, head.head()), value);
        return this;
    }

    /** Sets one head's gate for one sequence of the batch (per-sequence gates). */
    public HeadGates set(int sequence, HeadId head, double value) {
        check(head);
        if (values.dim() != 3) {
            throw new IllegalStateException("set(sequence, head, value) is for per-sequence gates");
        }
        fill(values.select(0, head.layer()).select(0, sequence).select(0, head.head()), value);
        return this;
    }

    private void check(HeadId head) {
        if (head.layer() >= layers || head.head() >= heads) {
            throw new ScalpelException("Head " + head + " is outside this model (" + layers + " layers × " + heads + " heads).");
        }
    }

    private static void fill(Tensor element, double value) {
        try (NoGradGuard guard = new NoGradGuard()) {
            element.fill_(new Scalar(value));
        }
    }

    /** Makes the gates a leaf that collects gradients. */
    public HeadGates requireGrad() {
        values.requires_grad_(true);
        return this;
    }

    /** Applies layer {@code l}'s gates to z [B, S, H, D]. */
    Tensor apply(int l, Tensor z) {
        Tensor g = values.select(0, l);                                   // [H] | [B, H] | [B, S, H]
        Tensor gate = switch ((int) g.dim()) {
            case 1 -> g.view(1, 1, heads, 1);
            case 2 -> g.view(g.size(0), 1, heads, 1);
            default -> g.unsqueeze(-1);                                    // [B, S, H, 1]
        };
        if (baseline == null) {
            return z.mul(gate);
        }
        Tensor b = baseline.select(0, l).view(1, 1, heads, baseline.size(2)); // [1, 1, H, D]
        return b.add(z.sub(b).mul(gate));
    }

    /** Gradient collected by the last backward pass (shaped like the gates), or null before any. */
    public Tensor grad() {
        Tensor g = values.grad();
        return g == null || g.isNull() || !g.defined() ? null : g;
    }

    @Override
    public void close() {
        values.releaseReference();
        if (baseline != null) {
            baseline.releaseReference();
        }
    }
}
