package dev.scalpel.engine.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.scalpel.engine.testing.HostileInput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A safetensors file from anywhere must open (and then read cleanly) or fail with a SafetensorsException: a seeded
 * mutation test of a valid file's length prefix and header that runs thousands of cases in every build, and a Jazzer
 * target over whole files (seeds in {@code SafetensorsFuzzTestInputs}; {@code -Pfuzz} fuzzes it).
 */
class SafetensorsFuzzTest {
    private static final long SEED = 0x5AFE_7E45L;
    private static final int ROUNDS = 3000;
    private static final byte[] INTERESTING = "{}[]\",:-0123456789eE. \\nul\u0000".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);

    @TempDir
    static Path dir;

    private byte[] validFile() throws IOException {
        Map<String, TensorSource> tensors = new LinkedHashMap<>();
        tensors.put("model.embed_tokens.weight", TensorSource.ofFloats(DType.BF16, new long[] {4, 3}, new float[12]));
        tensors.put("model.norm.weight", TensorSource.ofFloats(DType.F32, new long[] {3}, new float[] {1f, 2f, 3f}));
        tensors.put("ids", TensorSource.ofBytes(DType.I64, new long[] {2}, ByteBuffer.allocate(16)));
        tensors.put("h", TensorSource.ofFloats(DType.F16, new long[] {1, 2}, new float[] {0.5f, -1f}));
        Path file = dir.resolve("valid.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
        return Files.readAllBytes(file);
    }

    @Test
    void mutatedHeadersOnlyEverFailWithSafetensorsException() throws IOException {
        byte[] valid = validFile();
        int headerEnd = 8 + (int) ByteBuffer.wrap(valid, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Random random = new Random(SEED);
        Path file = dir.resolve("fuzzed.safetensors");
        int rejected = 0;
        int opened = 0;
        for (int round = 0; round < ROUNDS; round++) {
            byte[] mutated = mutate(valid, headerEnd, random);
            Files.write(file, mutated);
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                readEverything(f);
                opened++;
            } catch (SafetensorsException expected) {
                assertTrue(expected.getMessage().contains(file.toString()), expected.getMessage());
                rejected++;
            } catch (RuntimeException | Error other) {
                fail("round " + round + " (seed " + SEED + ") threw " + other + " for file " + HexFormat.of().formatHex(mutated), other);
            }
        }
        assertEquals(ROUNDS, rejected + opened);
        assertTrue(rejected > ROUNDS / 2, "most mutations break the file; rejected only " + rejected);
        assertTrue(opened > 0, "some mutations (e.g. in whitespace or metadata text) keep the file valid and are read");
    }

    @FuzzTest(maxExecutions = 1_000_000, maxDuration = "3h")
    void anyFileOpensAndReadsOrIsRefused(byte[] input) throws IOException {
        Path file = dir.resolve("fuzzed.safetensors");
        Files.write(file, input);
        HostileInput.readOrRefuse(() -> {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                readEverything(f);
            }
        });
    }

    private static void readEverything(SafetensorsFile f) {
        for (String name : f.tensorNames()) {
            TensorInfo info = f.info(name);
            ByteBuffer data = f.data(name);
            assertEquals(info.byteLength(), data.remaining());
            if (TensorFloats.SUPPORTED.contains(info.dtype())) {
                assertEquals(info.numel(), TensorFloats.toFloatArray(info, data).length);
            }
        }
    }

    /** One to three edits: flip bits, write a JSON-ish byte, insert or delete bytes in the header, rewrite the length, truncate. */
    private static byte[] mutate(byte[] valid, int headerEnd, Random random) {
        byte[] out = valid.clone();
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits; e++) {
            int at = Math.min(out.length, 8 + random.nextInt(headerEnd - 8));
            switch (random.nextInt(6)) {
                case 0 -> {
                    if (at < out.length) {
                        out[at] ^= (byte) (1 << random.nextInt(8));
                    }
                }
                case 1 -> {
                    if (at < out.length) {
                        out[at] = INTERESTING[random.nextInt(INTERESTING.length)];
                    }
                }
                case 2 -> {
                    byte[] longer = new byte[out.length + 1];
                    System.arraycopy(out, 0, longer, 0, at);
                    longer[at] = INTERESTING[random.nextInt(INTERESTING.length)];
                    System.arraycopy(out, at, longer, at + 1, out.length - at);
                    out = longer;
                }
                case 3 -> {
                    if (at < out.length) {
                        byte[] shorter = new byte[out.length - 1];
                        System.arraycopy(out, 0, shorter, 0, at);
                        System.arraycopy(out, at + 1, shorter, at, out.length - at - 1);
                        out = shorter;
                    }
                }
                case 4 -> {
                    if (out.length < 8) {
                        continue;
                    }
                    long length = switch (random.nextInt(3)) {
                        case 0 -> random.nextLong();
                        case 1 -> headerEnd - 8 + random.nextInt(17) - 8;
                        default -> random.nextInt(out.length + 16);
                    };
                    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
                }
                default -> out = Arrays.copyOf(out, random.nextInt(out.length + 1));
            }
        }
        return out;
    }
}
