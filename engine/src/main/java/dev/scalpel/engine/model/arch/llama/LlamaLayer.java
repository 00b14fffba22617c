package dev.scalpel.engine.model.arch.llama;

import org.bytedeco.pytorch.Tensor;

/**
 * Weights of one decoder block of the Llama family, in Hugging Face's [out, in] layout.
 * d = hidden size, H·D = query width, Hkv·D = key/value width, I = intermediate size.
 *
 * @param inputNorm RMSNorm weight before attention [d]
 * @param q         [H·D, d];  qBias [H·D] or null (Qwen2)
 * @param k         [Hkv·D, d]; kBias [Hkv·D] or null
 * @param v         [Hkv·D, d]; vBias [Hkv·D] or null
 * @param o         [d, H·D];  oBias [d] or null (attention_bias)
 * @param qNorm     per-head RMSNorm weight on q [D] or null (Qwen3); kNorm likewise on k
 * @param postNorm  RMSNorm weight before the MLP [d]
 * @param gate      [I, d]; up [I, d]; down [d, I]; their biases [I], [I], [d] or null (mlp_bias)
 */
public record LlamaLayer(Tensor inputNorm, Tensor q, Tensor qBias, Tensor k, Tensor kBias, Tensor v, Tensor vBias,
                         Tensor o, Tensor oBias, Tensor qNorm, Tensor kNorm, Tensor postNorm, Tensor gate, Tensor gateBias,
                         Tensor up, Tensor upBias, Tensor down, Tensor downBias) {

    /** The Hugging Face names of layer l's linear weights, as overlays see them. */
    public record Names(String q, String k, String v, String o, String gate, String up, String down) {
        public static Names of(int l) {
            String p = "model.layers." + l + ".";
            return new Names(p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight",
                    p + "self_attn.o_proj.weight", p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight", p + "mlp.down_proj.weight");
        }
    }
}
