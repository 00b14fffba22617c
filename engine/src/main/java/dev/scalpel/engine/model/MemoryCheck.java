package dev.scalpel.engine.model;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.safetensors.SafetensorsCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * Refuses, before anything is allocated, a model whose weights would not fit: the engine holds every weight as float32,
 * so a checkpoint needs 4 bytes per parameter whatever dtype it is stored in. On the CPU the budget is the memory the
 * kernel says is available ({@code MemAvailable} in /proc/meminfo); where that cannot be read (not Linux), or on a GPU,
 * nothing is checked.
 */
public final class MemoryCheck {
    private static final Path MEMINFO = Path.of("/proc/meminfo");

    private MemoryCheck() {}

    /** Bytes the weights of the checkpoint in {@code dir} take in memory (float32). */
    public static long weightBytes(Path dir) {
        try (SafetensorsCheckpoint checkpoint = SafetensorsCheckpoint.open(dir)) {
            return checkpoint.names().stream().mapToLong(n -> checkpoint.info(n).numel()).sum() * Float.BYTES;
        }
    }

    /** @throws ScalpelException when {@code needed} bytes exceed {@code available}, naming both */
    static void requireFits(Path dir, long needed, OptionalLong available) {
        if (available.isPresent() && needed > available.getAsLong()) {
            throw new ScalpelException("The weights of " + dir + " need " + size(needed) + " as float32 but only "
                    + size(available.getAsLong()) + " of memory is available; close other programs, use a machine with "
                    + "more memory, or a smaller model.");
        }
    }

    /** "1.5 GiB", "12.3 MiB". */
    static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }

    /** Checks the checkpoint in {@code dir} against the memory of {@code device} (CPU only, see the class comment). */
    public static void requireFits(Path dir, ComputeDevice device) {
        if (device.isCuda()) {
            return;
        }
        requireFits(dir, weightBytes(dir), availableCpuBytes());
    }

    /** MemAvailable from /proc/meminfo, or empty where it cannot be read. */
    static OptionalLong availableCpuBytes() {
        try {
            for (String line : Files.readAllLines(MEMINFO)) {
                if (line.startsWith("MemAvailable:")) {
                    String[] parts = line.trim().split("\\s+");                  // "MemAvailable:  123456 kB"
                    return OptionalLong.of(Long.parseLong(parts[1]) * 1024);
                }
            }
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }
}
