package dev.scalpel.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.edit.EditOverlay;
import dev.scalpel.engine.edit.HeadFinetuneEdit;
import dev.scalpel.engine.edit.HeadLayout;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.testing.Fixtures;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FineTunerTest {
    private static final List<HeadLayout.Projection> QKVO = List.of(HeadLayout.Projection.values());
    private static CausalLM model;
    private static long[] target;
    private static long[] retain;

    @BeforeAll
    static void load() {
        model = ModelLoader.load(Fixtures.model("llama-gqa"), ComputeDevice.CPU);
        SplittableRandom r = new SplittableRandom(3);
        target = new long[200];
        retain = new long[200];
        for (int i = 0; i < 200; i++) {
            target[i] = 3 + (i * 11) % 40;          // a learnable pattern
            retain[i] = 100 + r.nextInt(400);
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static double ce(long[] tokens, EditOverlay overlay) {
        return new CrossEntropyEvaluator(model, 32, 4).withOverlay(overlay).evaluate("t", tokens, 0, null).ce();
    }

    private static FineTuner.Spec spec(FineTuner.Objective objective, double lr, String optimizer) {
        return new FineTuner.Spec(objective, 0, 0.25, 200, 40, 4, 32, lr, optimizer, 7);
    }

    @Test
    void headFinetuneLearnsTheTargetAndLeavesTheBaseWeightsBitIdentical() {
        float[] before = Tensors.toFloats(model.weights().get("model.layers.1.self_attn.q_proj.weight"));
        try (var edit = HeadFinetuneEdit.of(model, HeadSet.of(new HeadId(1, 1)), QKVO, h -> 1.0)) {
            double start = ce(target, new EditOverlay(List.of(edit)));
            var result = new FineTuner(model, edit, spec(FineTuner.Objective.LEARN, 1e-2, "adamw"))
                    .run(new FineTuner.Data(target, retain, null, 0), p -> { }, () -> false);
            assertNull(result.stopReason());
            assertEquals(200, result.targetTokens());
            double end = ce(target, new EditOverlay(List.of(edit)));
            assertTrue(end < start - 0.5, "target CE " + start + " -> " + end);
        }
        assertArrayEquals(before, Tensors.toFloats(model.weights().get("model.layers.1.self_attn.q_proj.weight")));
    }

    @Test
    void unlearnRaisesGermanLossTowardsUniformAndRetainKlLimitsEnglishDamage() throws java.io.IOException {
        java.nio.file.Path dir = Fixtures.sampleModel();
        try (var sample = dev.scalpel.engine.model.LoadedModel.open(dir, ComputeDevice.CPU)) {
            long[] de = java.util.Arrays.copyOf(sample.tokenizer().encode(java.nio.file.Files.readString(dir.resolve("train-sample/de.txt"))), 2000);
            long[] en = java.util.Arrays.copyOf(sample.tokenizer().encode(java.nio.file.Files.readString(dir.resolve("train-sample/en.txt"))), 2000);
            CausalLM m = sample.model();
            var evaluator = new CrossEntropyEvaluator(m, 64, 8);
            double lnV = Math.log(m.config().vocabSize());
            double baseDe = evaluator.withOverlay(null).evaluate("de", de, 0, null).ce();
            double baseEn = evaluator.evaluate("en", en, 0, null).ce();
            double[] enDrift = new double[2];
            for (int withKl = 0; withKl < 2; withKl++) {
                try (var edit = LoraEdit.modules(m, List.of("v_proj", "o_proj"), null, 4, Map.of(), 8, 0, 1)) {
                    var spec = new FineTuner.Spec(FineTuner.Objective.UNLEARN, withKl == 1 ? 3.0 : 0.0, 0, 256, 30, 4, 64, 3e-3, "adamw", 7);
                    new FineTuner(m, edit, spec).run(new FineTuner.Data(de, null, en, 0), p -> { }, () -> false);
                    double afterDe = evaluator.withOverlay(new EditOverlay(List.of(edit))).evaluate("de", de, 0, null).ce();
                    assertTrue(afterDe > baseDe + 1.0, "unlearning must raise German CE: " + baseDe + " -> " + afterDe);
                    assertTrue(afterDe < lnV + 2.5, "the hinge stops around ln V " + lnV + ": " + afterDe);
                    enDrift[withKl] = evaluator.evaluate("en", en, 0, null).ce() - baseEn;
                    evaluator.withOverlay(null);
                }
            }
            assertTrue(enDrift[1] < enDrift[0], "the retain KL must reduce English damage: " + enDrift[0] + " vs " + enDrift[1]);

            try (var edit = LoraEdit.modules(m, List.of("v_proj", "o_proj"), null, 4, Map.of(), 8, 0, 1)) {
                var spec = new FineTuner.Spec(FineTuner.Objective.UNLEARN_UNIFORM, 0, 0, 256, 30, 4, 64, 3e-3, "adamw", 7);
                new FineTuner(m, edit, spec).run(new FineTuner.Data(de, null, null, 0), p -> { }, () -> false);
                double afterDe = evaluator.withOverlay(new EditOverlay(List.of(edit))).evaluate("de", de, 0, null).ce();
                assertEquals(lnV, afterDe, 1.0, "CE against the uniform distribution drives German CE to about ln V");
            }
        }
    }

    @Test
    void aNonFiniteLossRestoresTheLastGoodStepAndStops() {
        try (var edit = HeadFinetuneEdit.of(model, HeadSet.of(new HeadId(0, 0)), QKVO, h -> 1.0)) {
            var result = new FineTuner(model, edit, spec(FineTuner.Objective.LEARN, 1e30, "adamw"))
                    .run(new FineTuner.Data(target, null, null, 0), p -> { }, () -> false);
            assertTrue(result.stopReason() != null && result.stopReason().contains("restored"), String.valueOf(result.stopReason()));
            for (var t : edit.trainables()) {
                for (float v : Tensors.toFloats(t.value())) {
                    assertTrue(Float.isFinite(v));
                }
            }
        }
    }

    @Test
    void cancellingKeepsTheCompletedSteps() {
        int[] seen = {0};
        try (var edit = LoraEdit.heads(model, HeadSet.of(new HeadId(1, 2)), QKVO, 2, 4, 0, 1)) {
            var result = new FineTuner(model, edit, spec(FineTuner.Objective.LEARN, 1e-3, "adamw"))
                    .run(new FineTuner.Data(target, null, null, 0), p -> seen[0]++, () -> seen[0] >= 3);
            assertEquals("cancelled", result.stopReason());
            assertEquals(3, result.steps());
        }
    }

    @Test
    void aTinyTokenBudgetIsAllTheTargetTextTrainingSees() {
        try (var edit = LoraEdit.heads(model, HeadSet.of(new HeadId(1, 2)), QKVO, 2, 4, 0, 1)) {
            var spec = new FineTuner.Spec(FineTuner.Objective.UNLEARN, 0, 0, 4, 5, 2, 32, 1e-3, "adamw", 7);
            var result = new FineTuner(model, edit, spec).run(new FineTuner.Data(target, null, null, 0), p -> { }, () -> false);
            assertEquals(4, result.targetTokens());
            assertEquals(5 * 2 * 4, result.targetTokensProcessed(), "5 steps × 2 rows × 4 predicted tokens");
        }
    }
}
