package dev.scalpel.engine.groups;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.testing.FuzzModel;
import dev.scalpel.engine.testing.HostileInput;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jazzer target: any head group (manifest + tensors, see {@link HostileInput#writePair}) either swaps into the GQA
 * fixture leaving its logits finite, or is refused with a readable message. Seeds: a group
 * that scalpel heads extract wrote ({@code HeadGroupFuzzTestInputs}).
 */
class HeadGroupFuzzTest {
    @TempDir
    static Path dir;

    @FuzzTest(maxExecutions = 1_000_000, maxDuration = "3h")
    void anyHeadGroupSwapsInOrIsRefused(byte[] input) throws IOException {
        Path json = HostileInput.writePair(input, dir.resolve("group.json"), "group.tensors.safetensors");
        HostileInput.readOrRefuse(() -> {
            HeadGroup group = HeadGroup.read(json, ComputeDevice.CPU);
            try (HeadGroupRegistry registry = new HeadGroupRegistry(FuzzModel.model())) {   // close() swaps it out again
                registry.apply(group, HeadGroupRegistry.OnConflict.CANCEL);
                FuzzModel.requireFiniteLogits(null, "head group");
            } finally {
                group.close();
            }
        });
    }
}
