package dev.scalpel.engine.model;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.testing.HostileInput;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jazzer target: any config.json beside a real checkpoint (the GQA fixture's weights) either loads as a model or is
 * refused with a readable message. Seeds: every fixture's config ({@code ConfigJsonFuzzTestInputs}).
 */
class ConfigJsonFuzzTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void weights() throws IOException {
        Files.copy(Fixtures.model("llama-gqa").resolve("model.safetensors"), dir.resolve("model.safetensors"));
    }

    @FuzzTest(maxExecutions = 1_000_000, maxDuration = "3h")
    void anyConfigLoadsOrIsRefused(byte[] input) throws IOException {
        Files.write(dir.resolve("config.json"), input);
        HostileInput.readOrRefuse(() -> {
            ModelConfig config = ConfigReader.read(dir);
            try (CausalLM model = ModelLoader.load(dir, ComputeDevice.CPU)) {
                if (model.config().numLayers() != config.numLayers()) {
                    throw new AssertionError("the model has another layer count than its config");
                }
            }
        });
    }
}
