package dev.scalpel.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.importance.ImportanceMapFile;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.SafetensorsWriter;
import dev.scalpel.engine.model.safetensors.TensorSource;
import dev.scalpel.engine.steer.GgufControlVector;
import dev.scalpel.engine.steer.SteeringVector;
import dev.scalpel.engine.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile values and files that used to crash with an internal error or be applied silently: each is now refused with
 * exit 1 and one line that names the problem (never "internal error", never a stack trace).
 */
class HostileInputsTest {
    private static final Path LLAMA = Fixtures.model("llama-gqa");
    @TempDir
    Path tmp;
    private Path text;

    @BeforeEach
    void writeText() throws IOException {
        text = tmp.resolve("t.txt");
        Files.writeString(text, "Der schnelle braune Fuchs springt über den faulen Hund. ".repeat(20));
    }

    private static void refused(CliRun r, String because) {
        assertEquals(1, r.status(), r.out() + r.err());
        assertFalse(r.err().contains("internal error"), r.err());
        assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        assertTrue(r.err().contains(because), r.err());
    }

    private CliRun train(String specJson) throws IOException {
        Path spec = tmp.resolve("spec.json");
        Files.writeString(spec, specJson);
        return CliRun.of("train", "--model", LLAMA.toString(), "--spec", spec.toString(), "--out", tmp.resolve("e.json").toString());
    }

    @Test
    void badTrainingSpecsAreRefusedByName() throws IOException {
        String base = "\"target\": \"t.txt\", \"steps\": 2, \"context\": 16";
        refused(train("{\"method\": \"head-lora\", \"heads\": \"L0H0\", \"rank\": 0, " + base + "}"), "rank must be at least 1");
        refused(train("{\"method\": \"head-lora\", \"heads\": \"L0H0\", \"rank\": -3, " + base + "}"), "rank must be at least 1");
        refused(train("{\"method\": \"lora\", \"dropout\": 1.5, " + base + "}"), "dropout must be in [0, 1)");
        refused(train("null"), "is not a JSON object");
        refused(train("{\"method\": \"head-lora\", \"heads\": \"L0H0\", \"lr\": \"NaN\", " + base + "}"), "learning rate");
        refused(train("{\"method\": \"head-lora\", \"heads\": \"L0H0\", \"lr\": -1, " + base + "}"), "learning rate");
        refused(train("{\"method\": \"head-lora\", \"heads\": \"L9H0\", " + base + "}"), "the model has 2 layers");
        Files.writeString(text, "");
        refused(train("{\"method\": \"head-lora\", \"heads\": \"L0H0\", " + base + "}"), "no tokens");
    }

    @Test
    void aMapOfAnotherModelIsNotUsedForPerHeadRates() throws IOException {
        ImportanceMapFile.write(new ImportanceMap("another-model", "d", "de", "gradient", 10,
                new double[][] {{1, 2, 3, 4}, {4, 3, 2, 1}}), tmp.resolve("map.json"), List.of());
        refused(train("{\"method\": \"head-finetune\", \"heads\": \"all\", \"per_head_lr\": {\"map\": \"map.json\"}, "
                + "\"target\": \"t.txt\", \"steps\": 2, \"context\": 16}"), "was made for another model");
    }

    @Test
    void aNegativeRankInAnEditsFileIsRefused() throws IOException {
        Path edits = tmp.resolve("e.json");
        assertEquals(0, train("{\"method\": \"head-lora\", \"heads\": \"L0H0\", \"rank\": 2, \"target\": \"t.txt\", \"steps\": 1, "
                + "\"context\": 16}").status());
        Files.writeString(edits, Files.readString(edits).replace("\"rank\" : 2", "\"rank\" : -2"));
        refused(CliRun.of("eval", "--model", LLAMA.toString(), "--data", "de=" + text, "--edits", edits.toString()),
                "rank must be at least 1");
    }

    @Test
    void aSteeringVectorForAnotherModelIsRefused() {
        Path vector = tmp.resolve("v.gguf");
        GgufControlVector.write(vector, new SteeringVector(99, new float[64]), "llama", 100, List.of());
        refused(CliRun.of("generate", "--model", LLAMA.toString(), "--prompt", "Der", "--steer", vector.toString()),
                "the model has blocks 0 … 1");
        GgufControlVector.write(vector, new SteeringVector(1, new float[3]), "llama", 2, List.of());
        refused(CliRun.of("generate", "--model", LLAMA.toString(), "--prompt", "Der", "--steer", vector.toString()),
                "has 3 numbers but the model's residual stream has 64");
    }

    @Test
    void aSteeringVectorForBlockZeroIsRefusedBeforeAnyWork() throws IOException {
        Files.writeString(tmp.resolve("pos.txt"), "Der Dienst startet.\n");
        Files.writeString(tmp.resolve("neg.txt"), "The service starts.\n");
        Path vector = tmp.resolve("v0.gguf");
        refused(CliRun.of("vectors", "steer", "--model", LLAMA.toString(), "--layer", "0", "--positive", tmp.resolve("pos.txt").toString(),
                "--negative", tmp.resolve("neg.txt").toString(), "--out", vector.toString()), "cannot steer the output of block 0");
        assertFalse(Files.exists(vector));
    }

    @Test
    void aHeadGroupWithTensorsOfTheWrongShapeIsRefused() throws IOException {
        Path group = tmp.resolve("g.json");
        assertEquals(0, CliRun.of("heads", "extract", "--model", LLAMA.toString(), "--heads", "L0H0", "--name", "g",
                "--out", group.toString()).status());
        // the same manifest, but its tensors (hash recorded, so the pair is consistent) hold one row (column) instead of
        // a slice: a plausible head width for some model, not this model's 16
        var manifest = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(group.toFile());
        Map<String, TensorSource> oneRow = new LinkedHashMap<>();
        for (String p : List.of("q", "k", "v", "o")) {
            oneRow.put("L0H0." + p, TensorSource.ofFloats(DType.F32, p.equals("o") ? new long[] {64, 1} : new long[] {1, 64}, new float[64]));
        }
        Path tensors = tmp.resolve("g.bad.safetensors");
        SafetensorsWriter.write(tensors, oneRow, Map.of("format", "scalpel-head-group/2"));
        manifest.put("tensors", tensors.getFileName().toString()).put("tensors_sha256", ModelHash.ofFile(tensors));
        Files.writeString(group, manifest.toString());
        refused(CliRun.of("heads", "apply", "--model", LLAMA.toString(), "--group", group.toString(), "--no-eval"),
                "of shape [1, 64] but that slice of this model is [16, 64]");
    }

    @Test
    void aNegativeNormEpsIsRefused() throws IOException {
        Path model = tmp.resolve("m");
        Files.createDirectories(model);
        try (Stream<Path> files = Files.list(LLAMA)) {
            for (Path f : files.toList()) {
                Files.copy(f, model.resolve(f.getFileName()));
            }
        }
        Files.writeString(model.resolve("config.json"), Files.readString(model.resolve("config.json"))
                .replaceFirst("\"rms_norm_eps\": [0-9.e-]+", "\"rms_norm_eps\": -1e-06"));
        refused(CliRun.of("info", "--model", model.toString()), "norm eps");
    }

    @Test
    void aNamedPipeIsRefusedInsteadOfHanging() throws Exception {
        Path fifo = tmp.resolve("pipe.txt");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(mk.waitFor() == 0, "mkfifo is not available here");
        CliRun r = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> CliRun.of("eval", "--model", LLAMA.toString(), "--data", "de=" + fifo));
        refused(r, "is not a regular file");
    }
}
