package dev.scalpel.engine.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reads the tiny models Hugging Face transformers saved into {@code fixtures/models/} (each test is
 * skipped where its fixture has not been generated) and checks tensor shapes and dtypes against each
 * model's config.json. These files come from the reference writer, so they also prove that the strict
 * validation accepts what the Python library writes.
 */
class SafetensorsFixtureTest {
    private static final Path MODELS = Path.of("fixtures", "models");
    private static final Map<String, DType> TORCH_DTYPES = Map.of("float32", DType.F32, "float16", DType.F16, "bfloat16", DType.BF16);

    /** {@code fixtures/models/<name>}, looked for from the working directory upwards (Maven runs tests in engine/). */
    private static Optional<Path> fixture(String name) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(MODELS).resolve(name);
            if (Files.isRegularFile(candidate.resolve("config.json"))) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-gqa", "llama-f16-sharded", "qwen2-bf16", "llama3-tied", "mistral", "qwen2", "qwen3"})
    void attentionShapesAndDtypeMatchTheConfig(String name) throws IOException {
        Optional<Path> found = fixture(name);
        Assumptions.assumeTrue(found.isPresent(), "fixtures/models/" + name + " not generated");
        Path dir = found.get();
        JsonNode config = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        long hidden = config.path("hidden_size").asLong();
        long heads = config.path("num_attention_heads").asLong();
        long kvHeads = config.path("num_key_value_heads").asLong(heads);
        long headDim = config.path("head_dim").asLong(hidden / heads);
        long vocab = config.path("vocab_size").asLong();
        int layers = config.path("num_hidden_layers").asInt();
        DType dtype = TORCH_DTYPES.get(config.path("dtype").asText(config.path("torch_dtype").asText()));

        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
            TensorInfo embed = checkpoint.info("model.embed_tokens.weight");
            assertEquals(List.of(vocab, hidden), embed.shape());
            assertEquals(dtype, embed.dtype());
            String last = "model.layers." + (layers - 1) + ".self_attn.";
            assertEquals(List.of(heads * headDim, hidden), checkpoint.info(last + "q_proj.weight").shape());
            assertEquals(List.of(kvHeads * headDim, hidden), checkpoint.info(last + "k_proj.weight").shape());
            assertEquals(List.of(kvHeads * headDim, hidden), checkpoint.info(last + "v_proj.weight").shape());
            assertEquals(List.of(hidden, heads * headDim), checkpoint.info(last + "o_proj.weight").shape());

            float[] norm = TensorFloats.toFloatArray(checkpoint.info("model.norm.weight"), checkpoint.data("model.norm.weight"));
            assertEquals(hidden, norm.length);
            for (float w : norm) {
                assertTrue(Float.isFinite(w) && w != 0f, "norm weight " + w);
            }
        }
    }

    @Test
    void theShardedFixtureIsReadThroughItsIndex() {
        Optional<Path> found = fixture("llama-f16-sharded");
        Assumptions.assumeTrue(found.isPresent(), "fixtures/models/llama-f16-sharded not generated");

        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(found.get())) {
            assertEquals(3, checkpoint.files().size());
            assertEquals("model-00003-of-00003.safetensors", checkpoint.files().get(0).getFileName().toString(),
                    "shards in the order the index first names them (lm_head.weight sorts first)");
            assertTrue(checkpoint.contains("lm_head.weight"));
        }
    }

    @Test
    void everyFixtureFileOpensAndEveryTensorReads() throws IOException {
        Optional<Path> anyModel = fixture("llama-gqa");
        Assumptions.assumeTrue(anyModel.isPresent(), "fixtures/models not generated");
        List<Path> files;
        try (Stream<Path> walk = Files.walk(anyModel.get().getParent())) {
            files = walk.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
        assertFalse(files.isEmpty());

        for (Path file : files) {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                assertFalse(f.tensorNames().isEmpty(), file + " has tensors");
                for (String name : f.tensorNames()) {
                    TensorInfo info = f.info(name);
                    assertEquals(info.byteLength(), f.data(name).remaining(), file + " " + name);
                    if (TensorFloats.SUPPORTED.contains(info.dtype())) {
                        assertEquals(info.numel(), TensorFloats.toFloatArray(info, f.data(name)).length);
                    }
                }
            }
        }
    }
}
