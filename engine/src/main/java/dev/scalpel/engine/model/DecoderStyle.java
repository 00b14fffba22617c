package dev.scalpel.engine.model;

/**
 * How one family's decoder block differs from Llama's, each knob named after what transformers does.
 * Llama: {@code x + attn(norm(x))}, then {@code x + mlp(norm(x))}, no q/k norm.
 *
 * @param qkNorm where the queries and keys are RMS-normalised before RoPE
 */
public record DecoderStyle(QkNorm qkNorm) {
    public static final DecoderStyle LLAMA = new DecoderStyle(QkNorm.NONE);

    /** Where queries and keys are normalised. */
    public enum QkNorm {
        NONE,
        /** Qwen3: RMSNorm over head_dim on each head's q and k (weights [D]). */
        PER_HEAD
    }
}
