package dev.scalpel.engine.edit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.components.RankOneDecomposition;
import dev.scalpel.engine.components.SpdImport;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.SafetensorsWriter;
import dev.scalpel.engine.model.safetensors.TensorSource;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.testing.Logits;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrefactorEditTest {
    private static final String MODULE = "model.layers.1.self_attn.v_proj";
    private static final long[][] IDS = {{0, 45, 301, 77, 12, 99, 250, 3}};
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

    @Test
    void prefactorOneIsTheUnmodifiedModelAndZeroRemovesTheComponent() {
        try (RankOneDecomposition d = RankOneDecomposition.svd(MODULE, model.weights().get(MODULE + ".weight"), 4);
             PrefactorEdit edit = PrefactorEdit.of(d, List.of(2), "svd")) {
            assertArrayEquals(logits(LinearOverlay.NONE), logits(new EditOverlay(List.of(edit))), 0f);
            edit.setAll(0);
            Tensor component = d.component(2);
            LinearOverlay removed = (name, x, w, b) -> LinearOverlay.plain(name, x, name.equals(MODULE + ".weight") ? w.sub(component) : w, b);
            float[] expected = logits(removed);
            assertArrayEquals(expected, logits(new EditOverlay(List.of(edit))), 1e-5f);
            assertTrue(Logits.maxAbsDiff(expected, logits(LinearOverlay.NONE)) > 1e-4, "removing a component changes the output");
        }
    }

    @Test
    void prefactorsRoundTripThroughAnEditsFile(@TempDir Path tmp) {
        String hash = ModelHash.of(Fixtures.model("llama-gqa"));
        try (RankOneDecomposition d = RankOneDecomposition.svd(MODULE, model.weights().get(MODULE + ".weight"), 4);
             PrefactorEdit edit = PrefactorEdit.of(d, List.of(0, 3), "svd")) {
            try (NoGradGuard g = new NoGradGuard()) {
                edit.trainables().get(0).value().copy_(Tensors.floats(new float[] {0.25f, 1.7f}, ComputeDevice.CPU));
            }
            float[] before = logits(new EditOverlay(List.of(edit)));
            EditsFile.write(tmp.resolve("p.json"), hash, List.of(edit), List.of());
            List<Edit> back = EditsFile.read(tmp.resolve("p.json"), model, hash);
            assertArrayEquals(before, logits(new EditOverlay(back)), 0f);
            assertArrayEquals(new float[] {0.25f, 1.7f}, ((PrefactorEdit) back.get(0)).prefactors());
            back.forEach(Edit::close);
        }
    }

    @Test
    void spdImportReadsTheNamedComponentsAndReportsTheResidual(@TempDir Path tmp) {
        Tensor w = model.weights().get(MODULE + ".weight");                       // [32, 64] = [d_out, d_in]
        try (RankOneDecomposition svd = RankOneDecomposition.svd(MODULE, w, 32)) {
            // SPD convention: W ≈ (V·U)ᵀ with V [d_in, C], U [C, d_out]: V = v·diag(σ), U = uᵀ.
            Tensor v = svd.v().mul(svd.sigma().unsqueeze(0));
            Tensor u = svd.u().t().contiguous();
            Map<String, TensorSource> tensors = new LinkedHashMap<>();
            tensors.put("_components.model-layers-1-self_attn-v_proj.V", TensorSource.ofFloats(DType.F32, new long[] {64, 32}, Tensors.toFloats(v)));
            tensors.put("_components.model-layers-1-self_attn-v_proj.U", TensorSource.ofFloats(DType.F32, new long[] {32, 32}, Tensors.toFloats(u)));
            SafetensorsWriter.write(tmp.resolve("spd.safetensors"), tensors);
            SpdImport.Result result = SpdImport.read(tmp.resolve("spd.safetensors"), model);
            assertEquals(1, result.decompositions().size());
            assertEquals(MODULE, result.decompositions().get(0).module());
            assertEquals(0.0, result.relativeResidual().get(MODULE), 1e-5, "a full decomposition leaves no residual");
            result.decompositions().forEach(RankOneDecomposition::close);

            tensors.put("_components.model-layers-1-self_attn-v_proj.V", TensorSource.ofFloats(DType.F32, new long[] {63, 32}, new float[63 * 32]));
            SafetensorsWriter.write(tmp.resolve("bad.safetensors"), tensors);
            var e = assertThrows(ScalpelException.class, () -> SpdImport.read(tmp.resolve("bad.safetensors"), model));
            assertTrue(e.getMessage().contains("has shape [63, 32], but module " + MODULE + " needs [64, C]"), e.getMessage());
        }
    }
}
