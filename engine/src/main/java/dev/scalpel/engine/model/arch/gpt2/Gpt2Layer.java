package dev.scalpel.engine.model.arch.gpt2;

import org.bytedeco.pytorch.Tensor;

/**
 * Weights of one GPT-2 block, turned at load time from HF's Conv1D [in, out] layout into [out, in] so attention
 * reads the same per-head rows as in the Llama family. d = hidden size, I = inner size.
 *
 * @param qkv [3d, d] the transposed {@code c_attn}: rows [0, d) make q, [d, 2d) k, [2d, 3d) v; qkvBias [3d]
 * @param o   [d, d] transposed {@code c_proj}; fc [I, d]; proj [d, I]
 */
public record Gpt2Layer(Tensor ln1Weight, Tensor ln1Bias, Tensor qkv, Tensor qkvBias, Tensor o, Tensor oBias,
                        Tensor ln2Weight, Tensor ln2Bias, Tensor fc, Tensor fcBias, Tensor proj, Tensor projBias) {

    /** The Hugging Face names of layer l's linear weights and LayerNorm modules ({@code ln1} + ".weight"/".bias"), as overlays see them. */
    public record Names(String qkv, String o, String fc, String proj, String ln1, String ln2) {
        public static Names of(String root, int l) {
            String p = root + "h." + l + ".";
            return new Names(p + "attn.c_attn.weight", p + "attn.c_proj.weight", p + "mlp.c_fc.weight", p + "mlp.c_proj.weight",
                    p + "ln_1", p + "ln_2");
        }
    }
}
