package dev.scalpel.engine.infer;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Picks a token from one row of logits: argmax, or temperature + top-p sampling from a seeded generator. */
final class TokenSampler {
    private final SamplingOptions options;
    private final SplittableRandom random;

    TokenSampler(SamplingOptions options) {
        this.options = options;
        this.random = new SplittableRandom(options.seed());
    }

    /** @param logits [V] for the position being predicted */
    int pick(float[] logits) {
        if (options.isGreedy()) {
            return argmax(logits);
        }
        int v = logits.length;
        double max = logits[argmax(logits)];
        double[] probs = new double[v];
        double sum = 0;
        for (int i = 0; i < v; i++) {
            probs[i] = Math.exp((logits[i] - max) / options.temperature());
            sum += probs[i];
        }
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
        // Keep the smallest prefix (by probability) whose mass reaches top-p.
        double kept = 0;
        int n = 0;
        while (n < v && (n == 0 || kept < options.topP() * sum)) {
            kept += probs[order[n++]];
        }
        double r = random.nextDouble() * kept;
        for (int i = 0; i < n; i++) {
            r -= probs[order[i]];
            if (r < 0) {
                return order[i];
            }
        }
        return order[n - 1];
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }
}
