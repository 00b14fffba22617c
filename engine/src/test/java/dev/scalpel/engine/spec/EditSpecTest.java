package dev.scalpel.engine.spec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parameter count a spec predicts from weight shapes is exactly what the edit it builds trains; JSON binds to it. */
class EditSpecTest {
    private static final String TWO_HEADS_OF_ONE_KV_GROUP = "L0H0,L0H1";
    private static final String THREE_HEADS = "L0H0,L0H1,L1H3";

    @Test
    void countsMatchTheBuiltEditsOnLlamaGqaAndGpt2AndTheSampleModel() {
        check(Fixtures.model("llama-gqa"), List.of("q_proj", "v_proj"), "model.layers.1.self_attn.o_proj");
        check(Fixtures.model("gpt2"), List.of("c_attn"), "transformer.h.0.mlp.c_fc");
        check(Fixtures.sampleModel(), List.of("q_proj", "down_proj"), "model.layers.2.mlp.down_proj");
    }

    private static void check(Path dir, List<String> modules, String component) {
        try (LoadedModel m = LoadedModel.open(dir, ComputeDevice.CPU)) {
            for (EditSpec spec : List.of(new EditSpec.HeadLora(THREE_HEADS, null, 3, null, null, null),
                    new EditSpec.HeadLora(THREE_HEADS, List.of("q", "o"), 2, 1.0, 0.1, null),
                    new EditSpec.HeadFinetune(THREE_HEADS, null, null),
                    new EditSpec.ModuleLora(modules, null, 2, null, null, null),
                    new EditSpec.ModuleLora(modules, List.of(1), 5, java.util.Map.of(modules.get(0), 3), null, null),
                    new EditSpec.Prefactor(component, 2, 4))) {
                try (Edit edit = spec.build(m.model(), 7, EditSpec.References.NONE)) {
                    assertEquals(edit.parameterCount(), spec.parameterCount(m.model()), dir.getFileName() + ": " + spec.title());
                    assertTrue(edit.parameterCount() > 0);
                }
            }
        }
    }

