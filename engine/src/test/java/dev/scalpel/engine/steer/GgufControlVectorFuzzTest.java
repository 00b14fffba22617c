package dev.scalpel.engine.steer;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.scalpel.engine.testing.FuzzModel;
import dev.scalpel.engine.testing.HostileInput;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jazzer target: any GGUF file given as a control vector either becomes steering hooks for the GQA fixture or is
 * refused with a readable message. Seeds: a vector that scalpel vectors steer wrote ({@code GgufControlVectorFuzzTestInputs}).
 */
class GgufControlVectorFuzzTest {
    @TempDir
    static Path dir;

    @FuzzTest(maxExecutions = 1_000_000, maxDuration = "3h")
    void anyControlVectorSteersOrIsRefused(byte[] input) throws IOException {
        Path file = dir.resolve("vector.gguf");
        Files.write(file, input);
        HostileInput.readOrRefuse(() -> GgufControlVector.read(file).hooks(1.0, FuzzModel.model()));
    }
}
