package dev.scalpel.engine.groups;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.testing.Logits;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Head groups on the GQA fixture: 4 query heads per layer sharing 2 kv heads (H0,H1 → kv 0; H2,H3 → kv 1). */
class HeadGroupsTest {
    private static final long[][] IDS = {{0, 45, 301, 77, 12, 99, 250, 3}};

    /** A group extracted from a copy of the model whose chosen heads were perturbed ("fine-tuned"). */
    private static HeadGroup trained(String fixture, String name, HeadSet heads, double scale, float[][] logitsOut) {
        try (CausalLM donor = ModelLoader.load(Fixtures.model(fixture), ComputeDevice.CPU)) {
            try (NoGradGuard g = new NoGradGuard()) {
                HeadGroup original = HeadGroup.extract(donor, "hash", name, heads, Map.of());
                original.tensors().values().forEach(t -> t.mul_(new Scalar(scale)));
                try (HeadGroupRegistry r = new HeadGroupRegistry(donor)) {
                    r.apply(original, HeadGroupRegistry.OnConflict.CANCEL);
                    logitsOut[0] = Logits.of(donor, IDS, LinearOverlay.NONE);
                    HeadGroup extracted = HeadGroup.extract(donor, "hash", name, heads, Map.of("from", "test"));
                    original.close();
                    return extracted;
                }
            }
        }
    }

