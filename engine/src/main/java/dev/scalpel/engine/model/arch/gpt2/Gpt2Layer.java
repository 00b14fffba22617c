package dev.scalpel.engine.model.arch.gpt2;

import org.bytedeco.pytorch.Tensor;

/**
 * Weights of one GPT-2 block, turned at load time from HF's Conv1D [in, out] layout into [out, in] so attention
 * reads the same per-head rows as in the Llama family. d = hidden size, I = inner size.
 *
 * @param q [d, d], k [d, d], v [d, d]: row views of the transposed {@code c_attn} (no copies); biases [d] likewise
 * @param o [d, d] transposed {@code c_proj}; fc [I, d]; proj [d, I]
 */
public record Gpt2Layer(Tensor ln1Weight, Tensor ln1Bias, Tensor q, Tensor qBias, Tensor k, Tensor kBias, Tensor v,
                        Tensor vBias, Tensor o, Tensor oBias, Tensor ln2Weight, Tensor ln2Bias, Tensor fc, Tensor fcBias,
                        Tensor proj, Tensor projBias) {}
