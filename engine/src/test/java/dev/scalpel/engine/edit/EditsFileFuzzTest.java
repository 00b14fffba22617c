package dev.scalpel.engine.edit;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.scalpel.engine.testing.FuzzModel;
import dev.scalpel.engine.testing.HostileInput;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jazzer target: any edits file (manifest + tensors, see {@link HostileInput#writePair}) for the GQA fixture either
 * loads as edits under which the model's logits stay finite, or is refused with a readable message. Seeds: a head-LoRA
 * and an APOLLO-trained LoRA that scalpel train wrote ({@code EditsFileFuzzTestInputs}).
 */
class EditsFileFuzzTest {
    @TempDir
    static Path dir;

    @FuzzTest(maxExecutions = 1_000_000, maxDuration = "3h")
    void anyEditsFileAppliesOrIsRefused(byte[] input) throws IOException {
        Path json = HostileInput.writePair(input, dir.resolve("edits.json"), "edits.tensors.safetensors");
        HostileInput.readOrRefuse(() -> {
            List<Edit> edits = EditsFile.read(json, FuzzModel.model(), FuzzModel.hash());
            try {
                FuzzModel.requireFiniteLogits(new EditOverlay(edits), "edits file");
            } finally {
                edits.forEach(Edit::close);
            }
        });
    }
}
