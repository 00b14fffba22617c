package dev.scalpel.engine.model;

/**
 * How one family's decoder block differs from Llama's, each knob named after what transformers does.
 * Llama: {@code x + attn(norm(x))}, then {@code x + mlp(norm(x))}, SiLU, separate projections, no q/k norm.
 *
 * @param norms              where the RMSNorms sit around attention and the MLP
 * @param qkNorm             where the queries and keys are RMS-normalised before RoPE
 * @param normPlusOne        Gemma: RMSNorm scales by {@code 1 + w} (weights stored as offsets from 1)
 * @param activation         the MLP's gate activation
 * @param scaleEmbeddings    Gemma: token embeddings are multiplied by √hidden_size
 * @param queryPreAttnScalar Gemma: attention scores are scaled by 1/√this instead of 1/√head_dim; null = head_dim
 * @param attnSoftcap        Gemma 2: scores become {@code c·tanh(scores / c)} before the mask; null = none
 * @param finalSoftcap       Gemma 2: logits become {@code c·tanh(logits / c)}; null = none
 * @param fusedProjections   Phi-3: one {@code qkv_proj} (rows q | k | v) and one {@code gate_up_proj} (rows gate | up)
 * @param rotaryFraction     Phi-3 {@code partial_rotary_factor}: RoPE turns only the first fraction of each head
 * @param localRopeTheta     Gemma 3: the RoPE base of sliding-window layers (default RoPE); null = as full layers
 * @param moe                Qwen3-MoE, Qwen3-Next: the sparse MLP's shape; null for a dense MLP in every layer
 * @param outputGate         Qwen3.5, Qwen3-Next: q_proj also yields a per-head gate; attention output × sigmoid(gate)
 *                           before o_proj
 * @param deltaNet           Qwen3.5, Qwen3-Next: the shape of its Gated DeltaNet (linear_attention) layers; null when it
 *                           has none
 */
public record DecoderStyle(
        NormPlacement norms,
        QkNorm qkNorm,
        boolean normPlusOne,
        Activation activation,
        boolean scaleEmbeddings,
        Double queryPreAttnScalar,
        Double attnSoftcap,
        Double finalSoftcap,
        boolean fusedProjections,
        double rotaryFraction,
        Double localRopeTheta,
        MixtureOfExperts moe,
        boolean outputGate,
        DeltaNetShape deltaNet) {

    public static final DecoderStyle LLAMA = new DecoderStyle(NormPlacement.PRE, QkNorm.NONE, false, Activation.SILU, false,
            null, null, null, false, 1.0, null, null, false, null);

    /** Where the RMSNorms of a block sit. */
    public enum NormPlacement {
        /** Llama: {@code x + f(norm(x))} ({@code input_layernorm}, {@code post_attention_layernorm} before the MLP). */
        PRE,
        /** OLMo 2: {@code x + norm(f(x))} ({@code post_attention_layernorm}, {@code post_feedforward_layernorm}). */
        POST,
        /** Gemma: {@code x + postnorm(f(prenorm(x)))}, four norms per block. */
        SANDWICH
    }

    /** Where queries and keys are normalised. */
    public enum QkNorm {
        NONE,
        /** Qwen3, Gemma 3: RMSNorm over head_dim on each head's q and k (weights [D]). */
        PER_HEAD,
        /** OLMo 2: RMSNorm over all heads together, right after the projection (weights [H·D] and [Hkv·D]). */
        FULL_WIDTH
    }

    /** The MLP's gate activation: {@code down(act(gate(x)) · up(x))}. */
    public enum Activation {
        /** SiLU (hidden_act "silu"). */
        SILU,
        /** GELU, tanh approximation (Gemma's "gelu_pytorch_tanh"). */
        GELU_TANH
    }

    /**
     * A sparse MLP: a router picks {@code perToken} of {@code experts} experts per token by softmax, each an
     * {@code intermediateSize} SiLU-gated MLP; the chosen weights are renormalised to sum 1 when
     * {@code normalizeTopK}. Layer l is sparse unless listed in {@code denseLayers} or (l + 1) % sparseStep ≠ 0.
     * Qwen3-Next adds a shared expert of {@code sharedExpertSize} (0: none) that every token passes through, scaled by
     * sigmoid(shared_expert_gate(x)).
     */
    public record MixtureOfExperts(int experts, int perToken, int intermediateSize, boolean normalizeTopK, int sparseStep,
                                   java.util.Set<Integer> denseLayers, int sharedExpertSize) {
        public MixtureOfExperts {
            denseLayers = java.util.Set.copyOf(denseLayers);
        }

        public boolean isSparse(int layer) {
            return experts > 0 && !denseLayers.contains(layer) && (layer + 1) % sparseStep == 0;
        }
    }

    /**
     * A Gated DeltaNet layer's shape: {@code keyHeads} query/key heads of width {@code keyDim}, {@code valueHeads}
     * value heads of width {@code valueDim} (each key head serves valueHeads / keyHeads value heads), and a causal
     * depthwise convolution of {@code convKernel} taps over q|k|v. Qwen3.5 projects with separate {@code in_proj_qkv}
     * (rows q | k | v), {@code in_proj_z}, {@code in_proj_b}, {@code in_proj_a}; Qwen3-Next ({@code interleaved}) with
     * {@code in_proj_qkvz}, whose rows come in one group per key head (that head's q, k, then the v and z of its value
     * heads: {@link #qkvzGroupRows()} rows), and {@code in_proj_ba}, one group per key head of its value heads' b then a.
     */
    public record DeltaNetShape(int keyHeads, int valueHeads, int keyDim, int valueDim, int convKernel, boolean interleaved) {
        /** Value heads served by one key head. */
        public int valueHeadsPerKeyHead() {
            return valueHeads / keyHeads;
        }

        /** Qwen3-Next: rows of one key head's group in in_proj_qkvz (2·D_k + 2·(H_v/H_k)·D_v). */
        public long qkvzGroupRows() {
            return 2L * keyDim + 2L * valueHeadsPerKeyHead() * valueDim;
        }

        /** Width of q | k | v: the channels of the convolution. */
        public int convChannels() {
            return 2 * keyHeads * keyDim + valueHeads * valueDim;
        }
    }
}
