package dev.scalpel.engine.sample;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.LanguageLoss;
import dev.scalpel.engine.infer.Generator;
import dev.scalpel.engine.infer.SamplingOptions;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.HeadGates;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Measures the sample model for its card: validation CE per language next to ln V and a unigram baseline, greedy
 * continuations of a prompt per language, and the CE change on German and English when each head is ablated.
 */
public final class SampleModelCard {
    /** One prompt per source, for the greedy samples. */
    static final Map<String, String> PROMPTS = Map.of(
            "en", "The file system",
            "de", "Die Datei wird",
            "fr", "Le fichier est",
            "es", "El archivo se",
            "code", "public static int");
    static final int ABLATION_TOKENS = 4096;
    static final int GENERATED_TOKENS = 40;

    /** What the card reports. */
    public record Measurements(ModelConfig config, long parameters, Map<String, LanguageLoss> validation,
                               Map<String, Double> unigram, Map<String, String> samples,
                               double[][] ablationDe, double[][] ablationEn, double baseDe, double baseEn) {}

    private SampleModelCard() {}

    /**
     * @param dir     the model folder with eval/&lt;source&gt;.txt
     * @param corpora the corpora the model was trained on (for the unigram baseline from each train.txt)
     */
    public static Measurements measure(Path dir, Path corpora, Consumer<String> log) throws IOException {
        try (LoadedModel m = LoadedModel.open(dir, ComputeDevice.CPU)) {
            ModelConfig c = m.config();
            var evaluator = new CrossEntropyEvaluator(m.model(), c.maxPositions(), 8);
            Integer bos = m.tokenizer().bosForPrompts();
            Map<String, long[]> evalIds = new LinkedHashMap<>();
            Map<String, LanguageLoss> validation = new LinkedHashMap<>();
            Map<String, Double> unigram = new LinkedHashMap<>();
            Map<String, String> samples = new LinkedHashMap<>();
            for (String s : SampleModelRecipe.SOURCES) {
                long[] ids = m.tokenizer().encode(Files.readString(dir.resolve("eval").resolve(s + ".txt")));
                evalIds.put(s, ids);
                validation.put(s, evaluator.evaluate(s, ids, bos, null));
                long[] train = m.tokenizer().encode(Files.readString(corpora.resolve(s).resolve("train.txt")));
                unigram.put(s, unigramCrossEntropy(train, ids, c.vocabSize()));
                long[] out = new Generator(m.model()).generate(m.tokenizer().encodePrompt(PROMPTS.get(s)),
                        SamplingOptions.greedy(GENERATED_TOKENS), null);
                samples.put(s, PROMPTS.get(s) + m.tokenizer().decode(out));
                log.accept(String.format(Locale.ROOT, "  %s: CE %.3f (unigram %.3f)", s, validation.get(s).ce(), unigram.get(s)));
            }
            long[] de = Arrays.copyOf(evalIds.get("de"), ABLATION_TOKENS);
            long[] en = Arrays.copyOf(evalIds.get("en"), ABLATION_TOKENS);
            double baseDe = evaluator.evaluate("de", de, bos, null).ce();
            double baseEn = evaluator.evaluate("en", en, bos, null).ce();
            double[][] dDe = new double[c.numLayers()][c.numHeads()];
            double[][] dEn = new double[c.numLayers()][c.numHeads()];
            for (int l = 0; l < c.numLayers(); l++) {
                for (int h = 0; h < c.numHeads(); h++) {
                    try (HeadGates gates = HeadGates.ones(c, ComputeDevice.CPU).set(new HeadId(l, h), 0)) {
                        dDe[l][h] = evaluator.evaluate("de", de, bos, gates).ce() - baseDe;
                        dEn[l][h] = evaluator.evaluate("en", en, bos, gates).ce() - baseEn;
                    }
                }
                log.accept("  ablated the heads of layer " + l);
            }
            return new Measurements(c, m.model().weights().parameterCount(), validation, unigram, samples, dDe, dEn, baseDe, baseEn);
        }
    }

    /**
     * Cross-entropy of {@code eval} under the add-one-smoothed unigram distribution of {@code train}: the loss of a
     * model that knows the language's token frequencies and nothing else.
     */
    static double unigramCrossEntropy(long[] train, long[] eval, int vocab) {
        double[] counts = new double[vocab];
        Arrays.fill(counts, 1.0);
        for (long t : train) {
            counts[(int) t]++;
        }
        double total = train.length + (double) vocab;
        double nll = 0;
        for (long t : eval) {
            nll -= Math.log(counts[(int) t] / total);
        }
        return nll / eval.length;
    }
}
