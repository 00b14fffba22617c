package dev.scalpel.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigReaderTest {

    @Test
    void readsEveryFixtureArchitectureWithItsDistinguishingFields() {
        ModelConfig gqa = ConfigReader.read(Fixtures.model("llama-gqa"));
        assertEquals(Architecture.LLAMA, gqa.architecture());
        assertEquals(4, gqa.numHeads());
        assertEquals(2, gqa.numKvHeads());
        assertEquals(16, gqa.headDim(), "head_dim derived as hidden / heads");
        assertFalse(gqa.tieWordEmbeddings());
        assertNull(gqa.ropeScaling());

        ModelConfig l3 = ConfigReader.read(Fixtures.model("llama3-tied"));
        assertEquals(32, l3.headDim(), "explicit head_dim wins over hidden / heads");
        assertTrue(l3.tieWordEmbeddings());
        assertNotNull(l3.ropeScaling());
        assertEquals(8.0, l3.ropeScaling().factor());
        assertEquals(500000.0, l3.ropeTheta());

        ModelConfig q2 = ConfigReader.read(Fixtures.model("qwen2"));
        assertEquals(new LinearBiases(true, false, false), q2.biases(), "Qwen2 always has q/k/v bias, never o_proj");
        ModelConfig q3 = ConfigReader.read(Fixtures.model("qwen3"));
        assertEquals(DecoderStyle.QkNorm.PER_HEAD, q3.style().qkNorm());
        assertEquals(24, q3.headDim());
        ModelConfig g = ConfigReader.read(Fixtures.model("gpt2"));
        assertEquals(Architecture.GPT2, g.architecture());
        assertEquals(256, g.intermediateSize(), "n_inner null means 4 × n_embd");
        assertEquals(List.of(1), g.eosTokenIds());
    }

    @Test
    void llama3ScalingDividesLongWavelengthsAndKeepsShortOnes() {
        RopeScaling s = new RopeScaling(8, 1, 4, 32);
        double[] inv = {1.0, 0.5, 2 * Math.PI / 20, 0.01};   // wavelengths 6.3, 12.6, 20, 628
        double[] scaled = s.scale(inv);
        assertEquals(1.0, scaled[0], 1e-12, "wavelength < 32/4 = 8 stays");
        assertEquals(0.01 / 8, scaled[3], 1e-12, "wavelength > 32 is divided by the factor");
        double smooth = (32 / 20.0 - 1) / (4 - 1);
        assertEquals((1 - smooth) * inv[2] / 8 + smooth * inv[2], scaled[2], 1e-12, "in between: blended");
    }

    @Test
    void readsTheTransformers4SpellingOfLlama3RopeScaling(@TempDir Path dir) throws IOException {
        // As in Llama 3.1/3.2 hub configs: top-level rope_theta and a rope_scaling object.
        Files.writeString(dir.resolve("config.json"), """
                {"model_type": "llama", "vocab_size": 128256, "hidden_size": 2048, "num_hidden_layers": 16,
                 "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 8192,
                 "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "max_position_embeddings": 131072,
                 "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                  "original_max_position_embeddings": 8192, "rope_type": "llama3"},
                 "tie_word_embeddings": true, "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009]}
                """);
        ModelConfig c = ConfigReader.read(dir);
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(new RopeScaling(32, 1, 4, 8192), c.ropeScaling());
        assertEquals(64, c.headDim());
        assertEquals(List.of(128001, 128008, 128009), c.eosTokenIds());
        assertTrue(c.isEos(128009));
    }

    @Test
    void aMultimodalQwen35IsReadAsItsTextModelAndItsWrapperKeysAreChecked(@TempDir Path dir) throws IOException {
        ModelConfig vl = ConfigReader.read(Fixtures.model("qwen3_5-vl"));
        assertEquals(Architecture.QWEN3_5_TEXT, vl.architecture());
        assertEquals("model.language_model.", vl.checkpointNames().textPrefix());
        assertEquals(CheckpointNames.CAUSAL_LM, ConfigReader.read(Fixtures.model("qwen3_5-hybrid")).checkpointNames());

        var root = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(Fixtures.model("qwen3_5-vl").resolve("config.json").toFile());
        root.put("audio_token_id", 7);
        Files.writeString(dir.resolve("config.json"), root.toString());
        var e = assertThrows(ScalpelException.class, () -> ConfigReader.read(dir));
        assertTrue(e.getMessage().contains("[audio_token_id]") && e.getMessage().contains("refused"), e.getMessage());

        root.remove("audio_token_id");
        root.remove("text_config");
        Files.writeString(dir.resolve("config.json"), root.toString());
        e = assertThrows(ScalpelException.class, () -> ConfigReader.read(dir));
        assertTrue(e.getMessage().contains("has no text_config object"), e.getMessage());
    }

    @Test
    void unknownArchitectureNamesWhatIsSupported(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"mamba\", \"architectures\": [\"MambaForCausalLM\"]}");
        var e = assertThrows(ScalpelException.class, () -> ConfigReader.read(dir));
        assertTrue(e.getMessage().contains("Unknown architecture 'mamba'"), e.getMessage());
        assertTrue(e.getMessage().contains("Scalpel runs llama, mistral, qwen2, qwen3, qwen3_moe, qwen3_5_text, qwen3_next, olmo2, gemma2, gemma3_text, phi3, gpt2."), e.getMessage());
    }

    @Test
    void unsupportedRopeScalingIsRefusedClearly(@TempDir Path dir) throws IOException {
        String config = Files.readString(Fixtures.model("llama-gqa").resolve("config.json"))
                .replace("\"rope_type\": \"default\"", "\"rope_type\": \"yarn\", \"factor\": 4.0");
        Files.writeString(dir.resolve("config.json"), config);
        var e = assertThrows(ScalpelException.class, () -> ConfigReader.read(dir));
        assertTrue(e.getMessage().contains("Unsupported rope_scaling type 'yarn'"), e.getMessage());
    }

    @Test
    void missingFolderAndMissingOrBrokenConfigAreOneSentenceEach(@TempDir Path dir) throws IOException {
        var missing = assertThrows(ScalpelException.class, () -> ConfigReader.read(dir.resolve("nope")));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        var noConfig = assertThrows(ScalpelException.class, () -> ConfigReader.read(dir));
        assertTrue(noConfig.getMessage().startsWith("No config.json in"), noConfig.getMessage());
        Files.writeString(dir.resolve("config.json"), "{not json");
        var broken = assertThrows(ScalpelException.class, () -> ConfigReader.read(dir));
        assertTrue(broken.getMessage().contains("is not valid JSON"), broken.getMessage());
    }

    @Test
    void headsThatDoNotDivideIntoKvGroupsAreRejected(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), Files.readString(Fixtures.model("llama-gqa").resolve("config.json"))
                .replaceAll("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"));
        var e = assertThrows(ScalpelException.class, () -> ConfigReader.read(dir));
        assertTrue(e.getMessage().contains("must be a multiple of num_key_value_heads (3)"), e.getMessage());
    }
}
