package dev.scalpel.engine.model;

/**
 * Which linear layers of a block carry a bias.
 *
 * @param qkv    the query, key and value projections (Qwen2 always; Llama/Qwen3 with {@code attention_bias})
 * @param output the attention output projection o_proj (Llama/Qwen3 {@code attention_bias}; never Qwen2)
 * @param mlp    the MLP's gate, up and down projections (Llama {@code mlp_bias})
 */
public record LinearBiases(boolean qkv, boolean output, boolean mlp) {
    public static final LinearBiases NONE = new LinearBiases(false, false, false);
    /** GPT-2: every linear layer has a bias. */
    public static final LinearBiases ALL = new LinearBiases(true, true, true);
}
