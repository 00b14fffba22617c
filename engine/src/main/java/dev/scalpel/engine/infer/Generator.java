package dev.scalpel.engine.infer;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ForwardContext;
import dev.scalpel.engine.model.HeadGates;
import dev.scalpel.engine.model.Hooks;
import dev.scalpel.engine.model.KvCache;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.Tensors;
import java.util.Arrays;
import java.util.function.LongConsumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Autoregressive generation with a KV cache: the prompt is run once (prefill), then one token per step, each step
 * reading the cached keys/values instead of recomputing them.
 */
public final class Generator {
    private final CausalLM model;
    private final HeadGates gates;
    private final Hooks hooks;
    private final LinearOverlay overlay;

    public Generator(CausalLM model) {
        this(model, null, null, null);
    }

    /** Generation through gated heads, hooks (e.g. a steering hook) and/or edits (an overlay); nulls for none. */
    public Generator(CausalLM model, HeadGates gates, Hooks hooks, LinearOverlay overlay) {
        this.model = model;
        this.gates = gates;
        this.hooks = hooks;
        this.overlay = overlay;
    }

    /**
     * @param prompt   prompt ids (BOS included where the model uses one), at least one
     * @param onToken  called with each new id as soon as it is chosen (for streaming); may be null
     * @return only the generated ids (the eos id included if generation stopped on it)
     */
    public long[] generate(long[] prompt, SamplingOptions options, LongConsumer onToken) {
        if (prompt.length == 0) {
            throw new ScalpelException("The prompt is empty and the model has no BOS token to start from; give a prompt.");
        }
        TokenSampler sampler = new TokenSampler(options);
        long[] out = new long[options.maxNewTokens()];
        int produced = 0;
        try (NoGradGuard noGrad = new NoGradGuard();
             KvCache cache = model.newCache(1, prompt.length + options.maxNewTokens())) {
            long[] next = prompt;
            while (produced < options.maxNewTokens()) {
                long id;
                try (PointerScope step = new PointerScope()) {
                    Tensor logits = model.forward(Tensors.ids(next, model.device()),
                            new ForwardContext(gates, hooks, cache, true, overlay));                    // [1, 1, V]
                    id = sampler.pick(Tensors.toFloats(logits));
                }
                out[produced++] = id;
                if (onToken != null) {
                    onToken.accept(id);
                }
                if (options.stopAtEos() && model.config().isEos(id)) {
                    break;
                }
                next = new long[] {id};
            }
        }
        return Arrays.copyOf(out, produced);
    }
}
