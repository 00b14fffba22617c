package dev.scalpel.engine.edit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.testing.Logits;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TaskVectorTest {
    private static final long[][] IDS = {{0, 45, 301, 77, 12, 99, 250, 3}};

    @Test
    void tiesMatchesTheWorkedExample() {
        // keep 60 % (3 of 5) of each vector by magnitude:
        //   τ1 → [ .5, -.2,  0,  0, 1.0]   τ2 → [-.4, 0, 0, -.6, .9]   τ3 → [.3, 0, -.5, .7, 0]
        // elected signs of the sum [.4, -.2, -.5, .1, 1.9]: + - - + +
        // disjoint means: (.5+.3)/2, -.2, -.5, .7 (τ2's -.6 disagrees), (1.0+.9)/2
        TaskVector t1 = vector(0.5f, -0.2f, 0.1f, 0.0f, 1.0f);
        TaskVector t2 = vector(-0.4f, 0.3f, 0.2f, -0.6f, 0.9f);
        TaskVector t3 = vector(0.3f, -0.1f, -0.5f, 0.7f, -0.2f);
        TaskVector merged = TaskVector.ties(List.of(t1, t2, t3), 0.6, 1.0);
        assertArrayEquals(new float[] {0.4f, -0.2f, -0.5f, 0.7f, 0.95f}, Tensors.toFloats(merged.deltas().get("w")), 1e-6f);
        assertArrayEquals(new float[] {0.8f, -0.4f, -1.0f, 1.4f, 1.9f},
                Tensors.toFloats(TaskVector.ties(List.of(t1, t2, t3), 0.6, 2.0).deltas().get("w")), 1e-6f);
    }

    @Test
    void tiesTrimsOverTheWholeVectorByDefaultAsThePaperDoesOrPerTensor() {
        // one vector of two tensors, keep half of its 6 entries by magnitude
        TaskVector tau = new TaskVector(Map.of("a", Tensors.floats(new float[] {1, 2, 3, 4}, ComputeDevice.CPU),
                "b", Tensors.floats(new float[] {0.1f, 0.2f}, ComputeDevice.CPU)));
        TaskVector global = TaskVector.ties(List.of(tau), 0.5, 1.0);
        assertArrayEquals(new float[] {0, 2, 3, 4}, Tensors.toFloats(global.deltas().get("a")), 0f);
        assertArrayEquals(new float[] {0, 0}, Tensors.toFloats(global.deltas().get("b")), 0f, "b's small entries lose globally");
        TaskVector perTensor = TaskVector.ties(List.of(tau), 0.5, 1.0, TaskVector.Trim.PER_TENSOR);
        assertArrayEquals(new float[] {0, 0, 3, 4}, Tensors.toFloats(perTensor.deltas().get("a")), 0f);
        assertArrayEquals(new float[] {0, 0.2f}, Tensors.toFloats(perTensor.deltas().get("b")), 0f);
    }

    private static TaskVector vector(float... values) {
        return new TaskVector(Map.of("w", Tensors.floats(values, ComputeDevice.CPU)));
    }

    @Test
    void theTaskVectorOfAFineTuneTurnsTheBaseIntoTheFineTuneAndItsNegationUndoesIt(@TempDir Path tmp) {
        try (CausalLM base = ModelLoader.load(Fixtures.model("llama-gqa"), ComputeDevice.CPU);
             CausalLM tuned = ModelLoader.load(Fixtures.model("llama-gqa"), ComputeDevice.CPU)) {
            try (NoGradGuard g = new NoGradGuard()) {
                tuned.weights().get("model.layers.1.self_attn.v_proj.weight").add_(org.bytedeco.pytorch.global.torch.randn(32, 64).mul(new Scalar(0.1)));
                tuned.weights().get("model.layers.0.mlp.up_proj.weight").mul_(new Scalar(1.1));
            }
            TaskVector tau = TaskVector.between(base, tuned, name -> true);
            assertEquals(2, tau.deltas().size(), "only the weights the fine-tune changed");
            try (TaskVectorEdit edit = new TaskVectorEdit(tau, "tuned − base")) {
                assertTrue(Logits.maxAbsDiff(Logits.of(tuned, IDS, LinearOverlay.NONE), Logits.of(base, IDS, new EditOverlay(List.of(edit)))) < 1e-5);
                String hash = ModelHash.of(Fixtures.model("llama-gqa"));
                EditsFile.write(tmp.resolve("tau.json"), hash, List.of(edit), List.of());
                List<Edit> back = EditsFile.read(tmp.resolve("tau.json"), base, hash);
                assertArrayEquals(Logits.of(base, IDS, new EditOverlay(List.of(edit))), Logits.of(base, IDS, new EditOverlay(back)), 0f);
                back.forEach(Edit::close);
            }
            try (TaskVectorEdit undo = new TaskVectorEdit(tau.negate(), "base − tuned")) {
                assertTrue(Logits.maxAbsDiff(Logits.of(base, IDS, LinearOverlay.NONE), Logits.of(tuned, IDS, new EditOverlay(List.of(undo)))) < 1e-5);
            }
            TaskVector headsOnly = tau.restrictedTo(HeadSet.of(new HeadId(1, 3)), base);          // kv head 1: v rows 16..31
            float[] v = Tensors.toFloats(headsOnly.deltas().get("model.layers.1.self_attn.v_proj.weight"));
            for (int r = 0; r < 32; r++) {
                for (int c = 0; c < 64; c++) {
                    assertEquals(r >= 16, v[r * 64 + c] != 0f, "v[" + r + "," + c + "]");
                }
            }
        }
    }

    /**
     * A task vector over every tensor (embeddings, norms, biases, lm_head, a DeltaNet's conv, decay and gated norm) used
     * as an edit gives the logits of the model it came from: nothing is dropped by the overlay.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "llama3-tied", "qwen2", "gpt2", "gemma2", "olmo2", "qwen3_5-hybrid", "qwen3-next", "qwen3_5-ragged"})
    void aTaskVectorOverEveryTensorAsAnEditEqualsTheModelItCameFrom(String fixture) {
        try (CausalLM base = ModelLoader.load(Fixtures.model(fixture), ComputeDevice.CPU);
             CausalLM tuned = ModelLoader.load(Fixtures.model(fixture), ComputeDevice.CPU)) {
            try (NoGradGuard g = new NoGradGuard()) {
                org.bytedeco.pytorch.global.torch.manual_seed(7);
                tuned.weights().asMap().values().forEach(t ->
                        t.add_(org.bytedeco.pytorch.global.torch.randn(t.sizes().vec().get()).mul(new Scalar(0.02))));
            }
            TaskVector tau = TaskVector.between(base, tuned, name -> true);
            assertEquals(base.weights().asMap().size(), tau.deltas().size(), "every tensor changed");
            try (TaskVectorEdit edit = new TaskVectorEdit(tau, "tuned − base")) {
                float[] want = Logits.of(tuned, IDS, LinearOverlay.NONE);
                float[] got = Logits.of(base, IDS, new EditOverlay(List.of(edit)));
                assertTrue(Logits.maxAbsDiff(Logits.of(base, IDS, LinearOverlay.NONE), want) > 1e-2, "the deltas matter");
                assertTrue(Logits.maxAbsDiff(want, got) < 1e-4, fixture + ": max diff " + Logits.maxAbsDiff(want, got));
            }
        }
    }

    @Test
    void loraExtractionApproximatesTheTaskVectorBetterWithRankAndExactlyAtFullRank() {
        try (CausalLM base = ModelLoader.load(Fixtures.model("llama-gqa"), ComputeDevice.CPU);
             CausalLM tuned = ModelLoader.load(Fixtures.model("llama-gqa"), ComputeDevice.CPU)) {
            try (NoGradGuard g = new NoGradGuard()) {
                tuned.weights().get("model.layers.1.self_attn.v_proj.weight").add_(org.bytedeco.pytorch.global.torch.randn(32, 64).mul(new Scalar(0.1)));
            }
            TaskVector tau = TaskVector.between(base, tuned, name -> true);
            double previous = Double.MAX_VALUE;
            for (int rank : new int[] {1, 4, 16}) {
                var result = LoraExtraction.extract(tau, rank);
                double error = result.relativeError().get("model.layers.1.self_attn.v_proj.weight");
                assertTrue(error < previous && error > 0, "rank " + rank + ": " + error);
                previous = error;
                result.edit().close();
            }
            var full = LoraExtraction.extract(tau, 32);
            assertEquals(0.0, full.relativeError().get("model.layers.1.self_attn.v_proj.weight"), 1e-5);
            assertTrue(Logits.maxAbsDiff(Logits.of(tuned, IDS, LinearOverlay.NONE), Logits.of(base, IDS, new EditOverlay(List.of(full.edit())))) < 1e-4);
            full.edit().close();
        }
    }
}
