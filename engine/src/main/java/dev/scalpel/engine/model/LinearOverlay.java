package dev.scalpel.engine.model;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * How the forward pass applies each named linear layer, and reads each named parameter vector it uses directly (a
 * Gated DeltaNet's A_log and dt_bias). The base model computes x·Wᵀ + b with its stored weight; edits (LoRA adapters,
 * head-slice deltas, scalar prefactors, decay deltas) supply an overlay that adds their contribution, so the stored
 * weights are never written while an edit is trained or tried.
 */
@FunctionalInterface
public interface LinearOverlay {
    /**
     * @param weightName the Hugging Face name of the weight, e.g. {@code model.layers.3.self_attn.v_proj.weight}
     * @param x          input [..., in]
     * @param weight     the stored weight [out, in] (HF layout; GPT-2's Conv1D weights already transposed)
     * @param bias       [out] or null
     * @return [..., out]
     */
    Tensor linear(String weightName, Tensor x, Tensor weight, Tensor bias);

    /** The parameter vector {@code name} as the forward pass should use it; by default the stored one. */
    default Tensor parameter(String name, Tensor stored) {
        return stored;
    }

    /** The unmodified model. */
    LinearOverlay NONE = LinearOverlay::plain;

    /** x·Wᵀ (+ b). */
    static Tensor plain(String weightName, Tensor x, Tensor weight, Tensor bias) {
        return bias == null ? torch.linear(x, weight) : torch.linear(x, weight, new TensorOptional(bias));
    }
}
