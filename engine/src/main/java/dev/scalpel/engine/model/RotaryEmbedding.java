package dev.scalpel.engine.model;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Rotary position embeddings with Hugging Face's {@code rotate_half} convention: the rotated width R is split in a
 * first and a second half (not interleaved pairs), and x' = x·cos + rotate_half(x)·sin with rotate_half(x) = [-x₂, x₁].
 * With a partial rotary factor (Phi-3) only the first R of each head's D dimensions turn; the rest pass unchanged.
 */
public final class RotaryEmbedding {
    private final double[] invFreq; // [R/2]
    private final int rotaryDims;

    /**
     * @param theta      the RoPE base
     * @param scaling    Llama 3 frequency scaling, or null
     * @param rotaryDims R, the even number of leading dimensions of each head that turn
     */
    public RotaryEmbedding(double theta, RopeScaling scaling, int rotaryDims) {
        this.rotaryDims = rotaryDims;
        double[] f = new double[rotaryDims / 2];
        for (int i = 0; i < f.length; i++) {
            // HF: 1 / theta^(2i / R)
            f[i] = 1.0 / Math.pow(theta, (2.0 * i) / rotaryDims);
        }
        this.invFreq = scaling != null ? scaling.scale(f) : f;
    }

    /** The RoPE of every full-attention layer of {@code config} (the whole head turns unless the style says less). */
    public RotaryEmbedding(ModelConfig config) {
        this(config.ropeTheta(), config.ropeScaling(), config.rotaryDims());
    }

    /** The cos/sin table for positions [start, start + length), to be applied to every layer of one forward pass. */
    public Table table(long start, long length, ComputeDevice device) {
        var options = Tensors.floatOptions(device);
        float[] inv = new float[invFreq.length];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = (float) invFreq[i];
        }
        Tensor invT = Tensors.floats(inv, device);                                            // [R/2]
        Tensor pos = torch.arange(new org.bytedeco.pytorch.Scalar(start),
                new org.bytedeco.pytorch.Scalar(start + length), options);                      // [S]
        Tensor freqs = pos.view(length, 1).mul(invT.view(1, invFreq.length));               // [S, R/2]
        Tensor emb = torch.cat(new TensorVector(freqs, freqs), -1);                          // [S, R]
        return new Table(emb.cos().view(1, length, 1, rotaryDims), emb.sin().view(1, length, 1, rotaryDims), rotaryDims);
    }

    /** cos and sin, each [1, S, 1, R], broadcasting over batch and heads of an [B, S, H, D] tensor. */
    public record Table(Tensor cos, Tensor sin, int rotaryDims) {
        /** Rotates the first R dimensions of x [B, S, H, D]. */
        public Tensor apply(Tensor x) {
            long d = x.size(-1);
            Tensor turned = d == rotaryDims ? x : x.narrow(-1, 0, rotaryDims);                 // [B, S, H, R]
            int half = rotaryDims / 2;
            Tensor x1 = turned.narrow(-1, 0, half);                                              // [B, S, H, R/2]
            Tensor x2 = turned.narrow(-1, half, half);                                           // [B, S, H, R/2]
            Tensor rotated = torch.cat(new TensorVector(x2.neg(), x1), -1);                    // [B, S, H, R]
            Tensor out = turned.mul(cos).add(rotated.mul(sin));
            return d == rotaryDims ? out : torch.cat(new TensorVector(out, x.narrow(-1, rotaryDims, d - rotaryDims)), -1);
        }
    }
}
