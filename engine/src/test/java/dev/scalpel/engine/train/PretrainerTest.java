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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainerTest {
    private static final RandomLlamaCheckpoint TINY = new RandomLlamaCheckpoint(2, 32, 4, 2, 64, 40, 32, true);

    /** A learnable corpus: a repeating pattern over 30 token ids, plus a little noise. */
    private static TokenCorpus corpus() {
        SplittableRandom r = new SplittableRandom(5);
        int[] a = new int[4000];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextInt(20) == 0 ? 3 + r.nextInt(37) : 3 + (i * 7) % 30;
        }
        return new TokenCorpus(Map.of("pattern", a), Map.of("pattern", 1.0), 0);
    }

    private static Pretrainer.Options options(long tokens) {
        return new Pretrainer.Options(16, 4, tokens, null, AdamW.Options.defaults(1e-2), 5, 0.1, 1.0, 42, 3);
    }

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

    @Test
    void stoppingAndResumingGivesBitIdenticalWeightsToOneRun(@TempDir Path oneRun, @TempDir Path twoRuns) {
        TINY.write(oneRun, 1);
        TINY.write(twoRuns, 1);
        long budget = 4 * 16 * 12;
        float[] straight;
        try (CausalLM model = ModelLoader.load(oneRun, ComputeDevice.CPU)) {
            new Pretrainer(model, corpus(), options(budget), TestOutputs.scratch(oneRun)).run(p -> { }, () -> false);
            straight = Tensors.toFloats(model.weights().get("model.layers.1.self_attn.q_proj.weight"));
        }
        int[] steps = {0};
        try (CausalLM model = ModelLoader.load(twoRuns, ComputeDevice.CPU)) {
            var first = new Pretrainer(model, corpus(), options(budget), TestOutputs.scratch(twoRuns)).run(p -> steps[0]++, () -> steps[0] >= 5);
            assertTrue(first.stoppedEarly());
            assertEquals(5, first.steps());
        }
        float[] resumed;
        try (CausalLM model = ModelLoader.load(twoRuns, ComputeDevice.CPU)) {
            var second = new Pretrainer(model, corpus(), options(budget), TestOutputs.scratch(twoRuns)).run(p -> { }, () -> false);
            assertEquals(12, second.steps());
            resumed = Tensors.toFloats(model.weights().get("model.layers.1.self_attn.q_proj.weight"));
        }
        assertArrayEquals(straight, resumed);
    }

    @Test
    void resumingWithOtherSettingsIsRefused(@TempDir Path dir) {
        TINY.write(dir, 1);
        try (CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
            new Pretrainer(model, corpus(), options(4 * 16 * 3), TestOutputs.scratch(dir)).run(p -> { }, () -> false);
        }
        var other = new Pretrainer.Options(16, 8, 4 * 16 * 6, null, AdamW.Options.defaults(1e-2), 5, 0.1, 1.0, 42, 3);
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
