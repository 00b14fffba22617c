package dev.scalpel.engine.model;

import org.bytedeco.pytorch.Tensor;

/**
 * A loaded causal language model: weights on a device and a forward pass with head gates, hooks and a KV cache.
 * Implementations are one per architecture family ({@code arch.llama}, {@code arch.gpt2}).
 */
public interface CausalLM extends AutoCloseable {

    ModelConfig config();

    ComputeDevice device();

    /** Every weight by its Hugging Face name (float32, on {@link #device()}). */
    Weights weights();

    /**
     * The weights as a Hugging Face checkpoint stores them (names and layout), for writing. Views where the layout
     * is the same; architectures that store weights differently in memory override this.
     */
    default java.util.Map<String, Tensor> hfLayoutWeights() {
        java.util.Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        weights().asMap().forEach((name, t) -> out.put(name, toHfLayout(name, t)));
        return out;
    }

    /** A weight (or a delta of it) in the layout the HF checkpoint stores it; the same tensor unless overridden. */
    default Tensor toHfLayout(String name, Tensor inMemoryLayout) {
        return inMemoryLayout;
    }

    /**
     * Runs the model.
     *
     * @param inputIds token ids [B, S] (int64), continuing at position {@code ctx.startPosition()}
     * @return logits [B, S, V], or [B, 1, V] with {@code ctx.lastPositionOnly()}
     */
    Tensor forward(Tensor inputIds, ForwardContext ctx);

    /**
     * Runs blocks {@code layer} … L−1 on a residual stream, as if the earlier blocks had produced it: what ablation
     * and patching use to skip recomputing the layers an intervention cannot change.
     *
     * @param residual the stream entering block {@code layer}, [B, S, d] (as captured at blocks.{layer}.hook_resid_pre)
     * @return logits [B, S, V], or [B, 1, V] with {@code ctx.lastPositionOnly()}
     */
    Tensor forwardFromLayer(int layer, Tensor residual, ForwardContext ctx);

    /** A KV cache for {@code batch} sequences of up to {@code capacity} positions. */
    default KvCache newCache(int batch, int capacity) {
        return new KvCache(config(), batch, capacity, device());
    }

    @Override
    void close();
}
