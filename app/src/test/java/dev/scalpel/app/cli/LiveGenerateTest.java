package dev.scalpel.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.model.TensorPairFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --live-generate}: the CLI samples the live weights from a thread of its own while training, and the
 * training it watches is the same as without it (issue 16's train-while-serving).
 */
class LiveGenerateTest {
    @TempDir
    Path tmp;

    @Test
    void liveGenerationPrintsWhileTrainingAndLeavesTheTrainedEditAsItWouldBe() throws IOException {
        Path model = ModelsWithTexts.llamaGqa(tmp.resolve("model"), 20);
        Path spec = tmp.resolve("spec.json");
        Files.writeString(spec, """
                {"method": "head-lora", "heads": "L1H1", "rank": 2, "objective": "learn", "target": "model/train-sample/de.txt",
                 "token_budget": 64, "steps": 20, "batch_size": 2, "context": 16, "lr": 0.01, "seed": 4}""");
        CliRun watched = CliRun.of("train", "--model", model.toString(), "--spec", spec.toString(), "--out", tmp.resolve("w.json").toString(),
                "--live-generate", "Der", "--live-every", "5");
        CliRun plain = CliRun.of("train", "--model", model.toString(), "--spec", spec.toString(), "--out", tmp.resolve("p.json").toString());
        assertEquals(0, watched.status(), watched.err());
        assertEquals(0, plain.status(), plain.err());
        long lines = watched.out().lines().filter(l -> l.startsWith("  live @ step ")).count();
        assertTrue(lines >= 1 && lines <= 4, watched.out());
        assertEquals(plain.out().lines().filter(l -> l.startsWith("step ")).toList(),
                watched.out().lines().filter(l -> l.startsWith("step ")).toList(), "the same losses with a live reader");
        assertEquals(Files.mismatch(TensorPairFile.files(tmp.resolve("p.json")).get(1), TensorPairFile.files(tmp.resolve("w.json")).get(1)),
                -1L, "the same trained tensors");

        CliRun asJson = CliRun.of("train", "--model", model.toString(), "--spec", spec.toString(), "--out", tmp.resolve("j.json").toString(),
                "--live-generate", "Der", "--live-every", "5", "--json");
        assertEquals(0, asJson.status(), asJson.err());
        var summary = new com.fasterxml.jackson.databind.ObjectMapper().readTree(asJson.out());
        assertTrue(summary.get("live_samples").size() >= 1, asJson.out());
        assertTrue(summary.get("live_samples").get(0).get("step").asLong() >= 1, asJson.out());
        assertTrue(summary.get("train_seconds").asDouble() <= summary.get("seconds").asDouble(), asJson.out());

        CliRun zero = CliRun.of("train", "--model", model.toString(), "--spec", spec.toString(), "--out", tmp.resolve("z.json").toString(),
                "--live-generate", "Der", "--live-every", "0");
        assertEquals(1, zero.status());
        assertTrue(zero.err().contains("--live-every must be at least 1"), zero.err());
    }
}
