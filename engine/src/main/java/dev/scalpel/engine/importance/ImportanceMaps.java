package dev.scalpel.engine.importance;

import dev.scalpel.engine.api.HeadGrid;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.ModelHash;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * What is done with importance maps once measured: normalise them, contrast two domains, pick the
 * strongest or weakest heads, and check how well two maps agree.
 *
 * <p>Head selections are deterministic: heads with equal scores are taken in {@link HeadId} order
 * (lower layer first, then lower head).
 */
public final class ImportanceMaps {
    private ImportanceMaps() {}

    /**
     * The map with normalised scores; its method gets the normalisation appended, e.g.
     * {@code gradient/layer-z}. {@link Normalization#RAW} returns the map itself.
     */
    public static ImportanceMap normalize(ImportanceMap map, Normalization normalization) {
        if (normalization == Normalization.RAW) {
            return map;
        }
        return map.withScores(normalization.apply(map.scores()), map.method() + "/" + normalization.cliName(), map.domain());
    }

    /**
     * Which heads matter more for {@code a}'s text than for {@code b}'s: {@code normalize(a) − normalize(b)}
     * head by head. The result's domain is {@code "<a>-<b>"} (e.g. {@code de-en}), its method
     * {@code contrast(<method>)} with the normalised method of {@code a} (or {@code contrast(<ma>,<mb>)}
     * when the two methods differ), its data hash the SHA-256 of both data hashes, and its token count
     * the sum of both.
     *
     * @throws ScalpelException if the maps are of different models or have different shapes
     */
    public static ImportanceMap contrast(ImportanceMap a, ImportanceMap b, Normalization normalization) {
        if (!a.modelHash().equals(b.modelHash())) {
            throw new ScalpelException("Cannot contrast the importance maps of '" + a.domain() + "' and '" + b.domain()
                    + "': the maps are of different models (" + ModelHash.shortHash(a.modelHash()) + " vs "
                    + ModelHash.shortHash(b.modelHash()) + "). Measure both on the same model.");
        }
        requireSameShape(a, b, "contrast");
        ImportanceMap na = normalize(a, normalization);
        ImportanceMap nb = normalize(b, normalization);
        double[][] x = na.scores();
        double[][] y = nb.scores();
        for (int layer = 0; layer < x.length; layer++) {
            for (int head = 0; head < x[layer].length; head++) {
                x[layer][head] -= y[layer][head];
            }
        }
        String method = na.method().equals(nb.method())
                ? "contrast(" + na.method() + ")"
                : "contrast(" + na.method() + "," + nb.method() + ")";
        return new ImportanceMap(a.modelHash(), ModelHash.ofText(a.dataHash() + "\n" + b.dataHash()),
                a.domain() + "-" + b.domain(), method, a.tokens() + b.tokens(), x);
    }

    /**
     * The {@code k} heads with the highest scores.
     *
     * @throws ScalpelException if {@code k} is negative or more than the map's heads
     */
    public static HeadSet topK(ImportanceMap map, int k) {
        return firstK(map, k, "strongest", Comparator.<HeadId>comparingDouble(map::score).reversed());
    }

    /**
     * The {@code k} heads with the lowest scores (candidates to prune or to leave alone).
     *
     * @throws ScalpelException if {@code k} is negative or more than the map's heads
     */
    public static HeadSet weakestK(ImportanceMap map, int k) {
        return firstK(map, k, "weakest", Comparator.<HeadId>comparingDouble(map::score));
    }

    /**
     * The heads scoring strictly above {@code t}, e.g. {@code threshold(normalize(map, GLOBAL_RANK), 0.8)}
     * for the top fifth.
     *
     * @throws IllegalArgumentException if {@code t} is NaN
     */
    public static HeadSet threshold(ImportanceMap map, double t) {
        if (Double.isNaN(t)) {
            throw new IllegalArgumentException("The importance threshold is NaN; give a number");
        }
        return HeadSet.of(allHeads(map).stream().filter(h -> map.score(h) > t).toList());
    }

    /**
     * Spearman's rank correlation between two maps over all heads: the Pearson correlation of the
     * heads' ranks in {@code a} and in {@code b}, tied scores sharing their mean rank. +1: the maps order
     * the heads identically; −1: in reverse. Used to check that, say, a gradient map and an ablation map
     * agree on which heads matter.
     *
     * @throws ScalpelException if the shapes differ, or a map has all scores equal (its ranks do not vary,
     *                          so no correlation is defined)
     */
    public static double spearman(ImportanceMap a, ImportanceMap b) {
        requireSameShape(a, b, "correlate");
        double[] ra = Ranks.of(flatten(a));
        double[] rb = Ranks.of(flatten(b));
        double meanA = Arrays.stream(ra).average().orElseThrow();
        double meanB = Arrays.stream(rb).average().orElseThrow();
        double cov = 0;
        double varA = 0;
        double varB = 0;
        for (int i = 0; i < ra.length; i++) {
            cov += (ra[i] - meanA) * (rb[i] - meanB);
            varA += (ra[i] - meanA) * (ra[i] - meanA);
            varB += (rb[i] - meanB) * (rb[i] - meanB);
        }
        if (varA == 0 || varB == 0) {
            ImportanceMap flat = varA == 0 ? a : b;
            throw new ScalpelException("Cannot rank-correlate the importance maps: every head of the '" + flat.domain() + "' "
                    + flat.method() + " map has the same score, so it does not rank the heads.");
        }
        return cov / Math.sqrt(varA * varB);
    }

    private static HeadSet firstK(ImportanceMap map, int k, String which, Comparator<HeadId> byScore) {
        List<HeadId> heads = allHeads(map);
        int total = heads.size();
        if (k < 0 || k > total) {
            throw new ScalpelException("Cannot take the " + k + " " + which + " heads of a map with " + total + " heads ("
                    + shape(map) + "); choose k between 0 and " + total + ".");
        }
        heads.sort(byScore.thenComparing(Comparator.naturalOrder()));
        return HeadSet.of(heads.subList(0, k));
    }

    /** Every head of the map (none of a ragged map's absent cells), in HeadId order; modifiable. */
    private static List<HeadId> allHeads(ImportanceMap map) {
        return new ArrayList<>(map.grid().all());
    }

    /** "4 layers x 8 heads", or for a ragged map "4 layers x 4 to 8 heads (4, 8, 8, 8)". */
    private static String shape(ImportanceMap map) {
        HeadGrid grid = map.grid();
        if (!grid.isRagged()) {
            return grid.layers() + " layers x " + grid.width() + " heads";
        }
        int fewest = grid.headsPerLayer().stream().mapToInt(Integer::intValue).min().orElseThrow();
        return grid.layers() + " layers x " + fewest + " to " + grid.width() + " heads " + grid.headsPerLayer();
    }

    private static double[] flatten(ImportanceMap map) {
        return Arrays.stream(map.scores()).flatMapToDouble(Arrays::stream).toArray();
    }

    private static void requireSameShape(ImportanceMap a, ImportanceMap b, String verb) {
        if (!a.grid().equals(b.grid())) {
            throw new ScalpelException("Cannot " + verb + " the importance maps of '" + a.domain() + "' and '" + b.domain()
                    + "': they have different shapes (" + shape(a) + " vs " + shape(b)
                    + "). Both must be measured on models of the same shape.");
        }
    }
}