    /**
     * A prefactor on a subcomponent of a decomposition file: the edit scales exactly that subcomponent, at −1 (an
     * inversion) as well as at 0 or 2 — scales the stochastic masks of a decomposition never reach.
     */
    @Test
    void aPrefactorOnADecompositionFileScalesThatSubcomponentAlsoOutsideZeroOne(@TempDir Path tmp) {
        String module = "model.layers.1.self_attn.v_proj";
        try (LoadedModel m = LoadedModel.open(Fixtures.model("llama-gqa"), ComputeDevice.CPU)) {
            org.bytedeco.pytorch.Tensor w = m.model().weights().get(module + ".weight");               // [d_out, d_in]
            long out = w.size(0), in = w.size(1);
            int c = (int) Math.min(out, in);
            try (var svd = dev.scalpel.engine.components.RankOneDecomposition.svd(module, w, c)) {
                var tensors = new java.util.LinkedHashMap<String, dev.scalpel.engine.model.safetensors.TensorSource>();
                String key = "_components." + module.replace('.', '-');
                tensors.put(key + ".V", dev.scalpel.engine.model.safetensors.TensorSource.ofFloats(
                        dev.scalpel.engine.model.safetensors.DType.F32, new long[] {in, c},
                        dev.scalpel.engine.model.Tensors.toFloats(svd.v().mul(svd.sigma().unsqueeze(0)))));   // [d_in, C]
                tensors.put(key + ".U", dev.scalpel.engine.model.safetensors.TensorSource.ofFloats(
                        dev.scalpel.engine.model.safetensors.DType.F32, new long[] {c, out},
                        dev.scalpel.engine.model.Tensors.toFloats(svd.u().t().contiguous())));                // [C, d_out]
                dev.scalpel.engine.model.safetensors.SafetensorsWriter.write(tmp.resolve("d.safetensors"), tensors);
                var spec = new EditSpec.Prefactor(module, 3, null, "d.safetensors");
                EditSpec.References files = new EditSpec.References() {
                    @Override
                    public dev.scalpel.engine.api.ImportanceMap map(String reference) {
                        throw new AssertionError("no map");
                    }

                    @Override
                    public Path file(String reference) {
                        return tmp.resolve(reference);
                    }
                };
                try (var edit = (dev.scalpel.engine.edit.PrefactorEdit) spec.build(m.model(), 0, files)) {
                    assertEquals(1, edit.parameterCount());
                    for (double scale : new double[] {-1, 0, 2}) {
                        edit.setAll(scale);
                        float[] delta = dev.scalpel.engine.model.Tensors.toFloats(edit.denseDeltas(m.model().weights().asMap()).get(module + ".weight"));
                        float[] expected = dev.scalpel.engine.model.Tensors.toFloats(svd.component(3).mul(new org.bytedeco.pytorch.Scalar(scale - 1)));
                        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, delta, 1e-5f, "s = " + scale);
                    }
                }
                // several subcomponents, one scalar each: the delta is the sum of each one's own
                var several = new EditSpec.Prefactor(module, List.of(3, 5), null, "d.safetensors", null);
                assertEquals(2, several.parameterCount(m.model()));
                try (var edit = (dev.scalpel.engine.edit.PrefactorEdit) several.build(m.model(), 0, files)) {
                    edit.setAll(-1);
                    float[] delta = dev.scalpel.engine.model.Tensors.toFloats(edit.denseDeltas(m.model().weights().asMap()).get(module + ".weight"));
                    float[] expected = dev.scalpel.engine.model.Tensors.toFloats(svd.component(3).add(svd.component(5)).mul(new org.bytedeco.pytorch.Scalar(-2)));
                    org.junit.jupiter.api.Assertions.assertArrayEquals(expected, delta, 1e-5f, "two subcomponents at s = −1");
                }
                try (var started = (dev.scalpel.engine.edit.PrefactorEdit) new EditSpec.Prefactor(module, List.of(3, 5), null, "d.safetensors", 16.0)
                        .build(m.model(), 0, files)) {
                    assertArrayEquals(new float[] {16, 16}, started.prefactors(), "\"start\" sets where every scalar begins");
                }
                var twice = assertThrows(ScalpelException.class, () -> new EditSpec.Prefactor(module, List.of(3, 3), null, "d.safetensors", null));
                assertTrue(twice.getMessage().contains("name each once"), twice.getMessage());
                var e = assertThrows(ScalpelException.class, () -> new EditSpec.Prefactor(module, List.of(2, 99), null, "d.safetensors", null).build(m.model(), 0, files));
                assertTrue(e.getMessage().contains("component 99 does not exist"), e.getMessage());
                e = assertThrows(ScalpelException.class, () -> new EditSpec.Prefactor(module, 0, 8, "d.safetensors"));
                assertTrue(e.getMessage().contains("leave it out"), e.getMessage());
            }
        }
    }

    @Test
    void groupedKeyValueRowsCountOnceForHeadLoraAndPerHeadForAFineTune() {
        // llama-gqa: hidden 64, 4 query heads of width 16 sharing 2 kv heads; L0H0 and L0H1 share kv head 0.
        try (LoadedModel m = LoadedModel.open(Fixtures.model("llama-gqa"), ComputeDevice.CPU)) {
            // rank 2: q rows 32 → 2·64 + 32·2; k and v rows 16 (shared) → 2·64 + 16·2 each; o columns 32 → 2·32 + 64·2
            assertEquals(192 + 160 + 160 + 192, new EditSpec.HeadLora(TWO_HEADS_OF_ONE_KV_GROUP, null, 2, null, null, null).parameterCount(m.model()));
            // one [16, 64] delta per head for q, k, v and a [64, 16] one for o
            assertEquals(2 * 4 * 16 * 64, new EditSpec.HeadFinetune(TWO_HEADS_OF_ONE_KV_GROUP, null, null).parameterCount(m.model()));
        }
    }

    @Test
    void impossibleChoicesAreNamed() {
        try (LoadedModel m = LoadedModel.open(Fixtures.model("llama-gqa"), ComputeDevice.CPU)) {
            ScalpelException noModule = assertThrows(ScalpelException.class,
                    () -> new EditSpec.ModuleLora(List.of("gate_projj"), null, 4, null, null, null).parameterCount(m.model()));
            assertEquals("No matrix matches the modules gate_projj; use names like q_proj, v_proj, down_proj.", noModule.getMessage());
            ScalpelException beyondRank = assertThrows(ScalpelException.class,
                    () -> new EditSpec.Prefactor("model.layers.0.self_attn.k_proj", 4, 4));
            assertTrue(beyondRank.getMessage().startsWith("Component 4 of a rank-4 SVD does not exist"), beyondRank.getMessage());
            ScalpelException tooMany = assertThrows(ScalpelException.class,
                    () -> new EditSpec.Prefactor("model.layers.0.self_attn.k_proj", 0, 100).parameterCount(m.model()));
            assertTrue(tooMany.getMessage().contains("has at most 32 rank-1 components"), tooMany.getMessage());
            ScalpelException noWeight = assertThrows(ScalpelException.class,
                    () -> new EditSpec.Prefactor("model.layers.9.mlp.up_proj", 0, 4).parameterCount(m.model()));
            assertEquals("This model has no weight model.layers.9.mlp.up_proj.weight.", noWeight.getMessage());
            ScalpelException noLayer = assertThrows(ScalpelException.class,
                    () -> new EditSpec.HeadLora("L7H0", null, 2, null, null, null).parameterCount(m.model()));
            assertTrue(noLayer.getMessage().contains("the model has 2 layers"), noLayer.getMessage());
            assertThrows(ScalpelException.class, () -> new EditSpec.HeadLora("L0H0", null, 0, null, null, null));
            assertThrows(ScalpelException.class, () -> new EditSpec.HeadLora("L0H0", null, 2, null, 1.5, null));
        }
    }

    /** The CLI side of "every field is exposed": each spec record component is bound to a JSON name (but the edit itself). */
    @Test
    void everySpecFieldIsBoundToJson() {
        List<Class<?>> records = new java.util.ArrayList<>(List.of(TrainSpec.class, TrainSpec.TeacherSteer.class, EditSpec.PerHeadLr.class));
        records.addAll(List.of(EditSpec.class.getPermittedSubclasses()));
        for (Class<?> record : records) {
            for (var c : record.getRecordComponents()) {
                boolean bound = c.getAccessor().isAnnotationPresent(com.fasterxml.jackson.annotation.JsonProperty.class);
                assertTrue(bound || c.getName().equals("edit"), record.getSimpleName() + "." + c.getName() + " has no JSON name");
            }
            assertEquals(record.getRecordComponents().length - (record == TrainSpec.class ? 1 : 0), TrainSpec.jsonFields(record).size());
        }
    }

    @Test
    void aSpecFileBindsTheMethodsFieldsAndTheTrainingSettingsWithTheSameDefaults(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("spec.json");
        Files.writeString(file, """
                {"method": "prefactor", "module": "model.layers.1.self_attn.v_proj", "component": 3,
                 "objective": "unlearn-uniform", "target": "de.txt", "steps": 5}
                """);
        TrainSpec spec = TrainSpec.read(file);
        assertEquals(new EditSpec.Prefactor("model.layers.1.self_attn.v_proj", 3, null), spec.edit());
        assertEquals(16, ((EditSpec.Prefactor) spec.edit()).components());
        assertEquals(dev.scalpel.engine.train.FineTuner.Objective.UNLEARN_UNIFORM, spec.objective());
        assertEquals(5, spec.steps());
        assertEquals(4, spec.batchSize(), "the default, as the workbench's");

        Files.writeString(file, """
                {"method": "prefactor", "module": "model.layers.1.self_attn.v_proj", "component": [3, 0, 7], "target": "de.txt"}
                """);
        assertEquals(List.of(3, 0, 7), ((EditSpec.Prefactor) TrainSpec.read(file).edit()).indices(), "a list of components");

        Files.writeString(file, "{\"method\": \"head-finetune\", \"heads\": \"L0H0\", \"rank\": 4, \"target\": \"t\"}");
        ScalpelException wrongField = assertThrows(ScalpelException.class, () -> TrainSpec.read(file));
        assertTrue(wrongField.getMessage().contains("[rank] that method 'head-finetune' does not take"), wrongField.getMessage());
        Files.writeString(file, "{\"method\": \"dora\", \"target\": \"t\"}");
        ScalpelException unknown = assertThrows(ScalpelException.class, () -> TrainSpec.read(file));
        assertTrue(unknown.getMessage().contains("one of [head-lora, lora, head-finetune, deltanet-decay, prefactor, full], not 'dora'"), unknown.getMessage());
    }
}
