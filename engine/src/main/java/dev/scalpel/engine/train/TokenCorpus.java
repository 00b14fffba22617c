package dev.scalpel.engine.train;

import dev.scalpel.engine.api.ScalpelException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Tokenised training text per source (a language, a domain) and the rule that mixes them into batches.
 * Each row of a batch is BOS followed by a random window of one source, the source drawn with the mix weights.
 * The batch of step s depends only on (seed, s), so a resumed run sees exactly the batches it would have seen.
 */
public final class TokenCorpus {
    private final Map<String, int[]> tokensBySource;
    private final Map<String, Double> mix;
    private final List<String> names;
    private final double[] cumulative;
    private final int bos;

    /**
     * @param tokensBySource source name → its token ids (no BOS)
     * @param mix            source name → relative weight (need not sum to 1)
     * @param bos            id put first in every row
     */
    public TokenCorpus(Map<String, int[]> tokensBySource, Map<String, Double> mix, int bos) {
        this.tokensBySource = new LinkedHashMap<>(tokensBySource);
        this.mix = new LinkedHashMap<>(mix);
        this.names = List.copyOf(mix.keySet());
        this.bos = bos;
        this.cumulative = new double[names.size()];
        double total = 0;
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            if (!tokensBySource.containsKey(n)) {
                throw new ScalpelException("The data mix names '" + n + "' but no text was given for it.");
            }
            total += mix.get(n);
            cumulative[i] = total;
        }
        if (!(total > 0)) {
            throw new ScalpelException("The data mix weights must add up to more than 0.");
        }
        for (int i = 0; i < cumulative.length; i++) {
            cumulative[i] /= total;
        }
    }

    public Map<String, Double> mix() {
        return mix;
    }

    public long tokens(String source) {
        return tokensBySource.get(source).length;
    }

    /** One batch: rows of BOS + (length − 1) consecutive tokens, [batch][length]. */
    public long[][] batch(long seed, long step, int batch, int length) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step);
        long[][] rows = new long[batch][length];
        for (int b = 0; b < batch; b++) {
            int[] source = tokensBySource.get(pick(r.nextDouble()));
            if (source.length < length - 1) {
                throw new ScalpelException("A training text has " + source.length + " tokens, fewer than one window of "
                        + length + "; give more text or a shorter context.");
            }
            int offset = r.nextInt(source.length - (length - 1) + 1);
            rows[b][0] = bos;
            for (int i = 1; i < length; i++) {
                rows[b][i] = source[offset + i - 1];
            }
        }
        return rows;
    }

    private String pick(double u) {
        for (int i = 0; i < cumulative.length; i++) {
            if (u < cumulative[i]) {
                return names.get(i);
            }
        }
        return names.get(names.size() - 1);
    }
}
