package dev.scalpel.engine.model.safetensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.util.EnumSet;
import java.util.Set;

/** Converts tensor bytes of the float dtypes (F32, F16, BF16, F64) to and from Java {@code float}s. */
public final class TensorFloats {
    /** The dtypes {@link #toFloatArray} reads and {@link TensorSource#ofFloats} writes. */
    public static final Set<DType> SUPPORTED = Set.copyOf(EnumSet.of(DType.F32, DType.F16, DType.BF16, DType.F64));

    private TensorFloats() {}

    /**
     * All elements of a tensor as floats, in row-major order. F16 and BF16 widen exactly; F64 rounds to
     * the nearest float.
     *
     * @param info the tensor's header entry (for its dtype, element count and name)
     * @param data its bytes, e.g. from {@link SafetensorsFile#data}; read from its position, left unchanged
     * @throws SafetensorsException if the dtype is not one of {@link #SUPPORTED}
     * @throws IllegalArgumentException if {@code data} does not hold exactly the tensor's bytes
     */
    public static float[] toFloatArray(TensorInfo info, ByteBuffer data) {
        checkSupported(info.name(), info.dtype());
        if (data.remaining() != info.byteLength()) {
            throw new IllegalArgumentException("tensor '" + info.name() + "' needs " + info.byteLength()
                    + " bytes but the buffer holds " + data.remaining());
        }
        if (info.numel() > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException("Tensor '" + info.name() + "' has " + info.numel()
                    + " elements, more than a Java float array holds; read it in parts instead.");
        }
        ByteBuffer in = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(int) info.numel()];
        switch (info.dtype()) {
            case F32 -> in.asFloatBuffer().get(out);
            case F64 -> {
                var doubles = in.asDoubleBuffer();
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) doubles.get(i);
                }
            }
            case F16 -> {
                ShortBuffer halves = in.asShortBuffer();
                for (int i = 0; i < out.length; i++) {
                    out[i] = HalfFloats.f16ToF32(halves.get(i));
                }
            }
            case BF16 -> {
                ShortBuffer halves = in.asShortBuffer();
                for (int i = 0; i < out.length; i++) {
                    out[i] = HalfFloats.bf16ToF32(halves.get(i));
                }
            }
            default -> throw new AssertionError(info.dtype()); // excluded by checkSupported
        }
        return out;
    }

    /**
     * Encodes {@code values[from, from + count)} as {@code dtype} into {@code out} at its position,
     * little-endian, advancing the position by {@code count * dtype.byteSize()}.
     */
    static void encode(float[] values, int from, int count, DType dtype, ByteBuffer out) {
        ByteBuffer le = out.order(ByteOrder.LITTLE_ENDIAN);
        int to = from + count;
        switch (dtype) {
            case F32 -> le.asFloatBuffer().put(values, from, count);
            case F64 -> {
                for (int i = from; i < to; i++) {
                    le.putDouble(le.position() + (i - from) * Double.BYTES, values[i]);
                }
            }
            case F16 -> {
                for (int i = from; i < to; i++) {
                    le.putShort(le.position() + (i - from) * Short.BYTES, HalfFloats.f32ToF16(values[i]));
                }
            }
            case BF16 -> {
                for (int i = from; i < to; i++) {
                    le.putShort(le.position() + (i - from) * Short.BYTES, HalfFloats.f32ToBf16(values[i]));
                }
            }
            default -> throw new AssertionError(dtype); // callers check SUPPORTED first
        }
        le.position(le.position() + count * dtype.byteSize());
    }

    /** Throws the user-facing error for a dtype that is not one of {@link #SUPPORTED}. */
    private static void checkSupported(String tensor, DType dtype) {
        if (!SUPPORTED.contains(dtype)) {
            throw new SafetensorsException("Tensor '" + tensor + "' has dtype " + dtype.safetensorsName()
                    + ", which Scalpel cannot convert to floats; it reads F32, F16, BF16 and F64 tensors.");
        }
    }
}
