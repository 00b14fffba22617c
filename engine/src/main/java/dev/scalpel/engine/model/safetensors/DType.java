package dev.scalpel.engine.model.safetensors;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The element types a safetensors file can hold, each with the name the file's header uses for it
 * ({@code "F32"}, {@code "BF16"}, …) and its size in bytes. Data is always stored little-endian.
 */
public enum DType {
    F64("F64", 8, true),
    F32("F32", 4, true),
    F16("F16", 2, true),
    /** bfloat16: the top 16 bits of an F32 (8 exponent bits, 7 mantissa bits). */
    BF16("BF16", 2, true),
    /** 8-bit float, 4 exponent and 3 mantissa bits. Recognised so such files open; Scalpel does not compute with it. */
    F8_E4M3("F8_E4M3", 1, true),
    /** 8-bit float, 5 exponent and 2 mantissa bits. Recognised so such files open; Scalpel does not compute with it. */
    F8_E5M2("F8_E5M2", 1, true),
    I64("I64", 8, false),
    I32("I32", 4, false),
    I16("I16", 2, false),
    I8("I8", 1, false),
    U64("U64", 8, false),
    U32("U32", 4, false),
    U16("U16", 2, false),
    U8("U8", 1, false),
    /** One byte per element, 0 or 1. */
    BOOL("BOOL", 1, false);

    private final String safetensorsName;
    private final int byteSize;
    private final boolean floatingPoint;

    DType(String safetensorsName, int byteSize, boolean floatingPoint) {
        this.safetensorsName = safetensorsName;
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    /** The name in the header's {@code "dtype"} field, e.g. {@code "BF16"}. */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for the float types (F64, F32, F16, BF16 and the two F8 types). */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** The type a header names, or empty if the name is not one of the above (names are case-sensitive). */
    public static Optional<DType> fromSafetensorsName(String name) {
        return Arrays.stream(values()).filter(d -> d.safetensorsName.equals(name)).findFirst();
    }

    /** The header names of all types, comma-separated, for error messages. */
    public static String knownNames() {
        return Arrays.stream(values()).map(DType::safetensorsName).collect(Collectors.joining(", "));
    }
}
