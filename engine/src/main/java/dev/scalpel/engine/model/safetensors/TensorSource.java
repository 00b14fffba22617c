package dev.scalpel.engine.model.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.List;

/**
 * One tensor to be written by {@link SafetensorsWriter}: its dtype, its shape and where its bytes come
 * from. The bytes are pulled only while the file is written, in order, so a source can stream a tensor
 * far larger than would fit in one array (see {@link #streamed}).
 *
 * @param dtype   element type
 * @param shape   dimensions, outermost first; empty for a scalar
 * @param content writes exactly {@link #byteLength()} little-endian bytes, row-major
 */
public record TensorSource(DType dtype, List<Long> shape, Content content) {

    /** Elements per chunk when {@link #ofFloats} encodes: 256 KiB of F32 at a time. */
    private static final int ENCODE_CHUNK = 64 * 1024;

    /** Writes a tensor's bytes to the file being written. */
    @FunctionalInterface
    public interface Content {
        /**
         * Writes all the tensor's bytes to {@code out}. The writer checks the count afterwards; an
         * exception thrown here aborts the write and leaves no file behind.
         */
        void writeTo(WritableByteChannel out) throws IOException;
    }

    public TensorSource {
        if (dtype == null || shape == null || content == null) {
            throw new IllegalArgumentException("TensorSource needs a dtype, a shape and a content");
        }
        shape = List.copyOf(shape);
        if (shape.stream().anyMatch(d -> d < 0)) {
            throw new IllegalArgumentException("shape " + shape + " has a negative dimension");
        }
    }

    /**
     * Raw little-endian bytes, e.g. a buffer from {@link SafetensorsFile#data} to copy a tensor as it is:
     * the bytes between the buffer's position and limit at the time of this call. The buffer's position
     * and limit are left untouched, but its content must not change until the file is written.
     *
     * @throws IllegalArgumentException if the buffer does not hold exactly the bytes the shape needs
     */
    public static TensorSource ofBytes(DType dtype, long[] shape, ByteBuffer bytes) {
        ByteBuffer view = bytes.duplicate();
        TensorSource source = streamed(dtype, shape, out -> writeAll(out, view.duplicate()));
        if (view.remaining() != source.byteLength()) {
            throw new IllegalArgumentException(dtype.safetensorsName() + " " + Arrays.toString(shape) + " needs "
                    + source.byteLength() + " bytes but the buffer holds " + view.remaining());
        }
        return source;
    }

    /**
     * Float values stored as {@code dtype} (F32, F16, BF16 or F64), converted while writing, chunk by
     * chunk (F16 and BF16 round to nearest even). The array is read when the file is written, not copied.
     *
     * @throws IllegalArgumentException if {@code dtype} is not one of those four, or the array length is
     *                                  not the shape's element count
     */
    public static TensorSource ofFloats(DType dtype, long[] shape, float[] values) {
        if (!TensorFloats.SUPPORTED.contains(dtype)) {
            throw new IllegalArgumentException("float values can be stored as F32, F16, BF16 or F64, not " + dtype.safetensorsName());
        }
        TensorSource source = streamed(dtype, shape, out -> {
            ByteBuffer chunk = ByteBuffer.allocate(ENCODE_CHUNK * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (int from = 0; from < values.length; from += ENCODE_CHUNK) {
                int count = Math.min(ENCODE_CHUNK, values.length - from);
                chunk.clear();
                TensorFloats.encode(values, from, count, dtype, chunk);
                writeAll(out, chunk.flip());
            }
        });
        if (values.length != source.numel()) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + source.numel()
                    + " elements but " + values.length + " values were given");
        }
        return source;
    }

    /** Bytes produced by {@code content} as the file is written, for tensors too large to hold at once. */
    public static TensorSource streamed(DType dtype, long[] shape, Content content) {
        return new TensorSource(dtype, Arrays.stream(shape).boxed().toList(), content);
    }

    /** Number of elements, the product of the dimensions. */
    public long numel() {
        long n = 1;
        for (long dim : shape) {
            n = Math.multiplyExact(n, dim);
        }
        return n;
    }

    /** Bytes the content must write: {@code numel() * dtype.byteSize()}. */
    public long byteLength() {
        return Math.multiplyExact(numel(), dtype.byteSize());
    }

    /**
     * Writes every remaining byte of {@code buffer}, for {@link Content} implementations: a channel may
     * take fewer bytes per {@code write} call than offered.
     */
    public static void writeAll(WritableByteChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }
}
