package dev.scalpel.engine.spec;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.importance.Normalization;
import java.util.Collection;

/**
 * How to score heads: the one description {@code scalpel importance} (its flags are these fields, {@code --no-cache}
 * for {@code cache = false}) and the workbench's Importance tab both build. Defaults are filled in and values checked
 * on construction. The texts themselves are not part of it: the CLI takes them from {@code --data}, the workbench
 * from its open texts.
 *
 * @param method            how a head is scored (default gradient)
 * @param agreeWith         a second method whose maps are compared with {@code method}'s by Spearman correlation, or null
 * @param contrast          "A-B": also the contrast map of text A minus text B, or null
 * @param normalize         how each text's map is shown and written: raw (default), layer-z or rank
 * @param contrastNormalize how the two maps of a contrast are normalised before B is subtracted from A (default
 *                          layer-z: two texts' raw gradients differ in scale with their loss, so raw maps are not
 *                          comparable)
 * @param maxTokens         tokens used of each text (default 8192)
 * @param context           window length in tokens, or null for min(256, the model's context)
 * @param batchSize         windows per forward pass (default 4)
 * @param out               where to write the map (the contrast map when there is one), or null
 * @param cache             read and write the map cache (default true)
 */
public record ImportanceSpec(@JsonProperty("method") HeadImportance.Method method,
                             @JsonProperty("agree_with") HeadImportance.Method agreeWith,
                             @JsonProperty("contrast") String contrast,
                             @JsonProperty("normalize") Normalization normalize,
                             @JsonProperty("contrast_normalize") Normalization contrastNormalize,
                             @JsonProperty("max_tokens") Integer maxTokens,
                             @JsonProperty("context") Integer context,
                             @JsonProperty("batch_size") Integer batchSize,
                             @JsonProperty("out") String out,
                             @JsonProperty("cache") Boolean cache) {
    /** Windows are at most this long unless {@code context} says otherwise. */
    public static final int DEFAULT_CONTEXT = 256;

    public ImportanceSpec {
        method = method != null ? method : HeadImportance.Method.GRADIENT;
        normalize = normalize != null ? normalize : Normalization.RAW;
        contrastNormalize = contrastNormalize != null ? contrastNormalize : Normalization.LAYER_ZSCORE;
        maxTokens = maxTokens != null ? maxTokens : 8192;
        batchSize = batchSize != null ? batchSize : 4;
        cache = cache == null || cache;
        if (contrast != null && contrast.isBlank()) {
            contrast = null;
        }
        if (out != null && out.isBlank()) {
            out = null;
        }
        if (agreeWith == method) {
            throw new ScalpelException("agree_with (--agree-with) is " + method.cliName()
                    + ", the method itself; choose another method to compare with, or none.");
        }
        if (contrast != null) {
            contrastPair(contrast);
        }
        positive(maxTokens, "max_tokens (--max-tokens)", "tokens of each text to use");
        positive(batchSize, "batch_size (--batch-size)", "windows per forward pass");
        if (context != null && context < 2) {
            throw new ScalpelException("context (--context) must be at least 2 tokens (BOS and one to predict); got " + context + ".");
        }
    }

    /** The defaults: gradient maps of every text, raw, nothing written. */
    public static ImportanceSpec defaults() {
        return new ImportanceSpec(null, null, null, null, null, null, null, null, null, null);
    }

    /** This spec with another method (the workbench's method box). */
    public ImportanceSpec withMethod(HeadImportance.Method m) {
        return new ImportanceSpec(m, agreeWith == m ? null : agreeWith, contrast, normalize, contrastNormalize, maxTokens,
                context, batchSize, out, cache);
    }

    /** This spec with another contrast, "A-B" or null (the workbench's domain box). */
    public ImportanceSpec withContrast(String c) {
        return new ImportanceSpec(method, agreeWith, c, normalize, contrastNormalize, maxTokens, context, batchSize, out, cache);
    }

    /** {A, B} of the contrast, or null without one. */
    public String[] contrastPair() {
        return contrast == null ? null : contrastPair(contrast);
    }

    /** Refuses a contrast naming a text that is not among {@code names}. */
    public void checkTexts(Collection<String> names) {
        String[] pair = contrastPair();
        if (pair == null) {
            return;
        }
        for (String name : pair) {
            if (!names.contains(name)) {
                throw new ScalpelException("The contrast " + contrast + " names '" + name + "', which is not among the texts "
                        + names + ".");
            }
        }
    }

    /** The window length for a model of {@code maxPositions} positions. */
    public int window(int maxPositions) {
        if (context == null) {
            return Math.min(DEFAULT_CONTEXT, maxPositions);
        }
        if (context > maxPositions) {
            throw new ScalpelException("context (--context) is " + context + " tokens, but this model has " + maxPositions
                    + " positions; use at most " + maxPositions + ".");
        }
        return context;
    }

    /** The windowing the scorer takes, for a model of {@code maxPositions} positions. */
    public HeadImportance.Options options(int maxPositions) {
        return new HeadImportance.Options(window(maxPositions), batchSize);
    }

    /** What besides weights, text and method decides a map: the cache's key part. */
    public String cacheKey(int maxPositions) {
        return "tokens=" + maxTokens + ",context=" + window(maxPositions);
    }

    private static String[] contrastPair(String contrast) {
        String[] pair = contrast.split("-", 2);
        if (pair.length != 2 || pair[0].isBlank() || pair[1].isBlank()) {
            throw new ScalpelException("A contrast is two text names joined by '-', e.g. de-en; got '" + contrast + "'.");
        }
        if (pair[0].equals(pair[1])) {
            throw new ScalpelException("The contrast " + contrast + " subtracts a text from itself; name two different texts.");
        }
        return pair;
    }

    private static void positive(int value, String field, String what) {
        if (value < 1) {
            throw new ScalpelException(field + " is " + value + "; it counts " + what + " and must be at least 1.");
        }
    }
}
