package dev.scalpel.engine.spec;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.testing.FuzzModel;
import dev.scalpel.engine.testing.HostileInput;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jazzer target: any training spec either becomes a fresh edit on the GQA fixture and the fine-tuner's settings (all
 * that {@code scalpel train} does before its first step), or is refused with a readable message. Seeds: specs of each
 * method ({@code TrainSpecFuzzTestInputs}).
 */
class TrainSpecFuzzTest {
    @TempDir
    static Path dir;

    /** The map the per-head-learning-rate seed names, beside the spec (it is the map target's seed, made for the fixture). */
    @BeforeAll
    static void map() throws IOException {
        try (InputStream map = TrainSpecFuzzTest.class.getResourceAsStream(
                "/dev/scalpel/engine/importance/ImportanceMapFuzzTestInputs/anyMapReadsOrIsRefused/de.json")) {
            Files.copy(map, dir.resolve("map.json"));
        }
    }

    @FuzzTest(maxExecutions = 1_000_000, maxDuration = "3h")
    void anySpecBuildsOrIsRefused(byte[] input) throws IOException {
        Path file = dir.resolve("spec.json");
        Files.write(file, input);
        HostileInput.readOrRefuse(() -> {
            TrainSpec spec = TrainSpec.read(file);
            spec.fineTunerSpec();
            try (Edit edit = spec.newEdit(FuzzModel.model(), FuzzModel.hash(), dir)) {
                if (edit.parameterCount() <= 0) {
                    throw new AssertionError("a spec that trains nothing was accepted: " + edit.describe());
                }
            }
        });
    }
}
