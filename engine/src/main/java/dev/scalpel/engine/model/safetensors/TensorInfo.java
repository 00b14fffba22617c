package dev.scalpel.engine.model.safetensors;

import java.util.List;

/**
 * Where one tensor lives in a safetensors file, as its header describes it.
 *
 * @param name  the tensor's key in the header, e.g. {@code model.layers.0.self_attn.q_proj.weight}
 * @param dtype its element type
 * @param shape its dimensions, outermost first (row-major); empty for a scalar
 * @param begin first byte of its data, counted from the start of the data section (just after the header)
 * @param end   one past its last byte, counted the same way; {@code end - begin == numel() * dtype.byteSize()}
 */
public record TensorInfo(String name, DType dtype, List<Long> shape, long begin, long end) {

    public TensorInfo {
        if (name == null || dtype == null || shape == null) {
            throw new IllegalArgumentException("TensorInfo needs a name, a dtype and a shape");
        }
        shape = List.copyOf(shape);
        for (long dim : shape) {
            if (dim < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension in " + shape);
            }
        }
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("tensor '" + name + "' needs 0 <= begin <= end, got [" + begin + ", " + end + "]");
        }
    }

    /** Number of elements: the product of the dimensions (1 for a scalar, 0 if any dimension is 0). */
    public long numel() {
        long n = 1;
        for (long dim : shape) {
            n = Math.multiplyExact(n, dim);
        }
        return n;
    }

    /** Bytes of data: {@code end - begin}. */
    public long byteLength() {
        return end - begin;
    }

    /** The shape as a {@code long[]}, the form tensor libraries take. */
    public long[] shapeArray() {
        return shape.stream().mapToLong(Long::longValue).toArray();
    }
}
