package dev.scalpel.engine.model.safetensors;

import dev.scalpel.engine.files.TestOutputs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsCheckpointTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** Five F32 tensors of 16 floats (64 bytes) each, t0 holding 0..15, t1 16..31 and so on. */
    private static Map<String, TensorSource> fiveTensors() {
        Map<String, TensorSource> tensors = new LinkedHashMap<>();
        for (int t = 0; t < 5; t++) {
            float[] values = new float[16];
            for (int i = 0; i < 16; i++) {
                values[i] = t * 16 + i;
            }
            tensors.put("t" + t, TensorSource.ofFloats(DType.F32, new long[] {4, 4}, values));
        }
        return tensors;
    }

    private List<String> folder() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
        }
    }

    @Test
    void shardedRoundTripThroughTheIndex() throws IOException {
        // 150 bytes a shard: two 64-byte tensors fit, a third would not, so 5 tensors make 3 shards.
        List<Path> written = ShardedSafetensorsWriter.write(TestOutputs.scratch(dir), dir, fiveTensors(), Map.of("format", "pt"), 150);

        assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors", "model.safetensors.index.json"),
                written.stream().map(p -> p.getFileName().toString()).toList());
        JsonNode index = JSON.readTree(dir.resolve("model.safetensors.index.json").toFile());
        assertEquals(320, index.path("metadata").path("total_size").asLong());
        assertEquals("model-00002-of-00003.safetensors", index.path("weight_map").path("t3").asText());
        assertEquals("model-00003-of-00003.safetensors", index.path("weight_map").path("t4").asText());

        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
            assertEquals(List.of("t0", "t1", "t2", "t3", "t4"), checkpoint.names());
            assertEquals(written.subList(0, 3), checkpoint.files());
            assertTrue(checkpoint.contains("t4"));
            assertFalse(checkpoint.contains("t5"));
            for (int t = 0; t < 5; t++) {
                TensorInfo info = checkpoint.info("t" + t);
                assertEquals(List.of(4L, 4L), info.shape());
                assertEquals(t % 2 == 0 ? 0 : 64, info.begin(), "offsets are within the shard");
                float[] values = TensorFloats.toFloatArray(info, checkpoint.data("t" + t));
                assertEquals(t * 16, values[0]);
                assertEquals(t * 16 + 15, values[15]);
            }
        }
        try (SafetensorsFile shard = SafetensorsFile.open(written.get(1))) {
            assertEquals(List.of("t2", "t3"), shard.tensorNames());
            assertEquals(Map.of("format", "pt"), shard.metadata());
        }
    }

    @Test
    void aTensorLargerThanTheShardLimitGetsAShardOfItsOwn() {
        Map<String, TensorSource> tensors = new LinkedHashMap<>();
        tensors.put("small", TensorSource.ofFloats(DType.F32, new long[] {2}, new float[2]));
        tensors.put("huge", TensorSource.ofFloats(DType.F32, new long[] {100}, new float[100]));
        tensors.put("tail", TensorSource.ofFloats(DType.F32, new long[] {2}, new float[2]));

        List<Map<String, TensorSource>> shards = ShardedSafetensorsWriter.plan(tensors, 64);

        assertEquals(List.of(List.of("small"), List.of("huge"), List.of("tail")),
                shards.stream().map(s -> List.copyOf(s.keySet())).toList());
    }

    @Test
    void oneShardIsWrittenAsModelSafetensorsWithoutAnIndex() throws IOException {
        List<Path> written = ShardedSafetensorsWriter.write(TestOutputs.scratch(dir), dir, fiveTensors(), Map.of(), 10_000);

        assertEquals(List.of(dir.resolve("model.safetensors")), written);
        assertEquals(List.of("model.safetensors"), folder());
        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
            assertEquals(5, checkpoint.names().size());
            assertEquals(List.of(dir.resolve("model.safetensors")), checkpoint.files());
        }
    }

    @Test
    void savingAgainReplacesTheEarlierCheckpointFilesOnly() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{}");
        Files.write(dir.resolve("adapter_model.safetensors"), new byte[8]);
        ShardedSafetensorsWriter.write(TestOutputs.scratch(dir), dir, fiveTensors(), Map.of(), 150);

        ShardedSafetensorsWriter.write(TestOutputs.scratch(dir), dir, fiveTensors(), Map.of(), 10_000);
        assertEquals(List.of("adapter_model.safetensors", "config.json", "model.safetensors"), folder());

        ShardedSafetensorsWriter.write(TestOutputs.scratch(dir), dir, fiveTensors(), Map.of(), 200);
        assertEquals(List.of("adapter_model.safetensors", "config.json", "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors", "model.safetensors.index.json"), folder());
    }

    @Test
    void missingShardIsNamed() throws IOException {
        ShardedSafetensorsWriter.write(TestOutputs.scratch(dir), dir, fiveTensors(), Map.of(), 150);
        Files.delete(dir.resolve("model-00002-of-00003.safetensors"));

        var e = assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(dir));

        assertMentions(e.getMessage(), "Shard model-00002-of-00003.safetensors is missing from " + dir, "tensor 't2'", "incomplete");
    }

    @Test
    void aTensorTheIndexPutsInTheWrongShardIsReported() throws IOException {
        ShardedSafetensorsWriter.write(TestOutputs.scratch(dir), dir, fiveTensors(), Map.of(), 150);
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, Files.readString(index).replace(
                "\"t4\" : \"model-00003-of-00003.safetensors\"", "\"t4\" : \"model-00001-of-00003.safetensors\""));

        var e = assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(dir));

        assertMentions(e.getMessage(), index.toString(), "tensor 't4' is in model-00001-of-00003.safetensors", "has no such tensor");
    }

    @Test
    void brokenIndexFiles() throws IOException {
        Path index = dir.resolve("model.safetensors.index.json");

        Files.writeString(index, "{\"weight_map\": {");
        assertMentions(assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(dir)).getMessage(),
                index.toString(), "not valid JSON");

        Files.writeString(index, "{\"metadata\": {}}");
        assertMentions(assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(dir)).getMessage(),
                "no \"weight_map\"");

        Files.writeString(index, "{\"weight_map\": {\"w\": 3}}");
        assertMentions(assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(dir)).getMessage(),
                "tensor 'w'", "not a file name");

        Files.writeString(index, "{\"weight_map\": {\"w\": \"../outside.safetensors\"}}");
        assertMentions(assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(dir)).getMessage(),
                "'../outside.safetensors'", "not a file name in the model folder");
    }

    @Test
    void aBrokenShardIsReportedWithItsOwnName() throws IOException {
        ShardedSafetensorsWriter.write(TestOutputs.scratch(dir), dir, fiveTensors(), Map.of(), 150);
        Path shard = dir.resolve("model-00003-of-00003.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        Files.write(shard, java.util.Arrays.copyOf(bytes, bytes.length - 1));

        var e = assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(dir));

        assertMentions(e.getMessage(), shard.toString(), "tensor 't4'", "truncated");
    }

    @Test
    void aFolderWithoutSafetensorsSaysHowToConvert() throws IOException {
        Files.write(dir.resolve("pytorch_model.bin"), new byte[4]);

        var e = assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(dir));

        assertMentions(e.getMessage(), "No model.safetensors or model.safetensors.index.json in " + dir, "(it has pytorch_model.bin)",
                "Scalpel reads Hugging Face safetensors checkpoints", "safe_serialization=True");
    }

    @Test
    void aPathThatIsNotAFolder() throws IOException {
        Path file = Files.write(dir.resolve("model.safetensors"), new byte[4]);

        var e = assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(file));

        assertMentions(e.getMessage(), file + " is not a folder");
    }

    @Test
    void missingTensorNamesTheFolderAndTheNearestNames() throws IOException {
        ShardedSafetensorsWriter.write(TestOutputs.scratch(dir), dir, fiveTensors(), Map.of(), 150);

        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
            var e = assertThrows(SafetensorsException.class, () -> checkpoint.data("t9"));
            assertMentions(e.getMessage(), "No tensor 't9'", dir.toString(), "nearest names are 't0', 't1', 't2'");
        }
    }

    @Test
    void modelSafetensorsWinsOverAnIndexLikeInTransformers() throws IOException {
        ShardedSafetensorsWriter.write(TestOutputs.scratch(dir), dir, fiveTensors(), Map.of(), 150);
        SafetensorsWriter.write(dir.resolve("model.safetensors"),
                Map.of("single", TensorSource.ofFloats(DType.BF16, new long[] {1}, new float[] {1f})));

        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
            assertEquals(List.of("single"), checkpoint.names());
        }
    }

    @Test
    void closingTheCheckpointClosesItsFiles() throws IOException {
        ShardedSafetensorsWriter.write(TestOutputs.scratch(dir), dir, fiveTensors(), Map.of(), 150);
        SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir);
        float[] before = TensorFloats.toFloatArray(checkpoint.info("t1"), checkpoint.data("t1"));

        checkpoint.close();

        assertThrows(IllegalStateException.class, () -> checkpoint.data("t3"));
        assertArrayEquals(new float[] {16f, 17f}, new float[] {before[0], before[1]});
    }
}
