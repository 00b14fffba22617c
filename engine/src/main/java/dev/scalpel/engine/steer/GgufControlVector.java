package dev.scalpel.engine.steer;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.model.safetensors.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;

/**
 * llama.cpp control vectors in GGUF (v3): architecture {@code controlvector}, metadata
 * {@code controlvector.model_hint} (string) and {@code controlvector.layer_count} (uint32), one float32 tensor
 * {@code direction.<n>} [n_embd] per steered layer, where n = the 0-based block index + 1 (the residual stream after
 * that block, as llama.cpp applies it). Data is aligned to 32 bytes.
 */
public final class GgufControlVector {
    private static final int ALIGNMENT = 32;
    private static final int TYPE_UINT32 = 4;
    private static final int TYPE_STRING = 8;
    private static final int GGML_F32 = 0;
    private static final String FORMAT = "scalpel-control-vector/1";

    private GgufControlVector() {}

    /**
     * Writes {@code vector} to {@code file} (replacing only a control vector Scalpel wrote; never into {@code models}
     * or any other model folder). Besides llama.cpp's keys it records {@code scalpel.format}, which llama.cpp ignores.
     *
     * @throws ScalpelException when the guard refuses the path or the direction is not finite
     */
    public static void write(Path file, SteeringVector vector, String modelHint, int layerCount, Collection<Path> models) {
        Output out = OutputGuard.files(OutputKind.CONTROL_VECTOR, models, file);
        out.requireFinite("direction." + (vector.layer() + 1), vector.direction());
        ByteBuffer header = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        header.put("GGUF".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(1).putLong(4);
        putString(header, "scalpel.format");
        header.putInt(TYPE_STRING);
        putString(header, FORMAT);
        putString(header, "general.architecture");
        header.putInt(TYPE_STRING);
        putString(header, "controlvector");
        putString(header, "controlvector.model_hint");
        header.putInt(TYPE_STRING);
        putString(header, modelHint);
        putString(header, "controlvector.layer_count");
        header.putInt(TYPE_UINT32).putInt(layerCount);
        putString(header, "direction." + (vector.layer() + 1));                             // tensor info
        header.putInt(1).putLong(vector.direction().length).putInt(GGML_F32).putLong(0);
        int padded = (header.position() + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        ByteBuffer bytes = ByteBuffer.allocate(padded + 4 * vector.direction().length).order(ByteOrder.LITTLE_ENDIAN);
        header.flip();
        bytes.put(header);
        bytes.position(padded);
        for (float f : vector.direction()) {
            bytes.putFloat(f);
        }
        bytes.flip();
        out.write(file, ch -> TensorSource.writeAll(ch, bytes));
    }

    /** Reads a control vector with one direction (as {@link #write} makes them). */
    public static SteeringVector read(Path file) {
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            byte[] magic = new byte[4];
            b.get(magic);
            if (!"GGUF".equals(new String(magic, StandardCharsets.US_ASCII)) || b.getInt() != 3) {
                throw new ScalpelException(file + " is not a GGUF v3 file.");
            }
            long tensors = b.getLong();
            long kvs = b.getLong();
            if (tensors != 1) {
                throw new ScalpelException(file + " holds " + tensors + " directions; Scalpel reads control vectors with one.");
            }
            for (long i = 0; i < kvs; i++) {
                getString(b);
                int type = b.getInt();
                switch (type) {
                    case TYPE_STRING -> getString(b);
                    case TYPE_UINT32, 5, 6 -> b.getInt();
                    default -> throw new ScalpelException(file + " has a metadata value of GGUF type " + type + " that Scalpel does not read.");
                }
            }
            String name = getString(b);
            int dims = b.getInt();
            long n = b.getLong();
            for (int i = 1; i < dims; i++) {
                n *= b.getLong();
            }
            int type = b.getInt();
            long offset = b.getLong();
            if (!name.startsWith("direction.") || type != GGML_F32) {
                throw new ScalpelException(file + " has tensor '" + name + "' of type " + type + "; expected a float32 direction.<layer>.");
            }
            int data = (b.position() + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT + (int) offset;
            float[] direction = new float[(int) n];
            b.position(data);
            b.asFloatBuffer().get(direction);
            return new SteeringVector(Integer.parseInt(name.substring("direction.".length())) - 1, direction);
        } catch (IOException | RuntimeException e) {
            if (e instanceof ScalpelException se) {
                throw se;
            }
            throw new ScalpelException("Cannot read control vector " + file + ": " + e.getMessage(), e);
        }
    }

    private static void putString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putLong(bytes.length).put(bytes);
    }

    private static String getString(ByteBuffer b) {
        byte[] bytes = new byte[(int) b.getLong()];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
