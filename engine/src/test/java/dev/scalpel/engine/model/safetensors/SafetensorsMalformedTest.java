package dev.scalpel.engine.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way a file can be broken gives a SafetensorsException that names the file and says what is wrong. */
class SafetensorsMalformedTest {
    @TempDir
    Path dir;

    private static final String ONE_TENSOR = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";

    /** Opens {@code content} as a file and returns the message of the SafetensorsException it must give. */
    private String failure(byte[] content) throws IOException {
        Path file = RawFiles.write(dir, "broken.safetensors", content);
        var e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(file).close());
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        return e.getMessage();
    }

    private String failure(String header, int dataBytes) throws IOException {
        return failure(RawFiles.bytes(header, new byte[dataBytes]));
    }

    private static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
        }
    }

    @Test
    void aWellFormedFileOpens() throws IOException {
        // The baseline every broken variant below departs from.
        Path file = RawFiles.write(dir, "ok.safetensors", RawFiles.bytes(ONE_TENSOR, new byte[16]));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(4, f.info("w").numel());
        }
    }

    @Test
    void fileShorterThanTheLengthPrefix() throws IOException {
        assertMentions(failure(new byte[5]), "only 5 bytes", "shorter than the 8-byte header length");
        assertMentions(failure(new byte[0]), "only 0 bytes");
    }

    @Test
    void hugeHeaderLength() throws IOException {
        assertMentions(failure(RawFiles.withLengthPrefix(1L << 40, new byte[64])), "huge header length 1099511627776", "limit is 100000000");
        assertMentions(failure(RawFiles.withLengthPrefix(-1L, new byte[64])), "huge header length 18446744073709551615");
    }

    @Test
    void headerLimitIsConfigurable() throws IOException {
        Path file = RawFiles.write(dir, "small-limit.safetensors", RawFiles.bytes(ONE_TENSOR, new byte[16]));

        var e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(file, 32));

        assertMentions(e.getMessage(), "huge header length " + ONE_TENSOR.length(), "limit is 32");
    }

    @Test
    void headerLengthPastTheEndOfTheFile() throws IOException {
        assertMentions(failure(RawFiles.withLengthPrefix(100, new byte[20])), "header length 100", "runs past the end of the file (28 bytes)");
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        assertMentions(failure("{\"w\": {\"dtype\": ", 0), "not valid JSON");
        assertMentions(failure("{} trailing", 0), "not valid JSON");
        assertMentions(failure(new String(new char[] {'{', '}'}) + "\u0000", 0), "not valid JSON");
        assertMentions(failure("[1, 2]", 0), "not a JSON object");
        assertMentions(failure("", 0), "not a JSON object");
        assertMentions(failure(RawFiles.bytes(new byte[] {'{', '"', (byte) 0xc3, '"', '}'}, new byte[0])), "not valid UTF-8");
    }

    @Test
    void duplicateTensorNames() throws IOException {
        String twice = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        assertMentions(failure(twice, 8), "not valid JSON", "Duplicate field 'w'");
    }

    @Test
    void entryMissingAField() throws IOException {
        assertMentions(failure("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "tensor 'w'", "no \"dtype\"");
        assertMentions(failure("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "tensor 'w'", "no \"shape\"");
        assertMentions(failure("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "tensor 'w'", "no \"data_offsets\"");
        assertMentions(failure("{\"w\":[1]}", 0), "tensor 'w'", "not an object");
    }

    @Test
    void unknownDtype() throws IOException {
        String message = failure("{\"w\":{\"dtype\":\"F12\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        assertMentions(message, "tensor 'w'", "unknown dtype 'F12'", "BF16");
        assertMentions(failure("{\"w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "unknown dtype 'f32'");
    }

    @Test
    void badShapes() throws IOException {
        assertMentions(failure("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,4]}}", 4), "tensor 'w'", "negative dimension");
        assertMentions(failure("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4), "other than whole numbers");
        assertMentions(failure("{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4),
                "other than whole numbers");
        assertMentions(failure("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4),
                "more elements than a file can hold");
    }

    @Test
    void offsetsThatAreNotABeginEndPair() throws IOException {
        assertMentions(failure("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8), "tensor 'w'", "[8, 4]",
                "need begin <= end");
        assertMentions(failure("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4), "two non-negative whole numbers");
        assertMentions(failure("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4), "two non-negative whole numbers");
    }

    @Test
    void truncatedData() throws IOException {
        byte[] whole = RawFiles.bytes(ONE_TENSOR, new byte[16]);

        String message = failure(Arrays.copyOf(whole, whole.length - 8));

        assertMentions(message, "tensor 'w'", "ends at byte 16", "holds only 8 bytes", "truncated");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[1000,1016]}}";
        assertMentions(failure(header, 32), "tensor 'b'", "ends at byte 1016", "holds only 32 bytes");
    }

    @Test
    void shapeAndByteLengthDisagree() throws IOException {
        assertMentions(failure("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", 8),
                "tensor 'w'", "size mismatch", "needs 16 bytes", "span 8 bytes");
        assertMentions(failure("{\"w\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,12]}}", 12),
                "needs 6 bytes", "span 12 bytes");
    }

    @Test
    void overlappingTensors() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}";
        assertMentions(failure(header, 24), "'a' and 'b' overlap", "begins at byte 8", "ends at byte 16");
    }

    @Test
    void holesInTheDataSection() throws IOException {
        String gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[20,36]}}";
        assertMentions(failure(gap, 36), "gap of 4 bytes before tensor 'b'", "without holes");
        assertMentions(failure("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "gap of 4 bytes before tensor 'w'");
        assertMentions(failure(RawFiles.bytes(ONE_TENSOR, new byte[20])), "holds 20 bytes", "cover only the first 16");
    }

    @Test
    void metadataMustBeStrings() throws IOException {
        assertMentions(failure("{\"__metadata__\":{\"epoch\":3}," + ONE_TENSOR.substring(1), 16), "metadata key 'epoch'", "non-string");
        assertMentions(failure("{\"__metadata__\":[1]," + ONE_TENSOR.substring(1), 16), "__metadata__");
    }

    @Test
    void tensorsMayBeListedInAnyOrderAndMetadataMayBeNull() throws IOException {
        String header = "{\"__metadata__\":null,\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"empty\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[4,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        Path file = RawFiles.write(dir, "unordered.safetensors", RawFiles.bytes(header, RawFiles.f32(1f, 2f)));

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(java.util.List.of("a", "empty", "b"), f.tensorNames(), "file order is data order");
            assertEquals(Map.of(), f.metadata());
            assertEquals(2f, f.data("b").getFloat(0));
        }
    }

    @Test
    void missingTensorListsTheNearestNames() throws IOException {
        Map<String, TensorSource> tensors = new LinkedHashMap<>();
        for (String name : new String[] {"model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                "model.layers.0.mlp.up_proj.weight", "model.embed_tokens.weight", "lm_head.weight"}) {
            tensors.put(name, TensorSource.ofFloats(DType.F32, new long[] {1}, new float[] {0f}));
        }
        Path file = dir.resolve("names.safetensors");
        SafetensorsWriter.write(file, tensors);

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            var e = assertThrows(SafetensorsException.class, () -> f.info("model.layers.0.attn.q_proj.weight"));
            assertMentions(e.getMessage(), "No tensor 'model.layers.0.attn.q_proj.weight'", file.toString(),
                    "nearest names are 'model.layers.0.self_attn.q_proj.weight', ");
            String suggestions = e.getMessage().substring(e.getMessage().indexOf("nearest names are"));
            assertEquals(3, suggestions.split("'model\\.").length - 1, "three suggestions: " + suggestions);
            assertTrue(!e.getMessage().contains("lm_head"), "the farthest name is not suggested: " + e.getMessage());
            assertThrows(SafetensorsException.class, () -> f.data("lm_head"));
        }
    }

    @Test
    void missingFile() {
        Path file = dir.resolve("nope.safetensors");

        var e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(file));

        assertMentions(e.getMessage(), file.toString(), "no such file");
    }

    @Test
    void dataAfterCloseIsAProgrammingError() throws IOException {
        Path file = RawFiles.write(dir, "ok.safetensors", RawFiles.bytes(ONE_TENSOR, new byte[16]));
        SafetensorsFile f = SafetensorsFile.open(file);
        f.close();

        assertThrows(IllegalStateException.class, () -> f.data("w"));
    }

    @Test
    void headerLengthIsReadUnsignedLittleEndian() throws IOException {
        // A big-endian length prefix is the classic hand-rolled-writer bug: it reads as a huge number.
        byte[] good = RawFiles.bytes(ONE_TENSOR, new byte[16]);
        byte[] swapped = good.clone();
        for (int i = 0; i < 8; i++) {
            swapped[i] = good[7 - i];
        }
        assertMentions(failure(swapped), "huge header length");
        assertEquals(ONE_TENSOR.getBytes(StandardCharsets.UTF_8).length, good[0]);
    }
}
