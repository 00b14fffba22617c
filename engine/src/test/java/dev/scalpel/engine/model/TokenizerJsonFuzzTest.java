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
 * Jazzer target: any tokenizer.json either loads and encodes text into ids the model has, or is refused with a
 * readable message. Seeds: the fixtures' tokenizers ({@code TokenizerJsonFuzzTestInputs}).
 */
class TokenizerJsonFuzzTest {
    private static final String TEXT = "Der Hund läuft. The dog runs; le chien court — 12 ½ €";

    @TempDir
    static Path dir;
    private static ModelConfig config;

    @BeforeAll
    static void config() {
        config = ConfigReader.read(Fixtures.model("llama-gqa"));
    }

    @FuzzTest(maxExecutions = 1_000_000, maxDuration = "3h")
    void anyTokenizerEncodesOrIsRefused(byte[] input) throws IOException {
        Files.write(dir.resolve("tokenizer.json"), input);
        HostileInput.readOrRefuse(() -> {
            try (TextTokenizer tokenizer = TextTokenizer.load(dir, config)) {
                tokenizer.encodePrompt(TEXT);
            }
        });
    }
}
