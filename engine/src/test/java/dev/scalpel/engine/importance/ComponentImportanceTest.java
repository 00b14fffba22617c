package dev.scalpel.engine.importance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ProgressListener;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.components.ModuleNames;
import dev.scalpel.engine.components.RankOneDecomposition;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.testing.Fixtures;
import java.util.List;
import java.util.OptionalInt;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ComponentImportanceTest {
    private static final String MODULE = "model.layers.1.self_attn.v_proj";
    private static final long[] TEXT = {45, 301, 77, 12, 99, 250, 3, 18, 400, 7, 7, 81, 222, 5, 64, 65, 66, 300, 12, 9};
    private static CausalLM model;

    @BeforeAll
    static void load() {
        model = ModelLoader.load(Fixtures.model("llama-gqa"), ComputeDevice.CPU);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void allSvdComponentsSumBackToTheWeight() {
        try (PointerScope s = new PointerScope()) {
            Tensor w = model.weights().get(MODULE + ".weight");                         // [32, 64]: rank 32
            try (RankOneDecomposition d = RankOneDecomposition.svd(MODULE, w, 32)) {
                float[] expected = Tensors.toFloats(w);
                float[] actual = Tensors.toFloats(d.reconstruct());
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], actual[i], 1e-4);
                }
                assertTrue(d.singularValue(0) >= d.singularValue(31));
            }
        }
    }

    @Test
    void gradientIsTheFirstOrderEffectAndAblationIsTheEffectOfRemoval() {
        try (PointerScope s = new PointerScope();
             RankOneDecomposition d = RankOneDecomposition.svd(MODULE, model.weights().get(MODULE + ".weight"), 4)) {
            Tensor weight = model.weights().get(MODULE + ".weight");
            Tensor before = weight.clone();
            var scores = new ComponentImportance(model, new HeadImportance.Options(8, 2))
                    .compute(List.of(d), "t", TEXT, 0, ProgressListener.NONE);
            assertEquals(4, scores.size());
            assertTrue(weight.equal(before), "the stored weight is never written, so other jobs can use the model meanwhile");
            assertFalse(weight.requires_grad());
            var evaluator = new CrossEntropyEvaluator(model, 8, 2);
            double base = evaluator.evaluate("t", TEXT, 0, null).ce();
            for (int c = 0; c < 4; c++) {
                double eps = 1e-2;
                double up = withPrefactor(d, c, 1 + eps, evaluator);
                double down = withPrefactor(d, c, 1 - eps, evaluator);
                assertEquals((up - down) / (2 * eps), scores.get(c).gradient(), 2e-3, "gradient of component " + c);
                assertEquals(withPrefactor(d, c, 0, evaluator) - base, scores.get(c).ablation(), 1e-4, "ablation of component " + c);
            }
            assertTrue(model.weights().get(MODULE + ".weight").requires_grad() == false, "weights are frozen again");
        }
    }

    /** CE with W' = W + (s − 1)·component_c, restoring W afterwards. */
    private static double withPrefactor(RankOneDecomposition d, int c, double s, CrossEntropyEvaluator evaluator) {
        Tensor w = model.weights().get(MODULE + ".weight");
        Tensor original = w.clone();
        try (NoGradGuard g = new NoGradGuard()) {
            w.add_(d.component(c).mul(new Scalar(s - 1)));
            return evaluator.evaluate("t", TEXT, 0, null).ce();
        } finally {
            try (NoGradGuard g = new NoGradGuard()) {
                w.copy_(original);
            }
        }
    }

    @Test
    void modulesAreSelectedByGlobAndKnowTheirLayer() {
        assertEquals(List.of("model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.v_proj"),
                ModuleNames.matching(model.weights(), "layers.*.self_attn.v_proj"));
        assertEquals(List.of(MODULE), ModuleNames.matching(model.weights(), "layers.1.self_attn.v_proj"));
        assertEquals(OptionalInt.of(1), ModuleNames.layerOf(MODULE));
        assertEquals(OptionalInt.empty(), ModuleNames.layerOf("lm_head"));
        var e = assertThrows(ScalpelException.class, () -> ModuleNames.matching(model.weights(), "layers.9.attn.v"));
        assertTrue(e.getMessage().contains("No matrix module matches"), e.getMessage());
    }
}
