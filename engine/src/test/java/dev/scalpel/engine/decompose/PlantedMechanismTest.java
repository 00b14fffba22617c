package dev.scalpel.engine.decompose;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.RandomLlamaCheckpoint;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.spec.DecomposeSpec;
import dev.scalpel.engine.train.TokenCorpus;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20's planted test: a tiny model with a known input-specific rank-1 mechanism — its value projection reads one
 * input direction e that only the trigger tokens' embeddings have — is decomposed, and one subcomponent reads e, with
 * causal importance high on the trigger tokens and near zero elsewhere. Also: the run is deterministic for a seed
 * whether or not it was interrupted and resumed.
 */
class PlantedMechanismTest {
    private static final String MODULE = "model.layers.0.self_attn.v_proj";
    private static final int VOCAB = 48;
    /** Token ids 10 … 15 are the triggers: only their embeddings have a component along axis 0. */
    private static final int FIRST_TRIGGER = 10, TRIGGERS = 6;

    @TempDir
    static Path dir;
    static CausalLM model;
    static TokenCorpus corpus;

    @BeforeAll
    static void plant() {
        Path folder = new RandomLlamaCheckpoint(1, 32, 4, 4, 64, VOCAB, 64, false).write(dir.resolve("planted"), 5);
        model = ModelLoader.load(folder, ComputeDevice.CPU);
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor embed = model.weights().get("model.embed_tokens.weight");                    // [V, d]
            embed.select(1, 0).zero_();
            embed.narrow(0, FIRST_TRIGGER, TRIGGERS).select(1, 0).fill_(new Scalar(0.1));       // e = axis 0, triggers only
            for (String w : List.of(MODULE + ".weight", "model.layers.0.self_attn.o_proj.weight", "lm_head.weight")) {
                model.weights().get(w).mul_(new Scalar(10));                                  // weights of a trained model's size
            }
            // the planted mechanism: v_proj reads only e (its other columns zero), a rank-1 matrix that matters only on triggers
            Tensor w = model.weights().get(MODULE + ".weight");                                  // [d_out, d_in]
            Tensor column = w.select(1, 0).clone();
            w.zero_();
            w.select(1, 0).copy_(column.mul(new Scalar(4)));
        }
        SplittableRandom random = new SplittableRandom(9);
        int[] tokens = new int[20_000];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = random.nextDouble() < 0.25 ? FIRST_TRIGGER + random.nextInt(TRIGGERS) : 2 + random.nextInt(VOCAB - 2);
        }
        corpus = new TokenCorpus(Map.of("text", tokens), Map.of("text", 1.0), 0);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static DecomposeSpec spec(Path out, int steps) {
        // 8 subcomponents for a rank-1 matrix; with 40, 6000 steps leave the planted read spread over several of them
        return new DecomposeSpec(MODULE, 8, steps, 300, 8, 16, 3e-3, 3L, 16, 0.5, 3e-3, 1e4, 50, out.toString());
    }

    private static ParameterDecomposer.Result run(DecomposeSpec spec, java.util.function.BooleanSupplier stop) {
        var out = OutputGuard.files(OutputKind.DECOMPOSITION, List.of(), Path.of(spec.out()),
                ParameterDecomposer.optimizerFile(Path.of(spec.out())));
        return new ParameterDecomposer(model, "planted", spec, corpus, out).run(p -> {}, stop);
    }

    @Test
    void oneSubcomponentReadsThePlantedDirectionAndMattersOnlyOnTheTriggers() {
        Path out = dir.resolve("planted.safetensors");
        ParameterDecomposer.Result result = run(spec(out, 6000), () -> false);
        assertTrue(result.completed());
        try (DecompositionFile.Loaded d = DecompositionFile.read(out, model)) {
            long[] triggers = new long[600], others = new long[600];
            SplittableRandom random = new SplittableRandom(11);
            for (int i = 0; i < 600; i++) {
                triggers[i] = FIRST_TRIGGER + random.nextInt(TRIGGERS);
                others[i] = 2 + random.nextInt(FIRST_TRIGGER - 2);
            }
            var report = DecompositionQuality.measure(model, d.modules(), Map.of("triggers", triggers, "others", others), 0, 16, 8);
            double[] onTriggers = report.texts().stream().filter(t -> t.text().equals("triggers")).findFirst().orElseThrow()
                    .meanImportance().get(MODULE);
            double[] onOthers = report.texts().stream().filter(t -> t.text().equals("others")).findFirst().orElseThrow()
                    .meanImportance().get(MODULE);
            int best = 0;
            for (int c = 1; c < onTriggers.length; c++) {
                if (onTriggers[c] - onOthers[c] > onTriggers[best] - onOthers[best]) {
                    best = c;
                }
            }
            float[] v = Tensors.toFloats(d.modules().get(0).v().select(1, best));                 // [d_in]
            double norm = 0;
            for (float x : v) {
                norm += x * x;
            }
            double cosine = Math.abs(v[0]) / Math.sqrt(norm);
            String summary = String.format(java.util.Locale.ROOT, "subcomponent %d: mean CI %.3f on triggers, %.3f elsewhere, |cos(v, e)| %.3f; residual %.4f",
                    best, onTriggers[best], onOthers[best], cosine, report.relativeResidual().get(MODULE));
            assertTrue(onTriggers[best] > 0.5, summary);
            assertTrue(onOthers[best] < 0.02, summary);
            assertTrue(cosine > 0.9, summary);
            assertTrue(report.relativeResidual().get(MODULE) < 0.1, summary);
        }
    }

    @Test
    void anInterruptedRunResumesToTheSameDecompositionAsAnUninterruptedOne() {
        Path straight = dir.resolve("straight.safetensors"), resumed = dir.resolve("resumed.safetensors");
        run(spec(straight, 120), () -> false);
        int[] calls = {0};
        ParameterDecomposer.Result stopped = run(spec(resumed, 120), () -> ++calls[0] > 70);
        assertEquals(370, stopped.step(), "300 warm-up steps and 70 of 120, then checkpointed");
        ParameterDecomposer.Result rest = run(spec(resumed, 120), () -> false);
        assertEquals(370, rest.resumedAt());
        assertTrue(rest.completed());
        try (DecompositionFile.Loaded a = DecompositionFile.read(straight, model); DecompositionFile.Loaded b = DecompositionFile.read(resumed, model)) {
            for (String role : List.of("v", "u", "ci.w1", "ci.b2")) {
                assertArrayEquals(Tensors.toFloats(a.modules().get(0).tensors().get(role)),
                        Tensors.toFloats(b.modules().get(0).tensors().get(role)), 0f, role + " is bit for bit the same");
            }
        }
    }
}
