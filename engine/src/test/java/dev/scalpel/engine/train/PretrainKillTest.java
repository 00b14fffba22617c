package dev.scalpel.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.files.TestOutputs;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import dev.scalpel.engine.testing.ChildJvm;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of pre-training checkpoints: a pre-training run (APOLLO, a checkpoint after every step) killed with
 * SIGKILL at random moments and resumed each time always finds one whole committed checkpoint — weights, optimizer
 * state and trainer state of the same step — and, resumed to the end, gives weights bit-identical to a run never
 * killed. A torn checkpoint (weights of one step with moments of another) would fail the first check or change the end
 * result. A plain build runs {@value #DEFAULT_TRIALS} kills; {@code -Dscalpel.killTrials=50} runs the campaign the
 * README reports.
 */
class PretrainKillTest {
    private static final int DEFAULT_TRIALS = 2;
    private static final int TRIALS = Integer.getInteger("scalpel.killTrials", DEFAULT_TRIALS);
    private static final int STEPS = 60;

    /** Pre-trains the tiny model in args[0] for {@value #STEPS} steps (resuming), printing "step N" after each. */
    public static final class Child {
        public static void main(String[] args) {
            Path dir = Path.of(args[0]);
            try (CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
                new Pretrainer(model, PretrainerTest.corpus(), options(), TestOutputs.scratch(dir))
                        .run(p -> System.out.println("step " + p.step()), () -> false);
            }
            System.out.println("done");
        }
    }

    static Pretrainer.Options options() {
        return new Pretrainer.Options(16, 4, 4L * 16 * STEPS, null, AdamW.Options.defaults(1e-2),
                Apollo.Options.defaults().withRank(8).withRefreshPeriod(4), 5, 0.1, 1.0, 42, 1);
    }

    @Test
    void aKilledPretrainingAlwaysResumesFromAWholeCheckpointAndEndsBitIdentical(@TempDir Path tmp) throws Exception {
        Path reference = tmp.resolve("reference");
        PretrainerTest.TINY.write(reference, 1);
        long t0 = System.nanoTime();
        assertTrue(!ChildJvm.killAfterReady(Child.class, List.of(reference.toString()), "step", 600_000));
        long runMillis = (System.nanoTime() - t0) / 1_000_000;
        Map<String, float[]> expected = weights(reference.resolve("model.safetensors"));

        Path dir = tmp.resolve("killed-0");
        PretrainerTest.TINY.write(dir, 1);
        Random random = new Random(29);
        int kills = 0;
        int completions = 0;
        long lastStep = 0;
        while (kills < TRIALS) {
            long delay = (long) (random.nextDouble() * runMillis * 0.35);
            if (ChildJvm.killAfterReady(Child.class, List.of(dir.toString()), "step", delay)) {
                kills++;
                long step = committedCheckpoint(dir);
                assertTrue(step >= lastStep, "the committed step went back from " + lastStep + " to " + step);
                lastStep = step;
            } else {
                completions++;
                assertSameWeights(expected, weights(dir.resolve("model.safetensors")));
                dir = tmp.resolve("killed-" + completions);   // start over in a fresh folder
                PretrainerTest.TINY.write(dir, 1);
                lastStep = 0;
            }
        }
        assertTrue(!ChildJvm.killAfterReady(Child.class, List.of(dir.toString()), "step", 600_000));
        assertSameWeights(expected, weights(dir.resolve("model.safetensors")));
        System.out.printf("kill -9 during pre-training: %d kills, %d runs completed in between, every checkpoint whole, "
                + "final weights bit-identical to an uninterrupted run (%d ms)%n", kills, completions, runMillis);
    }

    /**
     * The step of the committed checkpoint in {@code dir} (0: none yet), after checking that its weights and optimizer
     * files exist, are readable and are of that step, and that the model folder loads.
     */
    private static long committedCheckpoint(Path dir) throws IOException {
        Pretrainer.TrainerState state = Pretrainer.readState(dir);
        try (CausalLM loads = ModelLoader.load(dir, ComputeDevice.CPU)) {
            assertEquals(PretrainerTest.TINY.layers(), loads.config().numLayers());
        }
        if (state == null) {
            return 0;
        }
        for (String kind : List.of("weights-", "optimizer-")) {
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("training").resolve(kind + state.step() + ".safetensors"))) {
                assertEquals(Long.toString(state.step()), f.metadata().get("scalpel.step"), f.path().toString());
                for (String name : f.tensorNames()) {
                    TensorFloats.toFloatArray(f.info(name), f.data(name));
                }
            }
        }
        return state.step();
    }

    private static Map<String, float[]> weights(Path file) {
        Map<String, float[]> out = new TreeMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : f.tensorNames()) {
                out.put(name, TensorFloats.toFloatArray(f.info(name), f.data(name)));
            }
        }
        return out;
    }

    private static void assertSameWeights(Map<String, float[]> expected, Map<String, float[]> found) {
        assertEquals(expected.keySet(), found.keySet());
        expected.forEach((name, values) -> assertArrayEquals(values, found.get(name), name));
    }
}
