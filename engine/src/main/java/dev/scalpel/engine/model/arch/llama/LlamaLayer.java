package dev.scalpel.engine.model.arch.llama;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Weights of one decoder block of the Llama family, in Hugging Face's [out, in] layout.
 * d = hidden size, H·D = query width, Hkv·D = key/value width, I = intermediate size.
 *
 * @param preAttnNorm  RMSNorm before attention [d] ({@code input_layernorm}), or null (OLMo 2)
 * @param deltaNet     a Gated DeltaNet layer's token mixer (Qwen3.5 linear_attention), or null for softmax attention;
 *                     when set, attention, qNorm, kNorm and o are null
 * @param attention    the q/k/v projections, separate or fused (Qwen3.5: q rows per head are its query then its gate)
 * @param qNorm        q norm [D] (per head) or [H·D] (full width), or null; kNorm likewise [D] or [Hkv·D]
 * @param o            output projection [d, H·D]
 * @param postAttnNorm RMSNorm on the attention output [d] (OLMo 2, Gemma), or null
 * @param preMlpNorm   RMSNorm before the MLP [d] (Llama's {@code post_attention_layernorm}), or null (OLMo 2)
 * @param mlp          the dense MLP, or null when the block is sparse
 * @param moe          the sparse MLP (Qwen3-MoE, Qwen3-Next), or null when the block is dense
 * @param postMlpNorm  RMSNorm on the MLP output [d] (OLMo 2, Gemma), or null
 */
public record LlamaLayer(Parameter preAttnNorm, GatedDeltaNet deltaNet, Attention attention, Parameter qNorm, Parameter kNorm,
                         Linear o, Parameter postAttnNorm, Parameter preMlpNorm, Mlp mlp, Moe moe, Parameter postMlpNorm) {

    /** A parameter vector the forward pass reads directly, by its Hugging Face name (as overlays see it). */
    public record Parameter(String name, Tensor value) {}

    /** One linear layer: its Hugging Face weight name (as overlays see it), weight [out, in] and bias [out] or null. */
    public record Linear(String name, Tensor weight, Tensor bias) {}

    /**
     * The query/key/value projections: q [H·D, d], k and v [Hkv·D, d] each, or (Phi-3) one qkv [(H + 2·Hkv)·D, d]
     * whose rows are q | k | v; exactly one of the two shapes is set.
     */
    public record Attention(Linear q, Linear k, Linear v, Linear qkv) {}

    /** {@code down(act(gate(x)) · up(x))}: gate and up [I, d] each, or (Phi-3) one gateUp [2I, d] = gate | up; down [d, I]. */
    public record Mlp(Linear gate, Linear up, Linear gateUp, Linear down) {}

    /**
     * A router [E, d] ({@code mlp.gate}) choosing among experts, each a SiLU-gated MLP; Qwen3-Next adds a shared expert
     * ({@code mlp.shared_expert}) every token passes, scaled by sigmoid of {@code mlp.shared_expert_gate} [1, d]
     * (both null elsewhere).
     */
    public record Moe(Linear router, List<Mlp> experts, Mlp shared, Linear sharedGate) {}
}
