package dev.scalpel.engine.infer;

import dev.scalpel.engine.api.ScalpelException;

/**
 * How to pick each next token.
 *
 * @param maxNewTokens stop after this many generated tokens
 * @param temperature  0 = greedy (argmax); otherwise logits are divided by it before sampling
 * @param topP         nucleus sampling: sample among the most likely tokens whose probabilities sum to ≥ topP (1 = all)
 * @param seed         the same seed, prompt and model give the same tokens
 * @param stopAtEos    stop when the model emits one of its eos ids (the eos id is returned as the last token)
 */
public record SamplingOptions(int maxNewTokens, double temperature, double topP, long seed, boolean stopAtEos) {

    public SamplingOptions {
        if (maxNewTokens < 0) {
            throw new ScalpelException("--max-new-tokens must be ≥ 0, got " + maxNewTokens + ".");
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new ScalpelException("--temperature must be a finite number ≥ 0 (0 = greedy), got " + temperature + ".");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new ScalpelException("--top-p must be in (0, 1], got " + topP + ".");
        }
    }

    public static SamplingOptions greedy(int maxNewTokens) {
        return new SamplingOptions(maxNewTokens, 0, 1, 0, true);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }
}
