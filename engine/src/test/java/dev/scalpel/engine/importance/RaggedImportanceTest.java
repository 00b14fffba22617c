package dev.scalpel.engine.importance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadGrid;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ProgressListener;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.HeadGates;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.testing.Fixtures;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Importance maps of a ragged hybrid (qwen3_5-ragged: layers 0-2 with 8 value heads of 8, layer 3 with 4 heads of 16). */
class RaggedImportanceTest {
    private static final HeadGrid GRID = new HeadGrid(List.of(8, 8, 8, 4));
    private static final long[] TEXT = LongStream.range(0, 96).map(i -> 3 + (i * 37) % 500).toArray();
    private static CausalLM model;

    @BeforeAll
    static void load() {
        model = ModelLoader.load(Fixtures.model("qwen3_5-ragged"), ComputeDevice.CPU);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static ImportanceMap map(HeadImportance.Method method) {
        return new HeadImportance(model, new HeadImportance.Options(32, 2)).compute(method, "t", TEXT, 0, "m", "d", ProgressListener.NONE);
    }

    @Test
    void everyMethodScoresEachLayersOwnHeads() {
        for (HeadImportance.Method method : List.of(HeadImportance.Method.GRADIENT, HeadImportance.Method.ABLATION_ZERO,
                HeadImportance.Method.ABLATION_MEAN, HeadImportance.Method.ACTIVATION_NORM)) {
            ImportanceMap m = map(method);
            assertEquals(GRID, m.grid(), method.cliName());
            assertTrue(Arrays.stream(m.scores()).flatMapToDouble(Arrays::stream).allMatch(v -> v != 0),
                    method.cliName() + " leaves a head unscored:\n" + TextHeatmap.render(m));
        }
    }

    /** Each layer's heads are ablated in replicas as wide as that layer: the ΔCE is that of evaluating with the gate off. */
    @Test
    void ablationOfAValueHeadAndOfAnAttentionHeadEqualsEvaluatingWithItsGateOff() {
        ImportanceMap zero = map(HeadImportance.Method.ABLATION_ZERO);
        var evaluator = new CrossEntropyEvaluator(model, 32, 2);
        double base = evaluator.evaluate("t", TEXT, 0, null).ce();
        for (HeadId head : List.of(new HeadId(1, 6), new HeadId(2, 7), new HeadId(3, 2))) {
            try (HeadGates gates = HeadGates.ones(model.config(), ComputeDevice.CPU).set(head, 0)) {
                assertEquals(evaluator.evaluate("t", TEXT, 0, gates).ce() - base, zero.score(head), 1e-4, "ΔCE of " + head);
            }
        }
    }

    @Test
    void normalisingRankingAndTheTextMapSkipTheAbsentCells() {
        ImportanceMap m = map(HeadImportance.Method.GRADIENT);
        ImportanceMap ranked = ImportanceMaps.normalize(m, Normalization.GLOBAL_RANK);
        assertEquals(GRID, ranked.grid());
        double[] ranks = Arrays.stream(ranked.scores()).flatMapToDouble(Arrays::stream).sorted().toArray();
        assertEquals(28, ranks.length, "8 + 8 + 8 + 4 heads are ranked, no absent cell");
        assertEquals(0.0, ranks[0]);
        assertEquals(1.0, ranks[27]);
        ImportanceMap z = ImportanceMaps.normalize(m, Normalization.LAYER_ZSCORE);
        assertEquals(0.0, Arrays.stream(z.scores()[3]).sum(), 1e-9, "layer 3 is z-scored over its 4 heads");
        assertEquals(28, ImportanceMaps.topK(m, 28).size());
        String text = TextHeatmap.render(m, model.config().layerTypes());
        assertTrue(text.contains("n/a"), text);
        assertEquals(4, text.lines().filter(l -> l.startsWith("L3")).findFirst().orElseThrow().split("n/a", -1).length - 1, text);
    }

    /** Per-head learning rates read a ragged map head by head, and refuse a map of another grid. */
    @Test
    void perHeadLearningRatesComeFromARaggedMapOfThisModelOnly() {
        ImportanceMap m = map(HeadImportance.Method.GRADIENT);
        var scale = dev.scalpel.engine.train.PerHeadRates.fromMap(m, model.config(), 1.0, 0.05);
        HeadId weakest = ImportanceMaps.weakestK(m, 1).heads().first();
        assertEquals(1.05, scale.applyAsDouble(weakest), 1e-12, "the weakest of 28 heads trains fastest");
        ImportanceMap uniform = new ImportanceMap("m", "d", "t", "gradient", 1, new double[4][8]);
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.scalpel.engine.api.ScalpelException.class,
                () -> dev.scalpel.engine.train.PerHeadRates.fromMap(uniform, model.config(), 1.0, 0.05));
        assertEquals("The importance map for per-head learning rates (t) has 4×8 heads but the model has 4 layers of "
                + "[8, 8, 8, 4] heads; compute a map on this model.", e.getMessage());
    }
}
