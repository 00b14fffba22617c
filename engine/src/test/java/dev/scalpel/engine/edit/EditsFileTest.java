package dev.scalpel.engine.edit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
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

class EditsFileTest {
    private static final long[][] IDS = {{0, 45, 301, 77, 12, 99, 250, 3}};

    @Test
    void editsRoundTripToIdenticalLogitsAndRefuseAnotherBaseModel(@TempDir Path tmp) {
        Path dir = Fixtures.model("llama-gqa");
        String hash = ModelHash.of(dir);
        try (CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
            List<Edit> edits = List.of(
                    LoraEdit.heads(model, HeadSet.of(new HeadId(1, 2)), List.of(HeadLayout.Projection.values()), 2, 4, 0, 1),
                    LoraEdit.modules(model, List.of("down_proj"), List.of(0), 3, Map.of(), 6, 0, 2),
                    HeadFinetuneEdit.of(model, HeadSet.of(new HeadId(0, 1)), List.of(HeadLayout.Projection.Q, HeadLayout.Projection.O), h -> 0.5));
            try (NoGradGuard g = new NoGradGuard()) {
                for (Edit e : edits) {
                    for (var t : e.trainables()) {
                        t.value().copy_(org.bytedeco.pytorch.global.torch.randn(Tensors.shape(t.value())).mul(new Scalar(0.05)));
                    }
                }
            }
            float[] before = Logits.of(model, IDS, new EditOverlay(edits));
            Path file = tmp.resolve("my.edits.json");
            EditsFile.write(file, hash, edits, java.util.List.of());
            assertEquals(2, dev.scalpel.engine.model.TensorPairFile.files(file).size(), "the JSON names its tensors file, which exists");
            List<Edit> reloaded = EditsFile.read(file, model, hash);
            assertEquals(3, reloaded.size());
            assertEquals(edits.get(2).metadata(), reloaded.get(2).metadata());
            assertArrayEquals(before, Logits.of(model, IDS, new EditOverlay(reloaded)), 0f);

            var e = assertThrows(ScalpelException.class, () -> EditsFile.read(file, model, "f".repeat(64)));
            assertTrue(e.getMessage().contains("were made for another base model"), e.getMessage());
            edits.forEach(Edit::close);
            reloaded.forEach(Edit::close);
        }
    }
}
