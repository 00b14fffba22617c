package dev.scalpel.engine.model;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Rotary position embeddings with Hugging Face's {@code rotate_half} convention: the head dimension is split in a
 * first and a second half (not interleaved pairs), and x' = x·cos + rotate_half(x)·sin with rotate_half(x) = [-x₂, x₁].
 */
public final class RotaryEmbedding {
    private final double[] invFreq; // [D/2]
    private final int headDim;

    public RotaryEmbedding(ModelConfig config) {
        this.headDim = config.headDim();
        double[] f = new double[headDim / 2];
        for (int i = 0; i < f.length; i++) {
            // HF: 1 / theta^(2i / D)
            f[i] = 1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / headDim);
        }
        this.invFreq = config.ropeScaling() != null ? config.ropeScaling().scale(f) : f;
    }

    /** The cos/sin table for positions [start, start + length), to be applied to every layer of one forward pass. */
    public Table table(long start, long length, ComputeDevice device) {
        var options = Tensors.floatOptions(device);
        float[] inv = new float[invFreq.length];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = (float) invFreq[i];
        }
        Tensor invT = Tensors.floats(inv, device);                                            // [D/2]
        Tensor pos = torch.arange(new org.bytedeco.pytorch.Scalar(start),
                new org.bytedeco.pytorch.Scalar(start + length), options);                      // [S]
        Tensor freqs = pos.view(length, 1).mul(invT.view(1, invFreq.length));               // [S, D/2]
        Tensor emb = torch.cat(new TensorVector(freqs, freqs), -1);                          // [S, D]
        return new Table(emb.cos().view(1, length, 1, headDim), emb.sin().view(1, length, 1, headDim), headDim);
    }

    /** cos and sin, each [1, S, 1, D], broadcasting over batch and heads of an [B, S, H, D] tensor. */
    public record Table(Tensor cos, Tensor sin, int headDim) {
        /** Rotates x [B, S, H, D]. */
        public Tensor apply(Tensor x) {
            int half = headDim / 2;
            Tensor x1 = x.narrow(-1, 0, half);                                                   // [B, S, H, D/2]
            Tensor x2 = x.narrow(-1, half, half);                                                // [B, S, H, D/2]
            Tensor rotated = torch.cat(new TensorVector(x2.neg(), x1), -1);                    // [B, S, H, D]
            return x.mul(cos).add(rotated.mul(sin));
        }
    }
}
