package dev.scalpel.engine.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Bit patterns are IEEE 754 binary16 and bfloat16 as PyTorch stores them. */
class SafetensorsHalfFloatsTest {

    private static int bits(float f) {
        return Float.floatToRawIntBits(f);
    }

    private static void assertF16(int expectedBits, float value) {
        assertEquals(expectedBits, HalfFloats.f32ToF16(value) & 0xffff,
                () -> value + " should be F16 0x" + Integer.toHexString(expectedBits)
                        + " but was 0x" + Integer.toHexString(HalfFloats.f32ToF16(value) & 0xffff));
    }

    private static void assertBf16(int expectedBits, float value) {
        assertEquals(expectedBits, HalfFloats.f32ToBf16(value) & 0xffff,
                () -> value + " should be BF16 0x" + Integer.toHexString(expectedBits)
                        + " but was 0x" + Integer.toHexString(HalfFloats.f32ToBf16(value) & 0xffff));
    }

    @Test
    void f16ToF32SpecialValues() {
        assertEquals(0x0000_0000, bits(HalfFloats.f16ToF32((short) 0x0000)));     // +0
        assertEquals(0x8000_0000, bits(HalfFloats.f16ToF32((short) 0x8000)));     // -0 keeps its sign
        assertEquals(0x1p-24f, HalfFloats.f16ToF32((short) 0x0001));              // smallest subnormal
        assertEquals(-0x1p-24f, HalfFloats.f16ToF32((short) 0x8001));
        assertEquals(1023 * 0x1p-24f, HalfFloats.f16ToF32((short) 0x03ff));       // largest subnormal
        assertEquals(0x1p-14f, HalfFloats.f16ToF32((short) 0x0400));              // smallest normal
        assertEquals(1f, HalfFloats.f16ToF32((short) 0x3c00));
        assertEquals(-2f, HalfFloats.f16ToF32((short) 0xc000));
        assertEquals(0.333251953125f, HalfFloats.f16ToF32((short) 0x3555));
        assertEquals(65504f, HalfFloats.f16ToF32((short) 0x7bff));                // largest finite
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.f16ToF32((short) 0x7c00));
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.f16ToF32((short) 0xfc00));
        assertEquals(0x7fc0_0000, bits(HalfFloats.f16ToF32((short) 0x7e00)));     // canonical quiet NaN
        assertTrue(Float.isNaN(HalfFloats.f16ToF32((short) 0x7c01)));             // signalling NaN stays NaN
    }

    @Test
    void f32ToF16SpecialValuesAndRounding() {
        assertF16(0x0000, 0f);
        assertF16(0x8000, -0f);
        assertF16(0x3c00, 1f);
        assertF16(0x2e66, 0.1f);
        assertF16(0x7bff, 65504f);
        assertF16(0x7bff, 65519.99f);          // just under the midpoint to infinity
        assertF16(0x7c00, 65520f);             // the midpoint: ties to even, and 0x7bff is odd, so infinity
        assertF16(0x7c00, 1e6f);
        assertF16(0xfc00, -1e6f);
        assertF16(0x7c00, Float.POSITIVE_INFINITY);
        assertF16(0xfc00, Float.NEGATIVE_INFINITY);
        assertF16(0x7e00, Float.NaN);
        assertEquals(0x7c00, HalfFloats.f32ToF16(Float.intBitsToFloat(0x7f80_0001)) & 0x7c00, "signalling NaN: exponent all ones");
        assertTrue((HalfFloats.f32ToF16(Float.intBitsToFloat(0x7f80_0001)) & 0x3ff) != 0, "signalling NaN must not become infinity");
        // ties to even in the normal range: 1 + 2^-11 is halfway between 0x3c00 and 0x3c01
        assertF16(0x3c00, 1f + 0x1p-11f);
        assertF16(0x3c02, 1f + 3 * 0x1p-11f);
        assertF16(0x3c01, 1f + 0x1p-11f + 0x1p-20f);
        // subnormals
        assertF16(0x0001, 0x1p-24f);
        assertF16(0x8001, -0x1p-24f);
        assertF16(0x0000, 0x1p-25f);                                       // halfway to 2^-24: even is 0
        assertF16(0x0001, Math.nextUp(0x1p-25f));
        assertF16(0x0002, 3 * 0x1p-25f);                                   // halfway between 1 and 2 ulps: 2
        assertF16(0x0000, 0x1p-26f);
        assertF16(0x0000, Float.MIN_VALUE);
        assertF16(0x03ff, 1023 * 0x1p-24f);
        assertF16(0x0400, 0x1p-14f - 0x1p-25f);                            // halfway: rounds up into the normals
        assertF16(0x8400, -0x1p-14f);
    }

    @Test
    void everyF16SurvivesARoundTripThroughFloat() {
        for (int h = 0; h <= 0xffff; h++) {
            float f = HalfFloats.f16ToF32((short) h);
            int back = HalfFloats.f32ToF16(f) & 0xffff;
            if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) {
                assertTrue(Float.isNaN(f), "F16 NaN 0x" + Integer.toHexString(h));
                assertTrue((back & 0x7c00) == 0x7c00 && (back & 0x3ff) != 0, "NaN back to NaN");
            } else {
                assertEquals(h, back, "F16 0x" + Integer.toHexString(h) + " -> " + f);
            }
        }
    }

    @Test
    void f32ToF16PicksTheNearestHalf() {
        Random random = new Random(20240611);
        for (int i = 0; i < 200_000; i++) {
            float x = (random.nextFloat() * 2 - 1) * (float) Math.pow(2, random.nextInt(40) - 26); // |x| in subnormals .. 2^14
            int h = HalfFloats.f32ToF16(x) & 0xffff;
            double error = Math.abs(x - (double) HalfFloats.f16ToF32((short) h));
            for (int neighbour : new int[] {h - 1, h + 1}) {
                if ((neighbour & 0x7fff) < 0x7c00 && (neighbour & 0x8000) == (h & 0x8000)) {
                    double other = Math.abs(x - (double) HalfFloats.f16ToF32((short) neighbour));
                    assertTrue(error <= other, x + " -> 0x" + Integer.toHexString(h) + " but 0x" + Integer.toHexString(neighbour) + " is nearer");
                }
            }
        }
    }

    @Test
    void bf16ToF32SpecialValues() {
        assertEquals(0x8000_0000, bits(HalfFloats.bf16ToF32((short) 0x8000)));
        assertEquals(1f, HalfFloats.bf16ToF32((short) 0x3f80));
        assertEquals(-2f, HalfFloats.bf16ToF32((short) 0xc000));
        assertEquals(Float.intBitsToFloat(0x0001_0000), HalfFloats.bf16ToF32((short) 0x0001)); // smallest subnormal, 2^-133
        assertEquals(0x1p-133f, HalfFloats.bf16ToF32((short) 0x0001));
        assertEquals(3.3895314e38f, HalfFloats.bf16ToF32((short) 0x7f7f));                    // largest finite
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.bf16ToF32((short) 0x7f80));
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.bf16ToF32((short) 0xff80));
        assertEquals(0x7fc0_0000, bits(HalfFloats.bf16ToF32((short) 0x7fc0)));
    }

    @Test
    void f32ToBf16SpecialValuesAndRounding() {
        assertBf16(0x0000, 0f);
        assertBf16(0x8000, -0f);
        assertBf16(0x3f80, 1f);
        assertBf16(0x3dcd, 0.1f);                        // 0x3dcccccd rounds up
        assertBf16(0x3f80, 1f + 0x1p-8f);                // halfway, 0x3f80 is even
        assertBf16(0x3f82, 1f + 3 * 0x1p-8f);            // halfway, 0x3f81 is odd: up to 0x3f82
        assertBf16(0x3f81, 1f + 0x1p-8f + 0x1p-20f);
        assertBf16(0x7f7f, 3.3895314e38f);
        assertBf16(0x7f80, Float.intBitsToFloat(0x7f7f_8000)); // halfway past the largest finite: infinity
        assertBf16(0x7f80, Float.MAX_VALUE);
        assertBf16(0xff80, -Float.MAX_VALUE);
        assertBf16(0x7f80, Float.POSITIVE_INFINITY);
        assertBf16(0xff80, Float.NEGATIVE_INFINITY);
        assertBf16(0x7fc0, Float.NaN);
        assertBf16(0x7fc0, Float.intBitsToFloat(0x7f80_0001)); // signalling NaN: truncating would give infinity
        assertBf16(0xffc0, Float.intBitsToFloat(0xff80_0001));
        assertBf16(0x0000, Float.intBitsToFloat(0x0000_8000)); // subnormal halfway, even is 0
        assertBf16(0x0002, Float.intBitsToFloat(0x0001_8000)); // subnormal halfway, 0x0001 odd: up
        assertBf16(0x0001, Float.intBitsToFloat(0x0000_8001));
        assertBf16(0x8001, Float.intBitsToFloat(0x8000_ffff));
    }

    @Test
    void everyBf16SurvivesARoundTripThroughFloat() {
        for (int h = 0; h <= 0xffff; h++) {
            float f = HalfFloats.bf16ToF32((short) h);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(HalfFloats.bf16ToF32(HalfFloats.f32ToBf16(f))));
            } else {
                assertEquals(h, HalfFloats.f32ToBf16(f) & 0xffff, "BF16 0x" + Integer.toHexString(h));
            }
        }
    }

    @Test
    void toFloatArrayReadsEachFloatDtype() {
        ByteBuffer f64 = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putDouble(1.0 / 3).putDouble(-1e300).putDouble(5e-324);
        float[] fromF64 = TensorFloats.toFloatArray(new TensorInfo("d", DType.F64, List.of(3L), 0, 24), f64.flip());
        assertArrayEquals(new float[] {0.33333334f, Float.NEGATIVE_INFINITY, 0f}, fromF64);
        assertEquals(0, f64.position(), "the caller's buffer is not moved");

        ByteBuffer f16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3c00).putShort((short) 0xfc00);
        assertArrayEquals(new float[] {1f, Float.NEGATIVE_INFINITY},
                TensorFloats.toFloatArray(new TensorInfo("h", DType.F16, List.of(2L), 0, 4), f16.flip()));

        ByteBuffer bf16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3dcd).putShort((short) 0xc000);
        assertArrayEquals(new float[] {0.10009765625f, -2f},
                TensorFloats.toFloatArray(new TensorInfo("b", DType.BF16, List.of(1L, 2L), 0, 4), bf16.flip()));

        // F32 is read little-endian even from a buffer set to big-endian
        ByteBuffer f32 = ByteBuffer.wrap(RawFiles.f32(1.5f, -7f)).order(ByteOrder.BIG_ENDIAN);
        assertArrayEquals(new float[] {1.5f, -7f}, TensorFloats.toFloatArray(new TensorInfo("f", DType.F32, List.of(2L), 0, 8), f32));
    }

    @Test
    void toFloatArrayRefusesOtherDtypesNamingTensorAndDtype() {
        TensorInfo ids = new TensorInfo("input_ids", DType.I64, List.of(2L), 0, 16);

        var e = assertThrows(SafetensorsException.class, () -> TensorFloats.toFloatArray(ids, ByteBuffer.allocate(16)));

        assertTrue(e.getMessage().contains("'input_ids'"), e.getMessage());
        assertTrue(e.getMessage().contains("dtype I64"), e.getMessage());
        assertTrue(e.getMessage().contains("F32, F16, BF16 and F64"), e.getMessage());
    }

    @Test
    void toFloatArrayRefusesABufferOfTheWrongLength() {
        TensorInfo info = new TensorInfo("w", DType.F32, List.of(4L), 0, 16);

        assertThrows(IllegalArgumentException.class, () -> TensorFloats.toFloatArray(info, ByteBuffer.allocate(12)));
    }
}
