package dev.scalpel.engine.model;

import dev.scalpel.engine.api.HeadGrid;
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
 * <p>The gates are shared by every position ([layers, W]), or one set per sequence of the batch
 * ([layers, B, W], so one batch can ablate a different head in each sequence), or one per token
 * ([layers, B, S, W], for per-token gradients). W is the width of the model's {@link HeadGrid}: a layer with fewer
 * heads H_l (a hybrid's attention layers beside its Gated DeltaNet layers, or the other way round) uses its first H_l
 * gates; the others are absent cells, never applied (their gradient stays 0) and refused by {@link #set}.
 */
public final class HeadGates implements AutoCloseable {
    private final HeadGrid grid;
    private final Tensor values;  // [L, W] | [L, B, W] | [L, B, S, W], float32, on the model's device
    private Tensor baseline;      // [L, W, D_max] or null

    private HeadGates(HeadGrid grid, Tensor values) {
        this.grid = grid;
        this.values = values;
        values.retainReference();
    }

    /** Gates of 1 shared by every position, [layers, W]. */
    public static HeadGates ones(ModelConfig config, ComputeDevice device) {
        return of(config, new long[0], device);
    }

    /** Gates of 1, one set per sequence of a batch of {@code batch}, [layers, batch, W]. */
    public static HeadGates perSequence(ModelConfig config, int batch, ComputeDevice device) {
        return of(config, new long[] {batch}, device);
    }

    /** Gates of 1, one per token of a [batch, seq] input, [layers, batch, seq, W]. */
    public static HeadGates perToken(ModelConfig config, int batch, int seq, ComputeDevice device) {
        return of(config, new long[] {batch, seq}, device);
    }

    /** Ones of [layers, ...inner, W]. */
    private static HeadGates of(ModelConfig config, long[] inner, ComputeDevice device) {
        HeadGrid grid = config.headGrid();
        long[] shape = new long[inner.length + 2];
        shape[0] = grid.layers();
        System.arraycopy(inner, 0, shape, 1, inner.length);
        shape[shape.length - 1] = grid.width();
        return new HeadGates(grid, torch.ones(shape, Tensors.floatOptions(device)));
    }

    /**
     * Makes gate 0 mean "replace the head's output by {@code meanZ}" instead of "by zero".
     *
     * @param meanZ each head's mean output over some tokens, [layers, W, D_max]: layer l's head h in
     *              [l, h, :its head width], the rest unused
     */
    public HeadGates withBaseline(Tensor meanZ) {
        if (meanZ.dim() != 3 || meanZ.size(0) != grid.layers() || meanZ.size(1) != grid.width()) {
            throw new ScalpelException("A head baseline must be [layers, heads, head_dim] = [" + grid.layers() + ", "
                    + grid.width() + ", D], got " + java.util.Arrays.toString(Tensors.shape(meanZ)) + ".");
        }
        if (baseline != null) {
            baseline.releaseReference();
        }
        baseline = meanZ;
        baseline.retainReference();
        return this;
    }

    /** The heads of each layer: which gates exist. */
    public HeadGrid grid() {
        return grid;
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
        grid.check(head);
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

    /** Applies layer {@code l}'s gates to z [B, S, H_l, D_l], the layer's own heads and head width. */
    Tensor apply(int l, Tensor z) {
        long heads = z.size(2), width = z.size(3);
        Tensor g = values.select(0, l).narrow(-1, 0, heads);            // [H_l] | [B, H_l] | [B, S, H_l]
        Tensor gate = switch ((int) g.dim()) {
            case 1 -> g.reshape(1, 1, heads, 1);
            case 2 -> g.reshape(g.size(0), 1, heads, 1);
            default -> g.unsqueeze(-1);                                    // [B, S, H_l, 1]
        };
        if (baseline == null) {
            return z.mul(gate);
        }
        Tensor b = baseline.select(0, l).narrow(0, 0, heads).narrow(1, 0, width).reshape(1, 1, heads, width); // [1, 1, H_l, D_l]
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
