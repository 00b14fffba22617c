package dev.scalpel.engine.model.safetensors;

import dev.scalpel.engine.files.TestOutputs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A write that fails leaves the folder exactly as it was: no partial target, no temp file. */
class SafetensorsWriterAtomicityTest {
    @TempDir
    Path dir;

    private List<String> folder() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** A good tensor, then one whose source writes half its bytes and then throws {@code failure}. */
    private static Map<String, TensorSource> failingHalfway(RuntimeException failure) {
        Map<String, TensorSource> tensors = new LinkedHashMap<>();
        tensors.put("good", TensorSource.ofFloats(DType.F32, new long[] {1024}, new float[1024]));
        tensors.put("bad", TensorSource.streamed(DType.F32, new long[] {1024}, out -> {
            TensorSource.writeAll(out, ByteBuffer.allocate(2048));
            throw failure;
        }));
        return tensors;
    }

    @Test
    void aSourceThatThrowsLeavesNoFileAndNoTempFile() throws IOException {
        Path target = dir.resolve("model.safetensors");
        IllegalStateException boom = new IllegalStateException("source broke");

        var thrown = assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(target, failingHalfway(boom)));

        assertSame(boom, thrown, "the source's own exception reaches the caller");
        assertEquals(List.of(), folder());
    }

    @Test
    void anIoFailureInASourceBecomesASafetensorsExceptionAndLeavesNothing() throws IOException {
        Path target = dir.resolve("model.safetensors");
        Map<String, TensorSource> tensors = Map.of("w", TensorSource.streamed(DType.F16, new long[] {8}, out -> {
            throw new IOException("disk full");
        }));

        var e = assertThrows(SafetensorsException.class, () -> SafetensorsWriter.write(target, tensors));

        assertTrue(e.getMessage().contains(target.toString()) && e.getMessage().contains("disk full"), e.getMessage());
        assertInstanceOf(IOException.class, e.getCause());
        assertEquals(List.of(), folder());
    }

    @Test
    void aFailedOverwriteKeepsTheOldFileIntact() throws IOException {
        Path target = dir.resolve("model.safetensors");
        SafetensorsWriter.write(target, Map.of("old", TensorSource.ofFloats(DType.F32, new long[] {2}, new float[] {1f, 2f})));
        byte[] before = Files.readAllBytes(target);

        assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(target, failingHalfway(new IllegalStateException("x"))));

        assertArrayEquals(before, Files.readAllBytes(target));
        assertEquals(List.of("model.safetensors"), folder());
    }

    @Test
    void aSourceThatWritesTheWrongNumberOfBytesIsCaught() throws IOException {
        Path target = dir.resolve("model.safetensors");
        Map<String, TensorSource> tensors = Map.of("short", TensorSource.streamed(DType.F32, new long[] {2, 2},
                out -> TensorSource.writeAll(out, ByteBuffer.allocate(8))));

        var e = assertThrows(SafetensorsException.class, () -> SafetensorsWriter.write(target, tensors));

        assertTrue(e.getMessage().contains("tensor 'short' wrote 8 bytes but F32 [2, 2] needs 16"), e.getMessage());
        assertEquals(List.of(), folder());
    }

    @Test
    void aSuccessfulOverwriteReplacesTheFileAndLeavesNoTempFile() throws IOException {
        Path target = dir.resolve("model.safetensors");
        SafetensorsWriter.write(target, Map.of("v1", TensorSource.ofFloats(DType.F32, new long[] {1}, new float[] {1f})));

        SafetensorsWriter.write(target, Map.of("v2", TensorSource.ofFloats(DType.F32, new long[] {1}, new float[] {2f})));

        assertEquals(List.of("model.safetensors"), folder());
        try (SafetensorsFile f = SafetensorsFile.open(target)) {
            assertEquals(List.of("v2"), f.tensorNames());
            assertEquals(2f, f.data("v2").getFloat(0));
        }
    }

    @Test
    void theWrittenFileHasOrdinaryPermissionsNotTempFileOnes() throws IOException {
        Assumptions.assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path ordinary = Files.write(dir.resolve("ordinary.bin"), new byte[1]);
        Path target = dir.resolve("model.safetensors");

        SafetensorsWriter.write(target, Map.of("w", TensorSource.ofFloats(DType.F32, new long[] {1}, new float[] {1f})));

        assertEquals(Files.getPosixFilePermissions(ordinary), Files.getPosixFilePermissions(target));
    }

    @Test
    void aShardedWriteThatFailsLeavesNoIndexAndNoTempFile() throws IOException {
        Map<String, TensorSource> tensors = failingHalfway(new IllegalStateException("second shard broke"));

        assertThrows(IllegalStateException.class, () -> ShardedSafetensorsWriter.write(TestOutputs.scratch(dir), dir, tensors, Map.of(), 4096));

        // The first shard is complete (each file is atomic); the index, which makes the shards a checkpoint, was never written.
        assertEquals(List.of("model-00001-of-00002.safetensors"), folder());
        try (SafetensorsFile shard = SafetensorsFile.open(dir.resolve("model-00001-of-00002.safetensors"))) {
            assertEquals(List.of("good"), shard.tensorNames());
        }
        var e = assertThrows(SafetensorsException.class, () -> SafetensorsCheckpoint.open(dir));
        assertTrue(e.getMessage().startsWith("No model.safetensors or model.safetensors.index.json"), e.getMessage());
    }
}
