package dev.scalpel.app.ui.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The parameter count a recipe predicts from weight shapes is exactly what the edit it builds trains. */
class EditRecipeTest {
    private static final HeadSet TWO_HEADS_OF_ONE_KV_GROUP = HeadSet.of(new HeadId(0, 0), new HeadId(0, 1));
    private static final HeadSet THREE_HEADS = HeadSet.of(new HeadId(0, 0), new HeadId(0, 1), new HeadId(1, 3));

    @Test
    void countsMatchTheBuiltEditsOnLlamaGqaAndGpt2AndTheSampleModel() {
        check(Fixtures.model("llama-gqa"), List.of("q_proj", "v_proj"), "model.layers.1.self_attn.o_proj");
        check(Fixtures.model("gpt2"), List.of("c_attn"), "transformer.h.0.mlp.c_fc");
        check(Fixtures.sampleModel(), List.of("q_proj", "down_proj"), "model.layers.2.mlp.down_proj");
    }

    private static void check(Path dir, List<String> modules, String component) {
        try (LoadedModel m = LoadedModel.open(dir, ComputeDevice.CPU)) {
            for (EditRecipe recipe : List.of(new EditRecipe.HeadLora(THREE_HEADS, 3, 7),
                    new EditRecipe.HeadFinetune(THREE_HEADS, h -> 1.0, null),
                    new EditRecipe.ModuleLora(modules, null, 2, 7),
                    new EditRecipe.ModuleLora(modules, List.of(1), 5, 7),
                    new EditRecipe.Prefactor(component, 2, 4))) {
                try (Edit edit = recipe.build(m.model())) {
                    assertEquals(edit.parameterCount(), recipe.parameterCount(m.model()), dir.getFileName() + ": " + recipe.title());
                    assertTrue(edit.parameterCount() > 0);
                }
            }
        }
    }

    @Test
    void groupedKeyValueRowsCountOnceForHeadLoraAndPerHeadForAFineTune() {
        // llama-gqa: hidden 64, 4 query heads of width 16 sharing 2 kv heads; L0H0 and L0H1 share kv head 0.
        try (LoadedModel m = LoadedModel.open(Fixtures.model("llama-gqa"), ComputeDevice.CPU)) {
            // rank 2: q rows 32 → 2·64 + 32·2; k and v rows 16 (shared) → 2·64 + 16·2 each; o columns 32 → 2·32 + 64·2
            assertEquals(192 + 160 + 160 + 192, new EditRecipe.HeadLora(TWO_HEADS_OF_ONE_KV_GROUP, 2, 0).parameterCount(m.model()));
            // one [16, 64] delta per head for q, k, v and a [64, 16] one for o
            assertEquals(2 * 4 * 16 * 64, new EditRecipe.HeadFinetune(TWO_HEADS_OF_ONE_KV_GROUP, h -> 1.0, null).parameterCount(m.model()));
        }
    }

    @Test
    void impossibleChoicesAreNamed() {
        try (LoadedModel m = LoadedModel.open(Fixtures.model("llama-gqa"), ComputeDevice.CPU)) {
            ScalpelException noModule = assertThrows(ScalpelException.class,
                    () -> new EditRecipe.ModuleLora(List.of("gate_projj"), null, 4, 0).parameterCount(m.model()));
            assertEquals("No matrix matches the modules gate_projj; use names like q_proj, v_proj, down_proj.", noModule.getMessage());
            ScalpelException beyondRank = assertThrows(ScalpelException.class,
                    () -> new EditRecipe.Prefactor("model.layers.0.self_attn.k_proj", 4, 4).parameterCount(m.model()));
            assertTrue(beyondRank.getMessage().startsWith("Component 4 of a rank-4 SVD does not exist"), beyondRank.getMessage());
            ScalpelException noWeight = assertThrows(ScalpelException.class,
                    () -> new EditRecipe.Prefactor("model.layers.9.mlp.up_proj", 0, 4).parameterCount(m.model()));
            assertEquals("This model has no weight model.layers.9.mlp.up_proj.weight.", noWeight.getMessage());
        }
    }
}