    /** Also on Phi-3 (heads are row slices of the fused qkv_proj) and Gemma 2 (sandwich norms, soft-capping). */
    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "phi3", "gemma2", "qwen3_5-hybrid", "qwen3-next", "qwen3-next-ragged"})
    void swappingAThenBThenARestoresBitIdenticalWeightsAndReproducesTheDonors(String fixture, @TempDir Path tmp) {
        float[][] donorA = new float[1][];
        float[][] donorB = new float[1][];
        HeadGroup a = trained(fixture, "a", HeadSet.of(new HeadId(1, 0), new HeadId(1, 1)), 1.5, donorA);
        HeadGroup b = trained(fixture, "b", HeadSet.of(new HeadId(0, 3)), 0.5, donorB);
        a.write(tmp.resolve("a.json"), java.util.List.of());
        HeadGroup aFromFile = HeadGroup.read(tmp.resolve("a.json"), ComputeDevice.CPU);
        try (CausalLM model = ModelLoader.load(Fixtures.model(fixture), ComputeDevice.CPU);
             HeadGroupRegistry registry = new HeadGroupRegistry(model)) {
            Map<String, float[]> before = snapshot(model);
            float[] base = Logits.of(model, IDS, LinearOverlay.NONE);
            registry.apply(aFromFile, HeadGroupRegistry.OnConflict.CANCEL);
            assertArrayEquals(donorA[0], Logits.of(model, IDS, LinearOverlay.NONE), "group A makes the model its donor");
            registry.swapOut("a");
            registry.apply(b, HeadGroupRegistry.OnConflict.CANCEL);
            assertArrayEquals(donorB[0], Logits.of(model, IDS, LinearOverlay.NONE));
            registry.swapOut("b");
            registry.apply(aFromFile, HeadGroupRegistry.OnConflict.CANCEL);
            registry.swapOut("a");
            assertEquals(before.keySet(), snapshot(model).keySet());
            snapshot(model).forEach((name, values) -> assertArrayEquals(before.get(name), values, name));
            assertArrayEquals(base, Logits.of(model, IDS, LinearOverlay.NONE));
        } finally {
            a.close();
            b.close();
            aFromFile.close();
        }
    }

    /** Value head 6 of a ragged hybrid's Gated DeltaNet layer: slices 16 (q, k) and 8 (v, o) wide, beside an attention head. */
    @Test
    void aRaggedHybridsGroupOnAValueHeadBeyondTheAttentionCountSwapsInFromItsFile(@TempDir Path tmp) throws java.io.IOException {
        float[][] donor = new float[1][];
        HeadGroup g = trained("qwen3-next-ragged", "r", HeadSet.parse("L1H6,L3H3"), 1.5, donor);
        g.write(tmp.resolve("r.json"), java.util.List.of());
        HeadGroup read = HeadGroup.read(tmp.resolve("r.json"), ComputeDevice.CPU);
        try (CausalLM model = ModelLoader.load(Fixtures.model("qwen3-next-ragged"), ComputeDevice.CPU);
             HeadGroupRegistry registry = new HeadGroupRegistry(model)) {
            assertEquals(java.util.List.of(8, 8, 8, 4), read.shape().headsPerLayer());
            assertArrayEquals(new long[] {16, 64}, Tensors.shape(read.tensors().get("L1H6.q")));
            assertArrayEquals(new long[] {8, 64}, Tensors.shape(read.tensors().get("L1H6.v")));
            assertArrayEquals(new long[] {64, 8}, Tensors.shape(read.tensors().get("L1H6.o")));
            assertArrayEquals(new long[] {64, 16}, Tensors.shape(read.tensors().get("L3H3.o")));
            registry.apply(read, HeadGroupRegistry.OnConflict.CANCEL);
            assertArrayEquals(donor[0], Logits.of(model, IDS, LinearOverlay.NONE), "the group makes the model its donor");
        } finally {
            g.close();
            read.close();
        }
        // a manifest written before shape.headsPerLayer was recorded means the attention head count in every layer
        var manifest = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(tmp.resolve("r.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) manifest.get("shape")).remove("headsPerLayer");
        java.nio.file.Files.writeString(tmp.resolve("r.json"), manifest.toString());
        var e = assertThrows(ScalpelException.class, () -> HeadGroup.read(tmp.resolve("r.json"), ComputeDevice.CPU));
        assertEquals("Head L1H6 in 'L1H6,L3H3' does not exist: the model has 4 heads per layer (H0 to H3).", e.getMessage());
    }

    @Test
    void twoGroupsClaimingTheSameHeadOrKvHeadConflict() {
        float[][] ignored = new float[1][];
        HeadGroup a = trained("llama-gqa", "a", HeadSet.of(new HeadId(1, 0)), 1.5, ignored);
        HeadGroup b = trained("llama-gqa", "b", HeadSet.of(new HeadId(1, 1), new HeadId(1, 2)), 0.5, ignored);  // L1H1 shares kv 0 with L1H0
        try (CausalLM model = ModelLoader.load(Fixtures.model("llama-gqa"), ComputeDevice.CPU);
             HeadGroupRegistry registry = new HeadGroupRegistry(model)) {
            registry.apply(a, HeadGroupRegistry.OnConflict.CANCEL);
            var e = assertThrows(HeadGroupRegistry.ConflictException.class, () -> registry.apply(b, HeadGroupRegistry.OnConflict.CANCEL));
            assertEquals(Map.of(new HeadId(1, 1), "a"), e.contested());
            assertTrue(e.getMessage().contains("L1H1 (a)"), e.getMessage());
            assertEquals(HeadSet.of(new HeadId(1, 2)), registry.apply(b, HeadGroupRegistry.OnConflict.KEEP));
            registry.swapOut("b");
            assertEquals(b.heads(), registry.apply(b, HeadGroupRegistry.OnConflict.REPLACE));
            assertEquals(Map.of("b", b.heads()), registry.loaded());
        } finally {
            a.close();
            b.close();
        }
    }

    @Test
    void aGroupFromAnotherArchitectureIsRefused() {
        try (CausalLM gpt2 = ModelLoader.load(Fixtures.model("gpt2"), ComputeDevice.CPU);
             CausalLM llama = ModelLoader.load(Fixtures.model("llama-gqa"), ComputeDevice.CPU);
             HeadGroupRegistry registry = new HeadGroupRegistry(llama)) {
            HeadGroup g = HeadGroup.extract(gpt2, "h", "gpt2-heads", HeadSet.of(new HeadId(0, 0)), Map.of());
            var e = assertThrows(ScalpelException.class, () -> registry.apply(g, HeadGroupRegistry.OnConflict.CANCEL));
            assertTrue(e.getMessage().contains("does not fit this"), e.getMessage());
            g.close();
        }
    }

    private static Map<String, float[]> snapshot(CausalLM model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        model.weights().asMap().forEach((name, t) -> out.put(name, Tensors.toFloats(t)));
        return out;
    }
}
