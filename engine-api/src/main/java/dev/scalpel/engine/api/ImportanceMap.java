package dev.scalpel.engine.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * One score per attention head of a model: how much the model's loss on some text depends on that
 * head. Bigger means more important. Produced by the importance methods (gate gradients, ablation),
 * compared, normalised and thresholded by {@code dev.scalpel.engine.importance.ImportanceMaps}.
 *
 * <p>The scores are a {@code [layers][heads of that layer]} array of finite numbers: rectangular for most models,
 * ragged for a hybrid whose Gated DeltaNet layers have another head count than its attention layers (see
 * {@link HeadGrid}); drawn as a layers × {@link #heads()} rectangle, the cells beyond a layer's own count are absent,
 * never zero. The record keeps
 * its own copy and {@link #scores()} hands out a fresh copy, so a map never changes after it is made;
 * {@code equals}, {@code hashCode} and {@code toString} look at the array's contents.
 *
 * @param modelHash SHA-256 (hex) of the model the scores were measured on, see {@code ModelHash}
 * @param dataHash  SHA-256 (hex) of the text they were measured on
 * @param domain    what the text is, e.g. {@code de}, {@code code}, or {@code de-en} for a contrast
 * @param method    how the scores were made, e.g. {@code gradient} or {@code ablation}
 * @param tokens    how many tokens the scores were measured over
 * @param scores    {@code scores[layer][head]}, row l of the length of layer l's head count
 */
public record ImportanceMap(String modelHash, String dataHash, String domain, String method, long tokens, double[][] scores) {

    /**
     * Validates and copies the scores.
     *
     * @throws IllegalArgumentException if there are no layers, a layer has no heads, a score is NaN or infinite, or
     *                                  {@code tokens} is negative
     */
    public ImportanceMap {
        Objects.requireNonNull(modelHash, "modelHash");
        Objects.requireNonNull(dataHash, "dataHash");
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(scores, "scores");
        if (tokens < 0) {
            throw new IllegalArgumentException("An importance map needs tokens >= 0, got " + tokens);
        }
        if (scores.length == 0) {
            throw new IllegalArgumentException("An importance map needs at least one layer of scores, got none");
        }
        double[][] copy = new double[scores.length][];
        for (int layer = 0; layer < scores.length; layer++) {
            if (scores[layer].length == 0) {
                throw new IllegalArgumentException("An importance map needs at least one head per layer, layer " + layer
                        + " has none");
            }
            for (int head = 0; head < scores[layer].length; head++) {
                if (!Double.isFinite(scores[layer][head])) {
                    throw new IllegalArgumentException("The importance score of " + new HeadId(layer, head) + " is "
                            + scores[layer][head] + "; scores must be finite numbers");
                }
            }
            copy[layer] = scores[layer].clone();
        }
        scores = copy;
    }

    /** A copy of the scores, {@code [layers][heads of that layer]}. */
    @Override
    public double[][] scores() {
        double[][] copy = new double[scores.length][];
        for (int layer = 0; layer < scores.length; layer++) {
            copy[layer] = scores[layer].clone();
        }
        return copy;
    }

    /** Number of layers (rows). */
    public int layers() {
        return scores.length;
    }

    /** The most heads of any layer: the number of columns of the layers × heads rectangle. */
    public int heads() {
        return java.util.Arrays.stream(scores).mapToInt(row -> row.length).max().orElseThrow();
    }

    /** The heads each layer has: the map's row lengths. */
    public HeadGrid grid() {
        return new HeadGrid(java.util.Arrays.stream(scores).map(row -> row.length).toList());
    }

    /** Whether the map has a score for {@code head} (false for the absent cells of a ragged map). */
    public boolean has(HeadId head) {
        return head.layer() < layers() && head.head() < scores[head.layer()].length;
    }

    /**
     * The score of one head.
     *
     * @throws IllegalArgumentException if the head is outside the map
     */
    public double score(HeadId head) {
        if (!has(head)) {
            throw new IllegalArgumentException(head + " is outside this importance map of " + layers() + " layers x "
                    + (head.layer() < layers() && grid().isRagged() ? scores[head.layer()].length + " heads in layer "
                    + head.layer() : heads() + " heads"));
        }
        return scores[head.layer()][head.head()];
    }

    /** The same model, data and token count with other scores, method and domain (e.g. after normalising). */
    public ImportanceMap withScores(double[][] newScores, String newMethod, String newDomain) {
        return new ImportanceMap(modelHash, dataHash, newDomain, newMethod, tokens, newScores);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImportanceMap m
                && modelHash.equals(m.modelHash) && dataHash.equals(m.dataHash) && domain.equals(m.domain)
                && method.equals(m.method) && tokens == m.tokens && Arrays.deepEquals(scores, m.scores);
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelHash, dataHash, domain, method, tokens, Arrays.deepHashCode(scores));
    }

    @Override
    public String toString() {
        return "ImportanceMap[modelHash=" + modelHash + ", dataHash=" + dataHash + ", domain=" + domain + ", method=" + method
                + ", tokens=" + tokens + ", scores=" + Arrays.deepToString(scores) + "]";
    }
}
