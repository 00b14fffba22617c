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
import java.util.ArrayList;
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

    /**
     * objective(data, k) is the loss run() reports for the same batches: at the edit's start, step 1's; averaged over
     * steps 1…k — with general mixing and a retain KL, so every term is in it — and it trains nothing.
     */
    @Test
    void theObjectiveIsTheLossOfTheRunsOwnBatchesWithoutTraining() {
        try (var edit = LoraEdit.heads(model, HeadSet.of(new HeadId(1, 1)), QKVO, 2, 4, 0, 1)) {
            var spec = new FineTuner.Spec(FineTuner.Objective.UNLEARN, 0.5, 0.25, 200, 1, 4, 32, 0.0, "adamw", 7);
            var data = new FineTuner.Data(target, retain, retain, 0);
            float[] before = Tensors.toFloats(edit.trainables().get(0).value());
            var tuner = new FineTuner(model, edit, spec);
            double objective = tuner.objective(data, 1);
            assertArrayEquals(before, Tensors.toFloats(edit.trainables().get(0).value()), "objective() trains nothing");
            double[] reported = new double[1];
            tuner.run(data, p -> reported[0] = p.loss(), () -> false);
            assertEquals(reported[0], objective, 1e-6, "step 1's loss");

            var fourSteps = new FineTuner.Spec(FineTuner.Objective.UNLEARN, 0.5, 0.25, 200, 4, 4, 32, 0.0, "adamw", 7);
            List<Double> losses = new ArrayList<>();
            var frozenRun = new FineTuner(model, edit, fourSteps);
            double mean = frozenRun.objective(data, 4);
            frozenRun.run(data, p -> losses.add(p.loss()), () -> false);                // lr 0: the values stay put
            assertEquals(losses.stream().mapToDouble(Double::doubleValue).average().orElseThrow(), mean, 1e-6, "mean of steps 1…4");
        }
    }

    @Test
    void aNonFiniteLossRestoresTheLastGoodStepAndStops() {
        try (var edit = HeadFinetuneEdit.of(model, HeadSet.of(new HeadId(0, 0)), QKVO, h -> 1.0)) {
            var result = new FineTuner(model, edit, spec(FineTuner.Objective.LEARN, 1e30, "adamw"))
                    .run(new FineTuner.Data(target, null, null, 0), p -> { }, () -> false);
            assertEquals(FineTuner.Stop.DIVERGED, result.stop());
            assertTrue(result.stopReason() != null && result.stopReason().contains("restored"), String.valueOf(result.stopReason()));
            for (var t : edit.trainables()) {
                for (float v : Tensors.toFloats(t.value())) {
                    assertTrue(Float.isFinite(v));
                }
            }
        }
    }

    @Test
    void readersFollowTheTrainingThroughPublishedCopiesAndLiveEvalReportsEveryKSteps() throws Exception {
        long[][] probe = {{0, 3, 14, 25, 36, 47, 58}};
        List<Map<String, dev.scalpel.engine.api.LanguageLoss>> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (var edit = LoraEdit.heads(model, HeadSet.of(new HeadId(1, 1), new HeadId(0, 2)), QKVO, 2, 4, 0, 1)) {
            var tuner = new FineTuner(model, edit, spec(FineTuner.Objective.LEARN, 1e-2, "adamw"))
                    .evaluateEvery(10, Map.of("target", target), reports::add);
            var training = java.util.concurrent.Executors.newSingleThreadExecutor();
            var done = training.submit(() -> tuner.run(new FineTuner.Data(target, null, null, 0), p -> { }, () -> false));
            java.util.Set<Float> seen = new java.util.HashSet<>();
            while (!done.isDone()) {
                try (var lease = tuner.live().acquire()) {
                    seen.add(logits(probe, lease.overlay())[5]);
                }
            }
            assertNull(done.get().stopReason());
            training.shutdown();
            assertTrue(seen.size() >= 3, "a reader should see the model change while it trains: " + seen.size() + " states");
            try (var lease = tuner.live().acquire()) {
                assertArrayEquals(logits(probe, new EditOverlay(List.of(edit))), logits(probe, lease.overlay()), 0f);
            }
            assertEquals(4, reports.size(), "40 steps, every 10");
            assertEquals(ce(target, new EditOverlay(List.of(edit))), reports.get(3).get("target").ce(), 1e-9);
            tuner.live().close();
        }
    }

    @Test
    void withoutReadersTheTrainerPublishesOnlyTheFirstAndTheLastStep() {
        try (var edit = LoraEdit.heads(model, HeadSet.of(new HeadId(1, 1)), QKVO, 2, 4, 0, 1)) {
            var tuner = new FineTuner(model, edit, spec(FineTuner.Objective.LEARN, 1e-2, "adamw"));
            List<Long> askedAt = new ArrayList<>();
            tuner.run(new FineTuner.Data(target, null, null, 0), p -> {
                if (p.step() == 20) {             // one reader, once: served after the next step
                    tuner.live().acquire().close();
                    askedAt.add((long) p.step());
                }
            }, () -> false);
            assertEquals(List.of(20L), askedAt);
            assertEquals(3, tuner.live().publications(), "steps 1 and 21 (asked for) and 40 (the last) — not 40 copies");
            try (var lease = tuner.live().acquire()) {
                assertEquals(40, lease.step());
            }
            tuner.live().close();
        }
    }

    private static float[] logits(long[][] ids, dev.scalpel.engine.model.LinearOverlay overlay) {
        try (var scope = new org.bytedeco.javacpp.PointerScope(); var g = new org.bytedeco.pytorch.NoGradGuard()) {
            return Tensors.toFloats(model.forward(Tensors.ids(ids, ComputeDevice.CPU),
                    dev.scalpel.engine.model.ForwardContext.withOverlay(overlay)));
        }
    }

    @Test
    void frozenContextScoresOnlyTheContinuationWithTheSameLogitsAsAFullPass() {
        int context = 32, frozen = 20;
        var spec = new FineTuner.Spec(FineTuner.Objective.LEARN, 0, 0, 200, 30, 4, context, 1e-2, "adamw", 7, frozen);
        double[] firstLoss = {Double.NaN};
        try (var edit = LoraEdit.heads(model, HeadSet.of(new HeadId(1, 1)), QKVO, 2, 4, 0, 1)) {
            var result = new FineTuner(model, edit, spec).run(new FineTuner.Data(target, null, null, 0),
                    p -> firstLoss[0] = Double.isNaN(firstLoss[0]) ? p.loss() : firstLoss[0], () -> false);
            assertEquals(30L * 4 * (context - 1 - frozen), result.targetTokensProcessed());
            assertTrue(result.lastLoss() < firstLoss[0], firstLoss[0] + " -> " + result.lastLoss());
        }
        // Step 1 starts from a zero update, so its loss is the base model's CE on the continuation positions.
        int[] ints = java.util.Arrays.stream(target).mapToInt(v -> (int) v).toArray();
        long[][] rows = new TokenCorpus(Map.of("text", ints), Map.of("text", 1.0), 0).batch(7, 1, 4, context);
        try (var scope = new org.bytedeco.javacpp.PointerScope(); var g = new org.bytedeco.pytorch.NoGradGuard()) {
            var ids = Tensors.ids(rows, ComputeDevice.CPU);
            var logits = model.forward(ids.narrow(1, 0, context - 1), dev.scalpel.engine.model.ForwardContext.plain());
            var perToken = dev.scalpel.engine.eval.TokenLoss.perToken(logits, ids.narrow(1, 1, context - 1));
            double expected = perToken.narrow(1, frozen, context - 1 - frozen).mean().item_double();
            assertEquals(expected, firstLoss[0], 1e-4);
        }
    }

    @Test
    void theFrozenPrefixSkipsTheLayersBelowTheEditWithTheSameTrainingAsTheFullModel() {
        // an edit of layer 1 only: layer 0 runs once per distinct target row instead of every step
        for (FineTuner.Objective objective : List.of(FineTuner.Objective.LEARN, FineTuner.Objective.UNLEARN_UNIFORM)) {
            List<float[]> trained = new java.util.ArrayList<>();
            List<Double> losses = new java.util.ArrayList<>();
            for (long keep : new long[] {0, FineTuner.DEFAULT_FROZEN_PREFIX_BYTES}) {
                try (var edit = LoraEdit.heads(model, HeadSet.of(new HeadId(1, 2)), QKVO, 2, 4, 0, 5)) {
                    var spec = new FineTuner.Spec(objective, 0, 0.25, 40, 12, 3, 32, 1e-2, "adamw", 7);
                    var result = new FineTuner(model, edit, spec).frozenPrefixBytes(keep)
                            .run(new FineTuner.Data(target, retain, null, 0), p -> { }, () -> false);
                    trained.add(Tensors.toFloats(edit.trainables().get(1).value()));
                    losses.add(result.lastLoss());
                }
            }
            assertEquals(losses.get(0), losses.get(1), 1e-5, objective + ": last loss with and without the frozen prefix");
            float[] full = trained.get(0), cached = trained.get(1);
            double worst = 0;
            for (int i = 0; i < full.length; i++) {
                worst = Math.max(worst, Math.abs(full[i] - cached[i]));
            }
            assertTrue(worst < 1e-5, objective + ": lora_B differs by " + worst);
            double largest = 0;
            for (float x : full) {
                largest = Math.max(largest, Math.abs(x));
            }
            assertTrue(largest > 1e-3, objective + ": lora_B started at 0 and trained to " + largest);
        }
        try (var embedding = LoraEdit.modules(model, List.of("q_proj"), List.of(0), 2, Map.of(), 4, 0, 5)) {
            assertTrue(FrozenPrefix.firstLayer(embedding).isEmpty(), "an edit of layer 0 leaves nothing to skip");
        }
    }

    @Test
    void theSameSeedGivesBitIdenticalEdits() {
        float[][] runs = new float[2][];
        for (int i = 0; i < 2; i++) {
            try (var edit = LoraEdit.heads(model, HeadSet.of(new HeadId(1, 3)), QKVO, 2, 4, 0, 5)) {
                new FineTuner(model, edit, spec(FineTuner.Objective.LEARN, 1e-2, "apollo"))
                        .run(new FineTuner.Data(target, retain, null, 0), p -> { }, () -> false);
                runs[i] = Tensors.toFloats(edit.trainables().get(1).value());
            }
        }
        assertArrayEquals(runs[0], runs[1]);
    }

    @Test
    void cancellingKeepsTheCompletedSteps() {
        int[] seen = {0};
        try (var edit = LoraEdit.heads(model, HeadSet.of(new HeadId(1, 2)), QKVO, 2, 4, 0, 1)) {
            var result = new FineTuner(model, edit, spec(FineTuner.Objective.LEARN, 1e-3, "adamw"))
                    .run(new FineTuner.Data(target, null, null, 0), p -> seen[0]++, () -> seen[0] >= 3);
            assertEquals(FineTuner.Stop.CANCELLED, result.stop());
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

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"1, 0.25", "2, 0.25", "4, 0.25", "3, 0.1", "8, 0.5", "5, 0"})
    void generalRowsAreTheRatioOfAllRowsForAnyBatchSize(int batch, double ratio) {
        int general = 0;
        for (int step = 1; step <= 40; step++) {
            int g = FineTuner.generalRows(step, batch, ratio);
            assertTrue(g >= 0 && g <= batch, "step " + step + ": " + g + " of " + batch);
            general += g;
            assertEquals(Math.floor(ratio * batch * step + 1e-9), general, "after step " + step);
        }
        if (batch == 1 && ratio == 0.25) {
            assertEquals(java.util.List.of(0, 0, 0, 1), java.util.stream.IntStream.rangeClosed(1, 4)
                    .mapToObj(s -> FineTuner.generalRows(s, 1, 0.25)).toList(), "batch 1: every fourth step is general");
        }
    }
}
