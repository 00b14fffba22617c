package dev.scalpel.engine.edit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.export.MergedCheckpointExporter;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.testing.Logits;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decay edit of Gated DeltaNet heads on the Qwen3.5 hybrid fixture (L0-L2 linear attention, L3 full). */
class DeltaNetDecayEditTest {
    private static final long[][] IDS = {{0, 45, 301, 77, 12, 99, 250, 3, 18, 400}};

    @Test
    void itChangesOnlyTheChosenHeadsDecayAndMergesIntoWhatTransformersLoads(@TempDir Path out) throws IOException {
        try (LoadedModel m = LoadedModel.open(Fixtures.model("qwen3_5-hybrid"), ComputeDevice.CPU);
             DeltaNetDecayEdit edit = DeltaNetDecayEdit.of(m.model(), HeadSet.parse("L0H1,L2H3", 4))) {
            float[] base = Logits.of(m.model(), IDS, LinearOverlay.NONE);
            assertArrayEquals(base, Logits.of(m.model(), IDS, new EditOverlay(List.of(edit))), "a fresh edit is the identity");
            assertEquals(4, edit.parameterCount());
            try (NoGradGuard g = new NoGradGuard()) {
                edit.trainables().forEach(t -> t.value().fill_(new Scalar(0.7)));
            }
            Tensor aLog = edit.denseDeltas(m.model().weights().asMap()).get("model.layers.0.linear_attn.A_log");
            assertArrayEquals(new float[] {0, 0.7f, 0, 0}, Tensors.toFloats(aLog), "only the chosen head moves");
            float[] edited = Logits.of(m.model(), IDS, new EditOverlay(List.of(edit)));
            assertTrue(Logits.maxAbsDiff(base, edited) > 1e-3, "the decay matters");
            MergedCheckpointExporter.write(m, List.of(edit), out, null);
            try (LoadedModel merged = LoadedModel.open(out, ComputeDevice.CPU)) {
                assertTrue(Logits.maxAbsDiff(edited, Logits.of(merged.model(), IDS, LinearOverlay.NONE)) < 1e-5);
            }
        }
    }

    @Test
    void anEditsFileKeepsIt(@TempDir Path dir) {
        try (LoadedModel m = LoadedModel.open(Fixtures.model("qwen3_5-hybrid"), ComputeDevice.CPU);
             DeltaNetDecayEdit edit = DeltaNetDecayEdit.of(m.model(), HeadSet.parse("L1H0", 4))) {
            try (NoGradGuard g = new NoGradGuard()) {
                edit.trainables().get(1).value().fill_(new Scalar(-0.4));
            }
            EditsFile.write(dir.resolve("e.json"), "hash", List.of(edit), List.of());
            List<Edit> read = EditsFile.read(dir.resolve("e.json"), m.model(), "hash");
            assertEquals("deltanet-decay", read.get(0).kind());
            assertArrayEquals(Logits.of(m.model(), IDS, new EditOverlay(List.of(edit))),
                    Logits.of(m.model(), IDS, new EditOverlay(read)));
            read.forEach(Edit::close);
        }
    }

    @Test
    void headsOfAnAttentionLayerAreRefused() {
        try (LoadedModel m = LoadedModel.open(Fixtures.model("qwen3_5-hybrid"), ComputeDevice.CPU)) {
            var e = assertThrows(ScalpelException.class, () -> DeltaNetDecayEdit.of(m.model(), HeadSet.parse("L3H0", 4)));
            assertTrue(e.getMessage().contains("L3 is not a Gated DeltaNet layer"), e.getMessage());
        }
    }
}
