package dev.scalpel.engine.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    @Test
    void writesAndReadsBackEveryKindOfTensorWithMetadata() {
        float[] f32 = {1.5f, -2.25f, 0f, 1e-8f, Float.MAX_VALUE, -0f};
        float[] f16 = {1f, -2.5f, 65504f, 0x1p-14f, 0x1p-24f, 0.1f};   // 0.1 is not exact in F16
        float[] bf16 = {1f, -3.0e38f, 0x1p-133f, 0.1f};                  // 0.1 is not exact in BF16
        long[] i64 = {Long.MIN_VALUE, -1, 1L << 40, Long.MAX_VALUE};
        ByteBuffer i64Bytes = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        Arrays.stream(i64).forEach(i64Bytes::putLong);
        i64Bytes.flip();

        Map<String, TensorSource> tensors = new LinkedHashMap<>();
        tensors.put("w.f32", TensorSource.ofFloats(DType.F32, new long[] {2, 3}, f32));
        tensors.put("w.f16", TensorSource.ofFloats(DType.F16, new long[] {6}, f16));
        tensors.put("a.bf16", TensorSource.ofFloats(DType.BF16, new long[] {2, 1, 2}, bf16));
        tensors.put("ids", TensorSource.ofBytes(DType.I64, new long[] {4}, i64Bytes));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("note", "héllo ✓");
        Path file = dir.resolve("m.safetensors");

        SafetensorsWriter.write(file, tensors, metadata);

        assertEquals(0, i64Bytes.position(), "writing must not move the caller's buffer");
        try (SafetensorsFile read = SafetensorsFile.open(file)) {
            assertEquals(metadata, read.metadata());
            assertEquals(List.of("w.f32", "w.f16", "a.bf16", "ids"), read.tensorNames());

            TensorInfo info = read.info("w.f32");
            assertEquals(DType.F32, info.dtype());
            assertEquals(List.of(2L, 3L), info.shape());
            assertEquals(0, info.begin());
            assertEquals(24, info.end());
            assertArrayEquals(f32, TensorFloats.toFloatArray(info, read.data("w.f32")));

            float[] f16Back = TensorFloats.toFloatArray(read.info("w.f16"), read.data("w.f16"));
            assertArrayEquals(new float[] {1f, -2.5f, 65504f, 0x1p-14f, 0x1p-24f, 0.0999755859375f}, f16Back);
            assertEquals(new TensorInfo("w.f16", DType.F16, List.of(6L), 24, 36), read.info("w.f16"));

            float[] bf16Back = TensorFloats.toFloatArray(read.info("a.bf16"), read.data("a.bf16"));
            // -3e38 lies between BF16 neighbours -2.9908e38 and -3.0041e38, nearer the latter
            assertArrayEquals(new float[] {1f, -3.0040553e38f, 0x1p-133f, 0.10009765625f}, bf16Back);
            assertEquals(List.of(2L, 1L, 2L), read.info("a.bf16").shape());

            ByteBuffer ids = read.data("ids");
            assertEquals(DType.I64, read.info("ids").dtype());
            assertEquals(32, ids.remaining());
            for (int i = 0; i < i64.length; i++) {
                assertEquals(i64[i], ids.getLong(i * 8));
            }
        }
    }

    @Test
    void matchesTheReferenceWriterByteForByte() throws IOException {
        // From huggingface/safetensors bindings/python/tests/test_simple.py: save({"test": np.zeros((2, 2), np.int32)})
        byte[] expected = ("@\0\0\0\0\0\0\0" + "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}    "
                + "\0".repeat(16)).getBytes(StandardCharsets.ISO_8859_1);
        Path file = dir.resolve("ref.safetensors");

        SafetensorsWriter.write(file, Map.of("test", TensorSource.ofBytes(DType.I32, new long[] {2, 2}, ByteBuffer.allocate(16))));

        assertArrayEquals(expected, Files.readAllBytes(file));
    }

    @Test
    void headerIsPaddedWithSpacesToAMultipleOfEight() throws IOException {
        Set<Integer> paddingsSeen = new HashSet<>();
        for (int nameLength = 1; nameLength <= 8; nameLength++) {
            Path file = dir.resolve("p" + nameLength + ".safetensors");
            SafetensorsWriter.write(file, Map.of("x".repeat(nameLength), TensorSource.ofFloats(DType.F32, new long[] {1}, new float[] {7f})));

            byte[] bytes = Files.readAllBytes(file);
            long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, headerLength % 8, "header length " + headerLength);
            assertEquals(8 + headerLength + 4, bytes.length);
            String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
            String json = header.stripTrailing();
            assertTrue(json.endsWith("}"));
            assertEquals(" ".repeat(header.length() - json.length()), header.substring(json.length()));
            assertTrue(header.length() - json.length() < 8, "padding is less than 8 bytes");
            paddingsSeen.add(header.length() - json.length());
            try (SafetensorsFile read = SafetensorsFile.open(file)) {
                assertEquals(7f, read.data("x".repeat(nameLength)).getFloat(0));
            }
        }
        assertEquals(8, paddingsSeen.size(), "names of 8 successive lengths need each of the 8 paddings 0..7");
    }

    @Test
    void scalarAndEmptyTensorsRoundTrip() {
        Map<String, TensorSource> tensors = new LinkedHashMap<>();
        tensors.put("scalar", TensorSource.ofFloats(DType.F32, new long[] {}, new float[] {3.5f}));
        tensors.put("empty", TensorSource.ofFloats(DType.BF16, new long[] {0, 4}, new float[0]));
        tensors.put("after", TensorSource.ofFloats(DType.F16, new long[] {2}, new float[] {-1f, 2f}));
        Path file = dir.resolve("edge.safetensors");

        SafetensorsWriter.write(file, tensors);

        try (SafetensorsFile read = SafetensorsFile.open(file)) {
            assertEquals(List.of(), read.info("scalar").shape());
            assertEquals(1, read.info("scalar").numel());
            assertArrayEquals(new float[] {3.5f}, TensorFloats.toFloatArray(read.info("scalar"), read.data("scalar")));
            assertEquals(0, read.info("empty").numel());
            assertEquals(0, read.data("empty").remaining());
            assertArrayEquals(new long[] {0, 4}, read.info("empty").shapeArray());
            assertArrayEquals(new float[] {-1f, 2f}, TensorFloats.toFloatArray(read.info("after"), read.data("after")));
        }
    }

    @Test
    void dataIsAReadOnlyLittleEndianViewOfExactlyTheTensor() {
        Path file = dir.resolve("v.safetensors");
        Map<String, TensorSource> tensors = new LinkedHashMap<>();
        tensors.put("a", TensorSource.ofFloats(DType.F32, new long[] {2}, new float[] {1f, 2f}));
        tensors.put("b", TensorSource.ofFloats(DType.F32, new long[] {3}, new float[] {3f, 4f, 5f}));
        SafetensorsWriter.write(file, tensors);

        try (SafetensorsFile read = SafetensorsFile.open(file)) {
            ByteBuffer b = read.data("b");
            assertTrue(b.isReadOnly());
            assertEquals(ByteOrder.LITTLE_ENDIAN, b.order());
            assertEquals(0, b.position());
            assertEquals(12, b.remaining());
            assertEquals(3f, b.getFloat());
            assertThrows(ReadOnlyBufferException.class, () -> b.putFloat(0, 9f));
            assertEquals(0, read.data("b").position(), "each call is an independent view");
            assertEquals(5f, read.data("b").getFloat(8));
        }
    }

    @Test
    void copiesTensorsFromOneFileToAnotherAndStreamsChunkedSources() throws IOException {
        Path first = dir.resolve("first.safetensors");
        int chunks = 48;
        int chunkBytes = 64 * 1024; // 3 MiB in all, written in 48 pieces
        SafetensorsWriter.write(first, Map.of("big", TensorSource.streamed(DType.U8, new long[] {(long) chunks * chunkBytes}, out -> {
            for (int c = 0; c < chunks; c++) {
                byte[] piece = new byte[chunkBytes];
                Arrays.fill(piece, (byte) c);
                TensorSource.writeAll(out, ByteBuffer.wrap(piece));
            }
        })));
        Path second = dir.resolve("second.safetensors");

        try (SafetensorsFile read = SafetensorsFile.open(first)) {
            TensorInfo big = read.info("big");
            SafetensorsWriter.write(second, Map.of("copy", TensorSource.ofBytes(big.dtype(), big.shapeArray(), read.data("big"))));
        }

        try (SafetensorsFile read = SafetensorsFile.open(second)) {
            ByteBuffer copy = read.data("copy");
            assertEquals(chunks * chunkBytes, copy.remaining());
            for (int c = 0; c < chunks; c++) {
                assertEquals(c, copy.get(c * chunkBytes));
                assertEquals(c, copy.get(c * chunkBytes + chunkBytes - 1));
            }
        }
    }

    @Test
    void aFileOver2GiBOpensAndMapsPerTensorButRefusesA2GiBTensor() throws IOException {
        long big = 1L << 31; // one byte more than a ByteBuffer can hold
        String header = "{\"big\":{\"dtype\":\"U8\",\"shape\":[" + big + "],\"data_offsets\":[0," + big + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" + big + "," + (big + 4) + "]}}";
        byte[] start = RawFiles.bytes(header, new byte[0]);
        Path file = dir.resolve("sparse.safetensors");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.SPARSE)) {
            channel.write(ByteBuffer.wrap(start));
            channel.write(ByteBuffer.wrap(RawFiles.f32(42.5f)), start.length + big); // leaves a hole, not 2 GiB of disk
        }

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(42.5f, f.data("tail").getFloat(0), "a tensor past the 2 GiB mark maps");
            var e = assertThrows(SafetensorsException.class, () -> f.data("big"));
            assertTrue(e.getMessage().contains("tensor 'big'") && e.getMessage().contains("2147483648 bytes")
                    && e.getMessage().contains("at most 2 GiB"), e.getMessage());
        }
    }

    @Test
    void refusesNamesTheFormatReserves() {
        Map<String, TensorSource> tensors = Map.of("__metadata__", TensorSource.ofFloats(DType.F32, new long[] {1}, new float[] {1f}));

        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(dir.resolve("x.safetensors"), tensors));
    }

    @Test
    void sourcesCheckTheirSizeAgainstTheShape() {
        var tooShort = assertThrows(IllegalArgumentException.class,
                () -> TensorSource.ofBytes(DType.F32, new long[] {2, 2}, ByteBuffer.allocate(12)));
        assertTrue(tooShort.getMessage().contains("needs 16 bytes but the buffer holds 12"), tooShort.getMessage());
        var wrongCount = assertThrows(IllegalArgumentException.class,
                () -> TensorSource.ofFloats(DType.F16, new long[] {3}, new float[] {1f, 2f}));
        assertTrue(wrongCount.getMessage().contains("has 3 elements but 2 values"), wrongCount.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TensorSource.ofFloats(DType.I32, new long[] {1}, new float[] {1f}));
    }
}
