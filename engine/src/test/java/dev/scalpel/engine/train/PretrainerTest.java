package dev.scalpel.engine.train;

import dev.scalpel.engine.files.TestOutputs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.api.TrainingProgress;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.RandomLlamaCheckpoint;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

class PretrainerTest {
    static final RandomLlamaCheckpoint TINY = new RandomLlamaCheckpoint(2, 32, 4, 2, 64, 40, 32, true);

    /** A learnable corpus: a repeating pattern over 30 token ids, plus a little noise. */
    static TokenCorpus corpus() {
        SplittableRandom r = new SplittableRandom(5);
        int[] a = new int[4000];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextInt(20) == 0 ? 3 + r.nextInt(37) : 3 + (i * 7) % 30;
        }
        return new TokenCorpus(Map.of("pattern", a), Map.of("pattern", 1.0), 0);
    }

    private static Pretrainer.Options options(long tokens) {
        return options(tokens, null);
    }

    private static Pretrainer.Options options(long tokens, Apollo.Options apollo) {
        return new Pretrainer.Options(16, 4, tokens, null, AdamW.Options.defaults(1e-2), apollo, 5, 0.1, 1.0, 42, 3);
    }

    /** APOLLO at rank 8 on the tiny model's 32-wide matrices (below the point where projecting stops saving). */
    private static final Apollo.Options APOLLO = Apollo.Options.defaults().withRank(8).withRefreshPeriod(4);

    @Test
    void lossFallsOnALearnableCorpus(@TempDir Path dir) {
        TINY.write(dir, 1);
        List<TrainingProgress> seen = new ArrayList<>();
        try (CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
            var summary = new Pretrainer(model, corpus(), options(4 * 16 * 60), TestOutputs.scratch(dir)).run(seen::add, () -> false);
            assertEquals(60, summary.steps());
            assertFalse(summary.stoppedEarly());
        }
        double first = seen.get(0).loss();
        double last = seen.get(seen.size() - 1).loss();
        assertTrue(first > Math.log(40) - 0.5, "starts near uniform: " + first);
        assertTrue(last < first - 1.5, "loss should fall by > 1.5 nats: " + first + " -> " + last);
        assertTrue(Files.isRegularFile(dir.resolve("training").resolve("trainer_state.json")));
    }

    /** AdamW, APOLLO and APOLLO-Mini: the projections are redrawn from the seed on resume, the moments restored. */
    @ParameterizedTest
    @ValueSource(strings = {"adamw", "apollo", "apollo-mini"})
    void stoppingAndResumingGivesBitIdenticalWeightsToOneRun(String optimizer, @TempDir Path oneRun, @TempDir Path twoRuns) {
        Apollo.Options apollo = switch (optimizer) {
            case "apollo" -> APOLLO;
            case "apollo-mini" -> Apollo.Options.mini().withRefreshPeriod(4);
            default -> null;
        };
        TINY.write(oneRun, 1);
        TINY.write(twoRuns, 1);
        long budget = 4 * 16 * 12;
        Map<String, float[]> straight;
        try (CausalLM model = ModelLoader.load(oneRun, ComputeDevice.CPU)) {
            new Pretrainer(model, corpus(), options(budget, apollo), TestOutputs.scratch(oneRun)).run(p -> { }, () -> false);
            straight = floats(model);
        }
        int[] steps = {0};
        try (CausalLM model = ModelLoader.load(twoRuns, ComputeDevice.CPU)) {
            var first = new Pretrainer(model, corpus(), options(budget, apollo), TestOutputs.scratch(twoRuns))
                    .run(p -> steps[0]++, () -> steps[0] >= 5);
            assertTrue(first.stoppedEarly());
            assertEquals(5, first.steps());
        }
        Map<String, float[]> resumed;
        try (CausalLM model = ModelLoader.load(twoRuns, ComputeDevice.CPU)) {
            var second = new Pretrainer(model, corpus(), options(budget, apollo), TestOutputs.scratch(twoRuns)).run(p -> { }, () -> false);
            assertEquals(12, second.steps());
            resumed = floats(model);
        }
        assertEquals(straight.keySet(), resumed.keySet());
        straight.forEach((name, values) -> assertArrayEquals(values, resumed.get(name), name));
    }

    @Test
    void apolloPretrainingLearnsWithLessStateThanAdamW(@TempDir Path adamDir, @TempDir Path apolloDir) {
        TINY.write(adamDir, 1);
        TINY.write(apolloDir, 1);
        List<TrainingProgress> adamSeen = new ArrayList<>();
        List<TrainingProgress> apolloSeen = new ArrayList<>();
        Pretrainer.Summary adam;
        Pretrainer.Summary apollo;
        try (CausalLM model = ModelLoader.load(adamDir, ComputeDevice.CPU)) {
            adam = new Pretrainer(model, corpus(), options(4 * 16 * 60), TestOutputs.scratch(adamDir)).run(adamSeen::add, () -> false);
        }
        try (CausalLM model = ModelLoader.load(apolloDir, ComputeDevice.CPU)) {
            apollo = new Pretrainer(model, corpus(), options(4 * 16 * 60, APOLLO), TestOutputs.scratch(apolloDir)).run(apolloSeen::add, () -> false);
        }
        assertEquals(adam.optimizerStateBytes(), adam.adamwStateBytes());
        assertTrue(apollo.optimizerStateBytes() < adam.optimizerStateBytes(), apollo + " vs " + adam);
        double first = apolloSeen.get(0).loss();
        double last = apolloSeen.get(apolloSeen.size() - 1).loss();
        assertTrue(last < first - 1.5, "APOLLO's loss should fall by > 1.5 nats: " + first + " -> " + last);
        assertEquals("apollo rank 8, T 4, scale sqrt(k/r), gamma 1.01", Pretrainer.readState(apolloDir).optimizer());
    }

    @Test
    void onlyTheCommittedCheckpointsFilesRemainAndModelSafetensorsMatchesIt(@TempDir Path dir) throws Exception {
        TINY.write(dir, 1);
        try (CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
            new Pretrainer(model, corpus(), options(4 * 16 * 7), TestOutputs.scratch(dir)).run(p -> { }, () -> false);
        }
        try (var files = Files.list(dir.resolve("training"))) {
            assertEquals(java.util.Set.of("trainer_state.json", "weights-7.safetensors", "optimizer-7.safetensors"),
                    files.map(f -> f.getFileName().toString()).collect(java.util.stream.Collectors.toSet()));
        }
        try (var top = SafetensorsFile.open(dir.resolve("model.safetensors"));
             var ckpt = SafetensorsFile.open(dir.resolve("training").resolve("weights-7.safetensors"))) {
            for (String name : ckpt.tensorNames()) {
                assertArrayEquals(TensorFloats.toFloatArray(ckpt.info(name), ckpt.data(name)),
                        TensorFloats.toFloatArray(top.info(name), top.data(name)), name);
            }
        }
    }

    @Test
    void resumingWithAnotherOptimizerIsRefused(@TempDir Path dir) {
        TINY.write(dir, 1);
        try (CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
            new Pretrainer(model, corpus(), options(4 * 16 * 3), TestOutputs.scratch(dir)).run(p -> { }, () -> false);
        }
        try (CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
            var e = assertThrows(ScalpelException.class,
                    () -> new Pretrainer(model, corpus(), options(4 * 16 * 6, APOLLO), TestOutputs.scratch(dir)).run(p -> { }, () -> false));
            assertTrue(e.getMessage().contains("optimizer adamw"), e.getMessage());
        }
    }

    private static Map<String, float[]> floats(CausalLM model) {
        Map<String, float[]> out = new java.util.TreeMap<>();
        model.weights().asMap().forEach((name, t) -> out.put(name, Tensors.toFloats(t)));
        return out;
    }

    @Test
    void resumingWithOtherSettingsIsRefused(@TempDir Path dir) {
        TINY.write(dir, 1);
        try (CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
            new Pretrainer(model, corpus(), options(4 * 16 * 3), TestOutputs.scratch(dir)).run(p -> { }, () -> false);
        }
        var other = new Pretrainer.Options(16, 8, 4 * 16 * 6, null, AdamW.Options.defaults(1e-2), null, 5, 0.1, 1.0, 42, 3);
        try (CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
            var e = assertThrows(ScalpelException.class, () -> new Pretrainer(model, corpus(), other, TestOutputs.scratch(dir)).run(p -> { }, () -> false));
            assertTrue(e.getMessage().contains("resume with the same settings"), e.getMessage());
        }
    }

    @Test
    void scheduleWarmsUpThenDecaysToTheFloor() {
        var s = new LearningRateSchedule(1.0, 10, 110, 0.1);
        assertEquals(0.1, s.at(1), 1e-12);
        assertEquals(1.0, s.at(10), 1e-12);
        assertEquals(0.55, s.at(60), 1e-12);
        assertEquals(0.1, s.at(110), 1e-12);
    }
}
