package dev.scalpel.engine.importance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ProgressListener;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.infer.Generator;
import dev.scalpel.engine.infer.SamplingOptions;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.HeadGates;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.testing.Fixtures;
import java.util.Arrays;
import java.util.stream.LongStream;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A model where one head is made to carry the attention's contribution (its value rows scaled up, every other head's
 * o_proj columns scaled down), scored on text the model itself samples, so that any change to its output
 * distribution raises the loss (E_p[−log q] = H(p) + KL(p‖q)).
 */
class HeadImportanceTest {
    private static final HeadId STAR = new HeadId(1, 2);
    private static final int BOS = 0;
    private static final int SAMPLES = 16;
    private static final int SAMPLE_TOKENS = 63;   // + BOS = one window of 64: scored exactly as it was sampled
    private static CausalLM model;
    private static long[][] samples;
    private static long[] text;

    @BeforeAll
    static void buildModelAndText() {
        model = ModelLoader.load(Fixtures.model("llama3-tied"), ComputeDevice.CPU);   // 3 layers × 4 heads, no GQA, head_dim 32
        int d = 32;
        try (NoGradGuard g = new NoGradGuard()) {
            model.weights().get("model.layers.1.self_attn.v_proj.weight").narrow(0, (long) STAR.head() * d, d).mul_(new Scalar(4.0));
            for (int l = 0; l < 3; l++) {
                for (int h = 0; h < 4; h++) {
                    if (!STAR.equals(new HeadId(l, h))) {
                        model.weights().get("model.layers." + l + ".self_attn.o_proj.weight").narrow(1, (long) h * d, d)
                                .mul_(new Scalar(0.2));
                    }
                }
            }
        }
        samples = new long[SAMPLES][];
        for (int i = 0; i < samples.length; i++) {
            samples[i] = new Generator(model).generate(new long[] {BOS}, new SamplingOptions(SAMPLE_TOKENS, 1.0, 1.0, i, false), null);
        }
        text = Arrays.stream(samples).flatMapToLong(LongStream::of).toArray();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static ImportanceMap map(HeadImportance.Method method) {
        return new HeadImportance(model, new HeadImportance.Options(64, 4))
                .compute(method, "own-samples", text, BOS, "model", "data", ProgressListener.NONE);
    }

    /** The mean of the maps of each sample scored on its own (so each is scored under the distribution it came from). */
    private static ImportanceMap mapOfSamples(HeadImportance.Method method) {
        var importance = new HeadImportance(model, new HeadImportance.Options(SAMPLE_TOKENS + 1, 1));
        double[][] mean = new double[3][4];
        for (long[] sample : samples) {
            double[][] one = importance.compute(method, "sample", sample, BOS, "model", "data", ProgressListener.NONE).scores();
            for (int l = 0; l < 3; l++) {
                for (int h = 0; h < 4; h++) {
                    mean[l][h] += one[l][h] / SAMPLES;
                }
            }
        }
        return new ImportanceMap("model", "data", "own-samples", method.cliName(), (long) SAMPLES * SAMPLE_TOKENS, mean);
    }

    @Test
    void everyImportanceMethodRanksTheDominantHeadFirst() {
        for (HeadImportance.Method method : new HeadImportance.Method[] {HeadImportance.Method.GRADIENT,
                HeadImportance.Method.ABLATION_ZERO, HeadImportance.Method.ABLATION_MEAN, HeadImportance.Method.ACTIVATION_NORM}) {
            ImportanceMap m = mapOfSamples(method);
            assertEquals(STAR, ImportanceMaps.topK(m, 1).heads().first(), method + " ranks another head first:\n" + TextHeatmap.render(m));
        }
    }

    @Test
    void replicatedAblationEqualsEvaluatingWithThatHeadGatedOff() {
        ImportanceMap zero = map(HeadImportance.Method.ABLATION_ZERO);
        var evaluator = new CrossEntropyEvaluator(model, 64, 4);
        double base = evaluator.evaluate("t", text, BOS, null).ce();
        for (HeadId head : new HeadId[] {STAR, new HeadId(0, 1), new HeadId(2, 3)}) {
            try (HeadGates gates = HeadGates.ones(model.config(), ComputeDevice.CPU).set(head, 0)) {
                double ablated = evaluator.evaluate("t", text, BOS, gates).ce();
                assertEquals(ablated - base, zero.score(head), 1e-4, "ΔCE of " + head);
            }
        }
        assertEquals(text.length, zero.tokens(), "every token after BOS is predicted once");
    }

    @Test
    void attentionEntropyIsBetweenZeroAndTheLogOfTheContext() {
        ImportanceMap entropy = map(HeadImportance.Method.ATTENTION_ENTROPY);
        for (double[] row : entropy.scores()) {
            for (double e : row) {
                assertTrue(e > 0 && e < Math.log(64), "entropy " + e);
            }
        }
    }

    @Test
    void attentionEntropyIsRefusedWhereLayersHaveNoSoftmaxPatternAndTheOtherMethodsCoverThem() {
        try (CausalLM hybrid = ModelLoader.load(Fixtures.model("qwen3_5-hybrid"), ComputeDevice.CPU)) {
            var importance = new HeadImportance(hybrid, new HeadImportance.Options(32, 2));
            long[] tokens = LongStream.range(3, 67).toArray();
            var e = org.junit.jupiter.api.Assertions.assertThrows(dev.scalpel.engine.api.ScalpelException.class,
                    () -> importance.compute(HeadImportance.Method.ATTENTION_ENTROPY, "t", tokens, 0, "m", "d", ProgressListener.NONE));
            assertTrue(e.getMessage().contains("Gated DeltaNet"), e.getMessage());
            ImportanceMap gradient = importance.compute(HeadImportance.Method.GRADIENT, "t", tokens, 0, "m", "d", ProgressListener.NONE);
            assertTrue(Arrays.stream(gradient.scores()[0]).allMatch(v -> v != 0), "the Gated DeltaNet heads of L0 get scores");
        }
    }
}
