package dev.scalpel.engine.model;

import dev.scalpel.engine.files.TestOutputs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.ShardedSafetensorsWriter;
import dev.scalpel.engine.model.safetensors.TensorSource;
import dev.scalpel.engine.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelHashTest {
    @TempDir
    Path dir;

    private Path copyFixture() throws IOException {
        Path source = Fixtures.model("llama-gqa");
        for (String name : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            Files.copy(source.resolve(name), dir.resolve(name), StandardCopyOption.COPY_ATTRIBUTES);
        }
        return dir;
    }

    /** SHA-256 of the files' bytes one after the other, computed independently of ModelHash. */
    private static String sha256Of(Path... files) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (Path file : files) {
            all.write(Files.readAllBytes(file));
        }
        return ModelHash.ofBytes(all.toByteArray());
    }

    private static void flipLastByte(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 1;   // the end of the last tensor's data: still a valid checkpoint
        Files.write(file, bytes);
    }

    @Test
    void hashesConfigThenWeights() throws IOException {
        Path model = copyFixture();

        String hash = ModelHash.of(model);

        assertTrue(hash.matches("[0-9a-f]{64}"), hash);
        assertEquals(sha256Of(model.resolve("config.json"), model.resolve("model.safetensors")), hash);
        assertEquals(hash, ModelHash.of(model));
        assertEquals(hash, ModelHash.of(model.resolve(".")));
    }

    @Test
    void tokenizerIsNotPartOfTheHash() throws IOException {
        Path model = copyFixture();
        String before = ModelHash.of(model);

        Files.writeString(model.resolve("tokenizer.json"), "{}");

        assertEquals(before, ModelHash.of(model));
    }

    @Test
    void changesWhenOneByteOfTheWeightsChanges() throws IOException {
        Path model = copyFixture();
        Path weights = model.resolve("model.safetensors");
        String before = ModelHash.of(model);
        FileTime modified = Files.getLastModifiedTime(weights);

        flipLastByte(weights);
        Files.setLastModifiedTime(weights, FileTime.fromMillis(modified.toMillis() + 2000));   // as a real save would
        String after = ModelHash.of(model);

        assertNotEquals(before, after);
        assertEquals(sha256Of(model.resolve("config.json"), weights), after);
    }

    @Test
    void remembersTheHashWhileSizeAndModificationTimeStayTheSame() throws IOException {
        Path model = copyFixture();
        Path weights = model.resolve("model.safetensors");
        FileTime modified = Files.getLastModifiedTime(weights);
        String before = ModelHash.of(model);

        flipLastByte(weights);
        Files.setLastModifiedTime(weights, modified);

        // same size and times: the remembered hash is returned without reading the files again
        assertEquals(before, ModelHash.of(model));
    }

    @Test
    void shardedCheckpointHashesIndexThenShardsByName() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\"}");
        Map<String, TensorSource> tensors = new LinkedHashMap<>();
        for (int t = 0; t < 3; t++) {
            tensors.put("t" + t, TensorSource.ofFloats(DType.F32, new long[] {4}, new float[] {t, t + 1, t + 2, t + 3}));
        }
        List<Path> written = ShardedSafetensorsWriter.write(TestOutputs.scratch(dir), dir, tensors, Map.of(), 40);   // 16-byte tensors: 2 per shard
        assertEquals(3, written.size(), written.toString());

        assertEquals(sha256Of(dir.resolve("config.json"), dir.resolve("model.safetensors.index.json"),
                dir.resolve("model-00001-of-00002.safetensors"), dir.resolve("model-00002-of-00002.safetensors")),
                ModelHash.of(dir));
    }

    @Test
    void folderWithoutConfigIsAnError() throws IOException {
        Path model = copyFixture();
        Files.delete(model.resolve("config.json"));

        ScalpelException e = assertThrows(ScalpelException.class, () -> ModelHash.of(model));
        assertTrue(e.getMessage().startsWith("No config.json in " + model), e.getMessage());
    }

    @Test
    void textAndByteHashes() {
        // FIPS 180-2 test vector for "abc"
        String abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assertEquals(abc, ModelHash.ofText("abc"));
        assertEquals(abc, ModelHash.ofBytes(new byte[] {'a', 'b', 'c'}));
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ModelHash.ofText(""));
        assertEquals("ba7816bf8f01", ModelHash.shortHash(abc));
        assertEquals("abc", ModelHash.shortHash("abc"));
    }
}
