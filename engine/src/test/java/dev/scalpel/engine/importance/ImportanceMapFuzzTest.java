package dev.scalpel.engine.importance;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.scalpel.engine.testing.HostileInput;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jazzer target: any importance map file either reads as a map whose every score is finite, or is refused with a
 * readable message. Seeds: a map that scalpel importance wrote ({@code ImportanceMapFuzzTestInputs}).
 */
class ImportanceMapFuzzTest {
    @TempDir
    static Path dir;

    @FuzzTest(maxExecutions = 1_000_000, maxDuration = "3h")
    void anyMapReadsOrIsRefused(byte[] input) throws IOException {
        Path file = dir.resolve("map.json");
        Files.write(file, input);
        HostileInput.readOrRefuse(() -> {
            var map = ImportanceMapFile.read(file);
            for (double[] row : map.scores()) {
                for (double score : row) {
                    if (!Double.isFinite(score)) {
                        throw new AssertionError("a map with a non-finite score was accepted");
                    }
                }
            }
        });
    }
}
