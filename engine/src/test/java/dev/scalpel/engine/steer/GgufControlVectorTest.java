package dev.scalpel.engine.steer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The llama.cpp convention: {@code direction.<n>} is added to the output of 0-based block n (llama.cpp's loader puts it
 * at slot n, its graph adds slot il after block il), {@code direction.0} is rejected, and {@code controlvector.layer_count}
 * is an int32 n_layer − 1, as llama.cpp's cvector-generator writes it.
 */
class GgufControlVectorTest {
    @TempDir Path tmp;

    @Test
    void aVectorForBlockLIsStoredAsDirectionLAndReadBackForBlockL() throws IOException {
        float[] direction = {0.5f, -1.25f, 3f, 0f, 1e-3f};
        Path file = tmp.resolve("v.gguf");
        GgufControlVector.write(file, new SteeringVector(3, direction), "llama", 6, List.of());

        Gguf gguf = Gguf.parse(Files.readAllBytes(file));
        assertEquals(List.of("direction.3"), gguf.tensors(), "llama.cpp adds direction.3 to the output of block 3");
        assertEquals("controlvector", gguf.kv().get("general.architecture").value());
        assertEquals("llama", gguf.kv().get("controlvector.model_hint").value());
        Kv layerCount = gguf.kv().get("controlvector.layer_count");
        assertEquals(5, layerCount.type(), "int32, as cvector-generator writes it");
        assertEquals(5, layerCount.value(), "n_layer - 1 direction slots");

        SteeringVector back = GgufControlVector.read(file);
        assertEquals(3, back.layer());
        assertArrayEquals(direction, back.direction(), 0f);

        GgufControlVector.write(file, new SteeringVector(5, direction), "llama", 6, List.of());
        assertEquals(List.of("direction.5"), Gguf.parse(Files.readAllBytes(file)).tensors(), "the last block has a slot");
        assertEquals(5, GgufControlVector.read(file).layer());
    }

    @Test
    void blockZeroIsRefusedBecauseLlamaCppCannotSteerIt() {
        Path file = tmp.resolve("v.gguf");
        ScalpelException e = assertThrows(ScalpelException.class,
                () -> GgufControlVector.write(file, new SteeringVector(0, new float[4]), "llama", 6, List.of()));
        assertTrue(e.getMessage().contains("Block 0") && e.getMessage().contains("cannot steer the output of block 0")
                && e.getMessage().contains("pick block 1"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        assertTrue(Files.notExists(file), "nothing is written");
    }

    @Test
    void aBlockOutsideTheModelIsRefused() {
        ScalpelException e = assertThrows(ScalpelException.class,
                () -> GgufControlVector.write(tmp.resolve("v.gguf"), new SteeringVector(6, new float[4]), "llama", 6, List.of()));
        assertTrue(e.getMessage().contains("Block 6 is outside this model's 0 … 5"), e.getMessage());
    }

    @Test
    void directionZeroIsRefusedWhenRead() throws IOException {
        Path file = tmp.resolve("v.gguf");
        GgufControlVector.write(file, new SteeringVector(1, new float[] {1f, 2f}), "llama", 2, List.of());
        byte[] bytes = Files.readAllBytes(file);
        byte[] name = "direction.1".getBytes(StandardCharsets.US_ASCII);
        int at = indexOf(bytes, name);
        bytes[at + name.length - 1] = '0';                                       // the same file, holding direction.0
        Files.write(file, bytes);
        ScalpelException e = assertThrows(ScalpelException.class, () -> GgufControlVector.read(file));
        assertTrue(e.getMessage().contains("direction.0, which llama.cpp rejects"), e.getMessage());
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    private record Kv(int type, Object value) {}

    /** A GGUF v3 header read independently of the class under test (string and 4-byte scalar values only). */
    private record Gguf(Map<String, Kv> kv, List<String> tensors) {
        static Gguf parse(byte[] file) {
            ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(0x46554747, b.getInt(), "GGUF magic");
            assertEquals(3, b.getInt(), "version");
            long tensors = b.getLong();
            long kvs = b.getLong();
            Map<String, Kv> kv = new LinkedHashMap<>();
            for (long i = 0; i < kvs; i++) {
                String key = string(b);
                int type = b.getInt();
                kv.put(key, new Kv(type, switch (type) {
                    case 8 -> string(b);
                    case 4, 5 -> b.getInt();
                    default -> throw new AssertionError("unexpected GGUF type " + type);
                }));
            }
            List<String> names = new java.util.ArrayList<>();
            for (long i = 0; i < tensors; i++) {
                names.add(string(b));
                int dims = b.getInt();
                assertEquals(1, dims, "a direction is 1-D");
                b.getLong();
                assertEquals(0, b.getInt(), "F32");
                b.getLong();
            }
            return new Gguf(kv, names);
        }

        private static String string(ByteBuffer b) {
            byte[] s = new byte[(int) b.getLong()];
            b.get(s);
            return new String(s, StandardCharsets.UTF_8);
        }
    }
}
