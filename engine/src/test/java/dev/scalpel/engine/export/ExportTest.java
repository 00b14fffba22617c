package dev.scalpel.engine.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditOverlay;
import dev.scalpel.engine.edit.HeadFinetuneEdit;
import dev.scalpel.engine.edit.HeadLayout;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.SafetensorsCheckpoint;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.testing.Logits;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ExportTest {
    private static final long[][] IDS = {{0, 45, 301, 77, 12, 99, 250, 3}};
    private static final List<HeadLayout.Projection> QKVO = List.of(HeadLayout.Projection.values());

    private static void randomize(Edit edit) {
        org.bytedeco.pytorch.global.torch.manual_seed(11);
        try (NoGradGuard g = new NoGradGuard()) {
            for (var t : edit.trainables()) {
                t.value().copy_(org.bytedeco.pytorch.global.torch.randn(Tensors.shape(t.value())).mul(new Scalar(0.05)));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "gpt2", "llama-bias", "olmo2", "gemma2", "gemma3-text", "phi3", "qwen3-moe",
            "qwen3_5-hybrid", "qwen3-next", "qwen3_5-vl", "gpt2-untied", "qwen3-next-ragged", "qwen3_5-ragged"})
    // qwen3_5-hybrid: L0, L1 are Gated DeltaNet layers; the ragged ones have 8 value heads of 8 there, 4 heads of 16 in L3
    void aMergedExportReloadsToTheEditedModelsLogits(String fixture, @TempDir Path out) throws IOException {
        try (LoadedModel m = LoadedModel.open(Fixtures.model(fixture), ComputeDevice.CPU)) {
            List<Edit> edits = List.of(LoraEdit.heads(m.model(), HeadSet.of(new HeadId(1, 2)), QKVO, 2, 4, 0, 1),
                    HeadFinetuneEdit.of(m.model(), HeadSet.of(new HeadId(0, 0)), QKVO, h -> 1.0));
            edits.forEach(ExportTest::randomize);
            float[] edited = Logits.of(m.model(), IDS, new EditOverlay(edits));
            MergedCheckpointExporter.write(m, edits, out, null);
            try (LoadedModel exported = LoadedModel.open(out, ComputeDevice.CPU)) {
                float[] reloaded = Logits.of(exported.model(), IDS, LinearOverlay.NONE);
                assertTrue(Logits.maxAbsDiff(edited, reloaded) < 1e-4, "max diff " + Logits.maxAbsDiff(edited, reloaded));
                assertTrue(Logits.maxAbsDiff(edited, Logits.of(m.model(), IDS, LinearOverlay.NONE)) > 1e-3, "the edits matter");
            }
            edits.forEach(Edit::close);
        }
    }

    @Test
    void aShardedHalfPrecisionInputIsExportedShardedInItsDtype(@TempDir Path out) throws IOException {
        try (LoadedModel m = LoadedModel.open(Fixtures.model("llama-f16-sharded"), ComputeDevice.CPU)) {
            MergedCheckpointExporter.write(m, List.of(), out, null);
            try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(out)) {
                assertTrue(c.files().size() > 1, "sharded like the input");
                assertEquals(DType.F16, c.info("model.embed_tokens.weight").dtype());
            }
            try (LoadedModel exported = LoadedModel.open(out, ComputeDevice.CPU)) {
                assertArrayEquals(Logits.of(m.model(), IDS, LinearOverlay.NONE), Logits.of(exported.model(), IDS, LinearOverlay.NONE), 0f,
                        "F16 weights read as float32 and written back as F16 are unchanged");
            }
        }
    }

    @Test
    void exportsNeverGoIntoTheBaseFolder() {
        try (LoadedModel m = LoadedModel.open(Fixtures.model("llama-gqa"), ComputeDevice.CPU)) {
            var e = assertThrows(ScalpelException.class, () -> MergedCheckpointExporter.write(m, List.of(), m.dir().resolve("merged"), null));
            assertTrue(e.getMessage().contains("is inside the model folder"), e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "phi3", "gemma2", "qwen3_5-hybrid", "qwen3-next", "qwen3_5-vl", "qwen3-next-ragged",
            "qwen3_5-ragged"})   // phi3: head slices inside the fused qkv_proj
    void aPeftAdapterAppliedWithTheStandardFormulaGivesTheEditedLogits(String fixture, @TempDir Path out) throws IOException {
        try (LoadedModel m = LoadedModel.open(Fixtures.model(fixture), ComputeDevice.CPU);
             LoraEdit edit = LoraEdit.heads(m.model(), HeadSet.of(new HeadId(1, 2), new HeadId(0, 1)), QKVO, 3, 6, 0, 1)) {
            randomize(edit);
            float[] edited = Logits.of(m.model(), IDS, new EditOverlay(List.of(edit)));
            PeftAdapterExporter.write(m, edit, out);
            JsonNode config = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
            assertEquals("LORA", config.get("peft_type").asText());
            assertEquals(3, config.get("r").asInt());
            assertEquals(6.0, config.get("lora_alpha").asDouble());
            double scaling = 6.0 / 3;
            Map<String, Tensor> delta = new HashMap<>();
            try (SafetensorsFile adapter = SafetensorsFile.open(out.resolve("adapter_model.safetensors"))) {
                for (JsonNode module : config.get("target_modules")) {
                    String p = "base_model.model." + module.asText();
                    Tensor a = tensor(adapter, p + ".lora_A.weight");                        // [r, in]
                    Tensor b = tensor(adapter, p + ".lora_B.weight");                        // [out, r]
                    // the adapter names modules as the base checkpoint does (qwen3_5-vl: model.language_model.…)
                    delta.put(m.config().checkpointNames().inScalpel(module.asText()) + ".weight", b.matmul(a).mul(new Scalar(scaling)));
                }
                assertEquals("L0H1,L1H2", adapter.metadata().get("scalpel.heads"));
            }
            LinearOverlay peft = (name, x, w, bias) -> LinearOverlay.plain(name, x, delta.containsKey(name) ? w.add(delta.get(name)) : w, bias);
            double diff = Logits.maxAbsDiff(edited, Logits.of(m.model(), IDS, peft));
            // fp32 rounding of x·W + x·Aᵀ·Bᵀ vs x·(W + B·A): ~1e-6 on attention models; a Gated DeltaNet (L2 norms,
            // decays, triangular solves) amplifies it to a few 1e-5
            System.out.println("peft formula " + fixture + ": max diff " + diff);
            assertTrue(diff < 1e-4, fixture + ": max diff " + diff);
        }
    }

    /**
     * A head-LoRA on value head 6 of a ragged hybrid's Gated DeltaNet layer (beyond the 4 attention heads) exports a PEFT
     * adapter whose update B·A is zero outside that head's slices: its 8 v rows and the 16 q and 16 k rows of its key
     * head in in_proj_qkvz, its 8 out_proj columns.
     */
    @Test
    void aHeadLoraOnARaggedValueHeadExportsAnAdapterZeroOutsideItsSlices(@TempDir Path out) throws IOException {
        try (LoadedModel m = LoadedModel.open(Fixtures.model("qwen3-next-ragged"), ComputeDevice.CPU);
             LoraEdit edit = LoraEdit.heads(m.model(), HeadSet.parse("L1H6", m.config().headGrid()), QKVO, 2, 4, 0, 1)) {
            randomize(edit);
            PeftAdapterExporter.write(m, edit, out);
            try (SafetensorsFile adapter = SafetensorsFile.open(out.resolve("adapter_model.safetensors"))) {
                String qkvz = "base_model.model.model.layers.1.linear_attn.in_proj_qkvz";
                Tensor rows = tensor(adapter, qkvz + ".lora_B.weight").matmul(tensor(adapter, qkvz + ".lora_A.weight")); // [128, 64]
                java.util.Set<Integer> own = new java.util.HashSet<>();
                java.util.stream.IntStream.range(96, 128).forEach(own::add);   // key head 1's q and k
                java.util.stream.IntStream.range(144, 152).forEach(own::add);  // value head 6's v
                float[] values = Tensors.toFloats(rows.abs().sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
                assertEquals(2L * 96, values.length);
                for (int r = 0; r < values.length; r++) {
                    assertEquals(own.contains(r), values[r] != 0, "row " + r + " of in_proj_qkvz: " + values[r]);
                }
                String o = "base_model.model.model.layers.1.linear_attn.out_proj";
                Tensor cols = tensor(adapter, o + ".lora_B.weight").matmul(tensor(adapter, o + ".lora_A.weight"));       // [64, 64]
                float[] perColumn = Tensors.toFloats(cols.abs().sum(new long[] {0}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
                for (int c = 0; c < perColumn.length; c++) {
                    assertEquals(c >= 48 && c < 56, perColumn[c] != 0, "column " + c + " of out_proj");
                }
                assertEquals("L1H6", adapter.metadata().get("scalpel.heads"));
            }
        }
    }

    private static Tensor tensor(SafetensorsFile f, String name) {
        return Tensors.floats(TensorFloats.toFloatArray(f.info(name), f.data(name)), ComputeDevice.CPU).view(f.info(name).shapeArray());
    }
}
