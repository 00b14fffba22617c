package dev.scalpel.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.scalpel.engine.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** BOS as the family's Hugging Face tokenizer adds it: Llama, Mistral and Gemma do, Qwen, OLMo 2, Phi-3 do not. */
class TextTokenizerTest {
    @ParameterizedTest
    @CsvSource({"llama-gqa, true", "mistral, true", "gemma2, true", "gemma3-text, true", "qwen3, false", "olmo2, false",
            "phi3, false", "qwen3-moe, false"})
    void bosFollowsTheFamilyWithoutATokenizerConfig(String fixture, boolean addsBos) {
        Path dir = Fixtures.model(fixture);
        try (TextTokenizer tok = TextTokenizer.load(dir, ConfigReader.read(dir))) {
            assertEquals(addsBos ? Integer.valueOf(0) : null, tok.bosForPrompts(), fixture);
        }
    }

    @ParameterizedTest
    @CsvSource({"phi3, true", "gemma2, false"})
    void tokenizerConfigsAddBosTokenWins(String fixture, boolean addBos, @TempDir Path dir) throws IOException {
        Fixtures.copyOf(fixture, dir);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\": " + addBos + "}");
        try (TextTokenizer tok = TextTokenizer.load(dir, ConfigReader.read(dir))) {
            assertEquals(addBos ? Integer.valueOf(0) : null, tok.bosForPrompts(), fixture);
        }
    }
}
