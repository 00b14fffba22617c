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
 * {@code controlvector.model_hint} (string) and {@code controlvector.layer_count} (int32), one float32 tensor
 * {@code direction.<n>} [n_embd] per steered block. llama.cpp adds {@code direction.<n>} to the residual stream
 * leaving 0-based block n (its {@code l_out}, Scalpel's {@code blocks.<n>.hook_resid_post}): the loader
 * ({@code common_control_vector_load_one}) puts direction n at slot n, and the graph adds slot il after block il.
 * It refuses {@code direction.0} and has no slot for the output of block 0, so block 0 cannot be steered this way,
 * and directions from n_layer on are ignored; Scalpel writes blocks 1 … n_layer − 1 only. {@code layer_count} is
 * what llama.cpp's {@code cvector-generator} writes (int32 n_layer − 1, the number of direction slots); llama.cpp's
 * loader does not read it. Data is aligned to 32 bytes.
 */
public final class GgufControlVector {
    private static final int ALIGNMENT = 32;
    private static final int TYPE_UINT32 = 4;
    private static final int TYPE_INT32 = 5;
    private static final int TYPE_FLOAT32 = 6;
    private static final int TYPE_STRING = 8;
    private static final int GGML_F32 = 0;
    private static final String FORMAT = "scalpel-control-vector/1";

    private GgufControlVector() {}

    /**
     * Writes {@code vector} to {@code file} (replacing only a control vector Scalpel wrote; never into {@code models}
     * or any other model folder) as tensor {@code direction.<vector.layer()>}, with {@code controlvector.layer_count}
     * = {@code numLayers} − 1. Besides llama.cpp's keys it records {@code scalpel.format}, which llama.cpp ignores.
     *
     * @param numLayers the number of blocks of the model the vector was taken from
     * @throws ScalpelException when the block cannot be steered by llama.cpp (see {@link #requireSteerable}), the guard
     *     refuses the path or the direction is not finite
     */
    public static void write(Path file, SteeringVector vector, String modelHint, int numLayers, Collection<Path> models) {
        requireSteerable(vector.layer(), numLayers);
        Output out = OutputGuard.files(OutputKind.CONTROL_VECTOR, models, file);
        out.requireFinite("direction." + vector.layer(), vector.direction());
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
        header.putInt(TYPE_INT32).putInt(numLayers - 1);
        putString(header, "direction." + vector.layer());                                   // tensor info
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

    /**
     * Refuses a block llama.cpp cannot steer: block 0 (llama.cpp has no control-vector slot for its output and rejects
     * {@code direction.0}) and blocks outside the model's 0 … {@code numLayers} − 1.
     */
    public static void requireSteerable(int layer, int numLayers) {
        if (layer == 0) {
            throw new ScalpelException("Block 0 cannot be written as a llama.cpp control vector: llama.cpp cannot steer the "
                    + "output of block 0 (it rejects direction.0); pick block 1 or later.");
        }
        if (layer < 0 || layer >= numLayers) {
            throw new ScalpelException("Block " + layer + " is outside this model's 0 … " + (numLayers - 1)
                    + "; a llama.cpp control vector steers blocks 1 … " + (numLayers - 1) + ".");
        }
    }

    /**
     * Reads a control vector with one direction (as {@link #write} makes them): {@code direction.<n>} becomes a steering
     * vector for the output of block n. Every count, length and offset is checked against the file's size before it is
     * used, so a truncated or damaged file is refused with what is wrong, never read past its end.
     */
    public static SteeringVector read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ScalpelException("Cannot read control vector " + file + " (" + e.getMessage() + ").", e);
        }
        Cursor b = new Cursor(file, bytes);
        if (bytes.length < 8 || !"GGUF".equals(new String(bytes, 0, 4, StandardCharsets.US_ASCII))) {
            throw new ScalpelException(file + " is not a GGUF file (it does not start with 'GGUF').");
        }
        b.skip(4);
        int version = b.u32("the version");
        if (version != 3) {
            throw new ScalpelException(file + " is GGUF version " + version + "; Scalpel reads control vectors in GGUF v3.");
        }
        long tensors = b.u64("the tensor count");
        long kvs = b.u64("the metadata count");
        if (tensors != 1) {
            throw new ScalpelException(file + " holds " + tensors + " directions; Scalpel reads control vectors with one.");
        }
        for (long i = 0; i < kvs; i++) {
            String key = b.string("a metadata key");
            int type = b.u32("the type of " + key);
            switch (type) {
                case TYPE_STRING -> b.string("the value of " + key);
                case TYPE_UINT32, TYPE_INT32, TYPE_FLOAT32 -> b.u32("the value of " + key);
                default -> throw new ScalpelException(file + " has a metadata value of GGUF type " + type + " that Scalpel does not read.");
            }
        }
        String name = b.string("the tensor name");
        int dims = b.u32("the dimension count of " + name);
        if (!name.startsWith("direction.") || dims != 1) {
            throw new ScalpelException(file + " has tensor '" + name + "' with " + dims + " dimensions; expected a 1-D float32 "
                    + "direction.<block>.");
        }
        long n = b.u64("the length of " + name);
        int type = b.u32("the type of " + name);
        long offset = b.u64("the data offset of " + name);
        if (type != GGML_F32) {
            throw new ScalpelException(file + " has tensor '" + name + "' of GGML type " + type + "; expected float32 (type 0).");
        }
        int layer = blockOf(file, name);
        long data = (b.position() + ALIGNMENT - 1L) / ALIGNMENT * ALIGNMENT + offset;
        if (n < 1 || offset < 0 || offset % ALIGNMENT != 0 || data > bytes.length || n > (bytes.length - data) / Float.BYTES) {
            throw new ScalpelException(file + " has tensor '" + name + "' of " + Long.toUnsignedString(n) + " floats at data offset "
                    + Long.toUnsignedString(offset) + ", which does not fit the file's " + bytes.length + " bytes; the file is "
                    + "truncated or damaged.");
        }
        float[] direction = new float[(int) n];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).position((int) data).asFloatBuffer().get(direction);
        return new SteeringVector(layer, direction);
    }

    /** Little-endian reads from a GGUF file's bytes that refuse, naming what they read, to go past its end. */
    private static final class Cursor {
        private final Path file;
        private final ByteBuffer buffer;

        Cursor(Path file, byte[] bytes) {
            this.file = file;
            this.buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }

        int position() {
            return buffer.position();
        }

        void skip(int count) {
            need(count, "the header");
            buffer.position(buffer.position() + count);
        }

        int u32(String what) {
            need(Integer.BYTES, what);
            return buffer.getInt();
        }

        long u64(String what) {
            need(Long.BYTES, what);
            return buffer.getLong();
        }

        String string(String what) {
            long length = u64("the length of " + what);
            if (length < 0 || length > buffer.remaining()) {
                throw new ScalpelException(file + " is truncated or damaged: " + what + " claims " + Long.toUnsignedString(length)
                        + " bytes at offset " + buffer.position() + " of " + buffer.limit() + ".");
            }
            byte[] bytes = new byte[(int) length];
            buffer.get(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        }

        private void need(int count, String what) {
            if (buffer.remaining() < count) {
                throw new ScalpelException(file + " is truncated: it ends at byte " + buffer.limit() + " before " + what + ".");
            }
        }
    }

    /** The block of {@code direction.<n>}: n, as llama.cpp reads it; 0 and what is not a number are refused. */
    private static int blockOf(Path file, String name) {
        String index = name.substring("direction.".length());
        int layer;
        try {
            layer = Integer.parseInt(index);
        } catch (NumberFormatException e) {
            throw new ScalpelException(file + " has tensor '" + name + "'; expected direction.<block> with a block number.");
        }
        if (layer == 0) {
            throw new ScalpelException(file + " holds direction.0, which llama.cpp rejects (there is no control vector for the "
                    + "output of block 0); it is not a valid control vector.");
        }
        if (layer < 0) {
            throw new ScalpelException(file + " has tensor '" + name + "'; a block number cannot be negative.");
        }
        return layer;
    }

    private static void putString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putLong(bytes.length).put(bytes);
    }
}
