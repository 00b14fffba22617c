package dev.scalpel.engine.edit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.testing.Logits;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** LoRA, head-LoRA and head fine-tunes on the GQA Llama fixture (4 query heads, 2 kv heads, head_dim 16). */
class EditsTest {
    private static final long[][] IDS = {{0, 45, 301, 77, 12, 99, 250, 3, 18, 400}};
    private static final List<HeadLayout.Projection> QKVO = List.of(HeadLayout.Projection.values());
    private static final HeadSet HEADS = HeadSet.of(new HeadId(1, 0), new HeadId(0, 3));
    private static CausalLM model;

    @BeforeAll
    static void load() {
        model = ModelLoader.load(Fixtures.model("llama-gqa"), ComputeDevice.CPU);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static float[] logits(LinearOverlay overlay) {
        return Logits.of(model, IDS, overlay);
    }

    /** Gives B (and every delta) random values so that the edit does something. */
    private static void randomize(Edit edit) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (var t : edit.trainables()) {
                t.value().copy_(org.bytedeco.pytorch.global.torch.randn(Tensors.shape(t.value())).mul(new Scalar(0.05)));
            }
        }
    }

    @Test
    void freshLoraLeavesTheLogitsUnchanged() {
        float[] base = logits(LinearOverlay.NONE);
        try (LoraEdit module = LoraEdit.modules(model, List.of("q_proj", "v_proj", "o_proj"), null, 4, Map.of(), 8, 0, 1);
             LoraEdit head = LoraEdit.heads(model, HEADS, QKVO, 4, 8, 0, 1)) {
            assertArrayEquals(base, logits(new EditOverlay(List.of(module))), 0f);
            assertArrayEquals(base, logits(new EditOverlay(List.of(head))), 0f);
        }
    }

    @Test
    void overlayEqualsMergingTheDenseDeltaIntoTheWeights() {
        for (Edit edit : new Edit[] {LoraEdit.heads(model, HEADS, QKVO, 2, 4, 0, 3),
                HeadFinetuneEdit.of(model, HEADS, QKVO, h -> 1.0),
                LoraEdit.modules(model, List.of("up_proj", "k_proj"), List.of(1), 3, Map.of("up_proj", 5), 6, 0, 2)}) {
            randomize(edit);
            float[] viaOverlay = logits(new EditOverlay(List.of(edit)));
            Map<String, Tensor> deltas;
            try (NoGradGuard g = new NoGradGuard()) {
                deltas = edit.denseDeltas(model.weights().asMap());
            }
            LinearOverlay merged = (name, x, w, b) -> LinearOverlay.plain(name, x,
                    deltas.containsKey(name) ? w.add(deltas.get(name)) : w, b);
            assertArrayEquals(logits(merged), viaOverlay, 2e-5f, edit.describe());
            assertTrue(Logits.maxAbsDiff(viaOverlay, logits(LinearOverlay.NONE)) > 1e-3, "the edit must change something: " + edit.describe());
            edit.close();
        }
    }

    @Test
    void headEditsTouchOnlyTheirHeadsSlices() {
        try (LoraEdit edit = LoraEdit.heads(model, HEADS, QKVO, 2, 4, 0, 3)) {
            randomize(edit);
            Map<String, Tensor> deltas = edit.denseDeltas(model.weights().asMap());
            // L1H0: q rows 0..15, kv head 0 → k/v rows 0..15, o columns 0..15
            float[] q1 = Tensors.toFloats(deltas.get("model.layers.1.self_attn.q_proj.weight"));   // [64, 64]
            float[] o1 = Tensors.toFloats(deltas.get("model.layers.1.self_attn.o_proj.weight"));   // [64, 64]
            float[] k0 = Tensors.toFloats(deltas.get("model.layers.0.self_attn.k_proj.weight"));   // [32, 64]
            for (int r = 0; r < 64; r++) {
                for (int c = 0; c < 64; c++) {
                    if (r >= 16) {
                        assertEquals(0f, q1[r * 64 + c], "q row " + r + " belongs to another head");
                    }
                    if (c >= 16) {
                        assertEquals(0f, o1[r * 64 + c], "o column " + c + " belongs to another head");
                    }
                }
            }
            for (int r = 0; r < 16; r++) {   // L0H3 reads kv head 1 (rows 16..31), so kv head 0's rows stay
                for (int c = 0; c < 64; c++) {
                    assertEquals(0f, k0[r * 64 + c]);
                }
            }
            assertNull(deltas.get("model.layers.0.mlp.up_proj.weight"));
            assertEquals(java.util.Set.of("model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                    "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.o_proj.weight",
                    "model.layers.1.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight",
                    "model.layers.1.self_attn.v_proj.weight", "model.layers.1.self_attn.o_proj.weight"),
                    new java.util.HashSet<>(edit.weightNames()));
        }
    }

    @Test
    void aHeadFinetuneChangesNothingOutsideItsHeadsSlices() {
        try (var edit = HeadFinetuneEdit.of(model, HeadSet.of(new HeadId(1, 3)), QKVO, h -> 1.0)) {
            randomize(edit);
            Map<String, Tensor> deltas = edit.denseDeltas(model.weights().asMap());
            float[] q = Tensors.toFloats(deltas.get("model.layers.1.self_attn.q_proj.weight"));   // [64, 64]: rows 48..63
            float[] v = Tensors.toFloats(deltas.get("model.layers.1.self_attn.v_proj.weight"));   // [32, 64]: kv head 1, rows 16..31
            float[] o = Tensors.toFloats(deltas.get("model.layers.1.self_attn.o_proj.weight"));   // [64, 64]: columns 48..63
            for (int r = 0; r < 64; r++) {
                for (int c = 0; c < 64; c++) {
                    assertEquals(r >= 48, q[r * 64 + c] != 0f, "q[" + r + "," + c + "]");
                    assertEquals(c >= 48, o[r * 64 + c] != 0f, "o[" + r + "," + c + "]");
                    if (r < 32) {
                        assertEquals(r >= 16, v[r * 64 + c] != 0f, "v[" + r + "," + c + "]");
                    }
                }
            }
        }
    }

    @Test
    void headLoraHasFarFewerParametersThanModuleLoraOnTheSameProjections() {
        try (LoraEdit head = LoraEdit.heads(model, HeadSet.of(new HeadId(1, 0)), QKVO, 4, 8, 0, 1);
             LoraEdit module = LoraEdit.modules(model, List.of("q_proj", "k_proj", "v_proj", "o_proj"), List.of(1), 4, Map.of(), 8, 0, 1)) {
            // head: q (A 4×64 + B 16×4) + k + v (same) + o (A 4×16 + B 64×4) = 3·320 + 320 = 1,280
            assertEquals(1280, head.parameterCount());
            // module: q 4·64+64·4, k 4·64+32·4, v same, o 4·64+64·4 = 512 + 384 + 384 + 512
            assertEquals(1792, module.parameterCount());
        }
    }
}
