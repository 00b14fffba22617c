package dev.scalpel.engine.importance;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.scalpel.engine.api.ScalpelException;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * How importance scores are rescaled before maps are compared, contrasted or thresholded. Raw scores
 * of different methods, texts or layers live on different scales; a normalised map does not.
 */
public enum Normalization {
    /** The scores as measured. */
    RAW("raw") {
        @Override
        double[][] apply(double[][] scores) {
            return scores;
        }
    },
    /**
     * Per layer, {@code (x − mean) / std} over that layer's heads (population std, dividing by the head
     * count). A layer whose heads all score the same becomes all zeros.
     */
    LAYER_ZSCORE("layer-z") {
        @Override
        double[][] apply(double[][] scores) {
            double[][] out = new double[scores.length][];
            for (int layer = 0; layer < scores.length; layer++) {
                double[] row = scores[layer];
                double mean = Arrays.stream(row).average().orElseThrow();
                double variance = Arrays.stream(row).map(x -> (x - mean) * (x - mean)).sum() / row.length;
                double std = Math.sqrt(variance);
                out[layer] = Arrays.stream(row).map(x -> std == 0 ? 0 : (x - mean) / std).toArray();
            }
            return out;
        }
    },
    /**
     * The rank of each head among all heads of the map (a ragged map's absent cells are no heads), scaled to
     * [0, 1]: 1 is the highest score, 0 the lowest, tied heads share their mean rank. A map with a single head gets 1.
     */
    GLOBAL_RANK("rank") {
        @Override
        double[][] apply(double[][] scores) {
            double[] ranks = Ranks.of(Arrays.stream(scores).flatMapToDouble(Arrays::stream).toArray());
            int n = ranks.length;
            double[][] out = new double[scores.length][];
            for (int layer = 0, i = 0; layer < scores.length; layer++) {
                out[layer] = new double[scores[layer].length];
                for (int head = 0; head < out[layer].length; head++, i++) {
                    out[layer][head] = n == 1 ? 1 : (ranks[i] - 1) / (n - 1);
                }
            }
            return out;
        }
    };

    private final String cliName;

    Normalization(String cliName) {
        this.cliName = cliName;
    }

    /** The name used on the command line and in method names: {@code raw}, {@code layer-z} or {@code rank}. */
    @JsonValue
    public String cliName() {
        return cliName;
    }

    /**
     * The normalisation with this command-line name.
     *
     * @throws ScalpelException if there is none; the message lists the choices
     */
    @JsonCreator
    public static Normalization parse(String name) {
        for (Normalization n : values()) {
            if (n.cliName.equals(name)) {
                return n;
            }
        }
        throw new ScalpelException("Unknown normalisation '" + name + "'; use one of "
                + Arrays.stream(values()).map(Normalization::cliName).collect(Collectors.joining(", ")) + ".");
    }

    /**
     * The normalised scores of a {@code [layers][heads of that layer]} array (rectangular, or ragged for a hybrid);
     * RAW returns its argument.
     */
    abstract double[][] apply(double[][] scores);
}
