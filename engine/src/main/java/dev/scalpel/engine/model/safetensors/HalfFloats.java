package dev.scalpel.engine.model.safetensors;

/**
 * Bit-exact conversions between {@code float} and the two 16-bit float formats, on their raw bits
 * (a {@code short} as it is stored in the file).
 *
 * <ul>
 *   <li><b>F16</b> (IEEE 754 binary16): 1 sign, 5 exponent (bias 15), 10 mantissa bits; largest finite
 *       65504, smallest subnormal 2^-24.</li>
 *   <li><b>BF16</b> (bfloat16): the top 16 bits of an F32: 1 sign, 8 exponent (bias 127), 7 mantissa bits.</li>
 * </ul>
 *
 * Narrowing rounds to nearest, ties to even (as PyTorch does); values beyond the largest finite value
 * become infinity, tiny values become subnormals or zero, and NaN stays NaN (made quiet).
 */
public final class HalfFloats {
    private HalfFloats() {}

    /** F16 bits to float; exact for every input, including subnormals, ±0, ±inf and NaN. */
    public static float f16ToF32(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            // inf (mantissa 0) or NaN (payload kept in the top mantissa bits)
            return Float.intBitsToFloat(sign | 0x7f80_0000 | (mantissa << 13));
        }
        if (exponent == 0) {
            // ±0 or a subnormal: mantissa × 2^-24, exactly representable as a float
            float magnitude = mantissa * 0x1p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        // normal: rebias the exponent from 15 to 127 (+112) and widen the mantissa from 10 to 23 bits
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /** BF16 bits to float; exact (a BF16 is a float with the low 16 bits zero). */
    public static float bf16ToF32(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Float to F16 bits, rounding to nearest even; overflow gives ±inf, underflow subnormals or ±0. */
    public static short f32ToF16(float value) {
        int x = Float.floatToRawIntBits(value);
        int sign = (x >>> 16) & 0x8000;
        int exponent = (x >>> 23) & 0xff;
        int mantissa = x & 0x7f_ffff;
        if (exponent == 0xff) {
            // inf stays inf; NaN keeps its top payload bits and gets the quiet bit so it cannot turn into inf
            return (short) (sign | 0x7c00 | (mantissa != 0 ? 0x200 | (mantissa >>> 13) : 0));
        }
        int halfExponent = exponent - 127 + 15;
        if (halfExponent >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (halfExponent <= 0) {
            // Subnormal result: value / 2^-24, rounded. Below 2^-25 (halfExponent < -10) even rounding gives 0.
            if (halfExponent < -10) {
                return (short) sign;
            }
            int significand = mantissa | 0x80_0000; // restore the implicit leading 1
            int shift = 14 - halfExponent;           // 14..24
            return (short) (sign | roundShift(significand, shift));
        }
        // Normal result. A carry out of the mantissa correctly bumps the exponent (up to inf at 0x7c00).
        int half = (halfExponent << 10) | (mantissa >>> 13);
        return (short) (sign | roundHalfEven(half, mantissa & 0x1fff, 0x1000));
    }

    /** Float to BF16 bits, rounding to nearest even; values past the largest BF16 become ±inf. */
    public static short f32ToBf16(float value) {
        int x = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((x >>> 16) | 0x0040); // keep sign and top payload bits, set the quiet bit
        }
        int roundingBias = 0x7fff + ((x >>> 16) & 1); // ties go to the even neighbour
        return (short) ((x + roundingBias) >>> 16);
    }

    private static int roundShift(int value, int shift) {
        return roundHalfEven(value >>> shift, value & ((1 << shift) - 1), 1 << (shift - 1));
    }

    private static int roundHalfEven(int truncated, int remainder, int halfway) {
        boolean up = remainder > halfway || (remainder == halfway && (truncated & 1) == 1);
        return up ? truncated + 1 : truncated;
    }
}
