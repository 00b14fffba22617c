package dev.scalpel.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.TensorPairFile;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import dev.scalpel.engine.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 21's reproductions, run as a user would through the CLI: no command may write into a model's folder (also
 * through a symbolic link or a bind mount), diverged training is refused as such, non-finite tensors are not written.
 * Each test fails on the code before the output guard.
 */
class DataLossTest {
    @TempDir
    Path tmp;
    private Path model;
    private Path text;

    @BeforeEach
    void copyAModel() throws IOException {
        model = copyOf(Fixtures.model("llama-gqa"), tmp.resolve("M"));
        text = tmp.resolve("t.txt");
        Files.writeString(text, "Der schnelle braune Fuchs springt über den faulen Hund. ".repeat(20));
    }

    @Test
    void vectorsPruneCannotReplaceTheModelsWeights() throws IOException {
        Map<String, String> before = contents(model);
        CliRun r = CliRun.of("vectors", "prune", "--model", model.toString(), "--heads", "L0H0", "--data", "de=" + text,
                "--out", model.resolve("model.json").toString());
        assertEquals(1, r.status(), r.out() + r.err());
        assertTrue(r.err().contains("model folder") && r.err().lines().count() == 1, r.err());
        assertEquals(before, contents(model), "the model folder is byte for byte as it was");
    }

    @Test
    void trainCannotWriteIntoAnotherModelsFolder() throws IOException {
        Path other = copyOf(Fixtures.model("llama-gqa"), tmp.resolve("OTHER"));
        Map<String, String> before = contents(other);
        Path spec = trainSpec("0.01");
        CliRun r = CliRun.of("train", "--model", model.toString(), "--spec", spec.toString(), "--out", other.resolve("model.json").toString());
        assertEquals(1, r.status(), r.out() + r.err());
        assertTrue(r.err().contains("inside the model folder"), r.err());
        assertEquals(before, contents(other));
    }

    @Test
    void anOutputBesideAFileScalpelDidNotWriteIsRefused() throws IOException {
        Path notes = tmp.resolve("notes.json");
        Files.writeString(notes, "{\"mine\": true}");
        CliRun r = CliRun.of("vectors", "prune", "--model", model.toString(), "--heads", "L0H0", "--data", "de=" + text,
                "--out", notes.toString());
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("Scalpel did not write it"), r.err());
        assertEquals("{\"mine\": true}", Files.readString(notes));
        Path edits = tmp.resolve("e.json");
        assertEquals(0, CliRun.of("vectors", "prune", "--model", model.toString(), "--heads", "L0H0", "--data", "de=" + text,
                "--out", edits.toString()).status());
        assertEquals(0, CliRun.of("vectors", "prune", "--model", model.toString(), "--heads", "L0H1", "--data", "de=" + text,
                "--out", edits.toString()).status(), "an edits file Scalpel wrote may be replaced by a new one");
        assertEquals(2, TensorPairFile.files(edits).size());
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(1, files.filter(f -> f.getFileName().toString().matches("e\\..*\\.safetensors")).count(),
                    "the replaced pair's tensors file is gone, the new one is there");
        }
    }

    @Test
    void exportThroughASymlinkToTheModelIsRefused() throws IOException {
        Path edits = pruneEdits();
        Path link = Files.createSymbolicLink(tmp.resolve("LINK_TO_M"), model);
        Map<String, String> before = contents(model);
        CliRun r = CliRun.of("export", "--model", model.toString(), "--edits", edits.toString(), "--out", link.toString());
        assertEquals(1, r.status(), r.err());
        CliRun viaLink = CliRun.of("export", "--model", link.toString(), "--edits", edits.toString(), "--out", model.toString());
        assertEquals(1, viaLink.status(), viaLink.err());
        assertTrue(viaLink.err().contains("model folder"), viaLink.err());
        assertEquals(before, contents(model));
    }

    @Test
    void exportThroughABindMountOfTheModelIsRefused() throws Exception {
        Path edits = pruneEdits();
        Path mount = Files.createDirectory(tmp.resolve("BIND"));
        boolean root = "0".equals(exec("id", "-u").trim());
        assumeTrue(root, "a bind mount needs root; run the tests as root to check this case");
        boolean mounted = execStatus("mount", "--bind", model.toString(), mount.toString()) == 0;
        assumeTrue(mounted, "this machine refuses mount --bind (no CAP_SYS_ADMIN); the file-key comparison is not checked here");
        try {
            Map<String, String> before = contents(model);
            CliRun r = CliRun.of("export", "--model", model.toString(), "--edits", edits.toString(), "--out", mount.toString());
            assertEquals(1, r.status(), r.err());
            CliRun sub = CliRun.of("export", "--model", mount.toString(), "--edits", edits.toString(), "--out", model.resolve("x").toString());
            assertEquals(1, sub.status(), sub.err());
            assertEquals(before, contents(model));
        } finally {
            execStatus("umount", "-l", mount.toString());   // lazy: the JVM may still map the model's files
        }
    }

    @Test
    void headGroupAndSteeringVectorNeverGoIntoTheModelFolder() throws IOException {
        Path edits = pruneEdits();
        Map<String, String> before = contents(model);
        CliRun group = CliRun.of("export", "--model", model.toString(), "--edits", edits.toString(), "--format", "group",
                "--heads", "L1H1", "--out", model.toString());
        assertEquals(1, group.status(), group.err());
        Files.writeString(tmp.resolve("pos.txt"), "I love this\nwonderful day\n");
        Files.writeString(tmp.resolve("neg.txt"), "I hate this\nterrible day\n");
        CliRun steer = CliRun.of("vectors", "steer", "--model", model.toString(), "--layer", "1", "--positive",
                tmp.resolve("pos.txt").toString(), "--negative", tmp.resolve("neg.txt").toString(), "--out", model.resolve("v.gguf").toString());
        assertEquals(1, steer.status(), steer.err());
        CliRun extract = CliRun.of("heads", "extract", "--model", model.toString(), "--heads", "L1H1", "--name", "g",
                "--out", model.resolve("sub").resolve("g.json").toString());
        assertEquals(1, extract.status(), extract.err());
        assertEquals(before, contents(model));
    }

    @Test
    void divergedTrainingExitsOneAndWritesOnlyFiniteValues() throws IOException {
        Path out = tmp.resolve("diverged.json");
        Path nan = nanModel();
        CliRun r = CliRun.of("train", "--model", nan.toString(), "--spec", trainSpec("1e-3").toString(), "--out", out.toString());
        assertEquals(1, r.status(), r.out() + r.err());
        assertTrue(r.err().contains("loss became") && r.err().contains("at step 1"), r.err());
        assertFalse(Files.exists(out), "a diverged run is never saved, not even its last good step");
        assertTrue(r.out().contains("nothing was written"), r.out());
        CliRun eval = CliRun.of("eval", "--model", nan.toString(), "--data", "de=" + text);
        assertEquals(1, eval.status(), eval.err());
        assertTrue(eval.err().contains("non-finite loss (NaN) on text 'de', windows 1–"), eval.err());

        CliRun absurd = CliRun.of("train", "--model", model.toString(), "--spec", trainSpec("1e9").toString(), "--out", out.toString());
        assertEquals(1, absurd.status(), absurd.err());
        assertTrue(absurd.err().contains("The learning rate must be a number in (0, 10]"), absurd.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void exportRefusesNonFiniteWeightsUnlessAsked() throws IOException {
        Path nanModel = nanModel();
        Path nanEdits = tmp.resolve("nan-edits.json");
        CliRun task = CliRun.of("vectors", "task", "--model", nanModel.toString(), "--fine-tuned", model.toString(), "--heads", "L0H0",
                "--out", nanEdits.toString());
        assertEquals(0, task.status(), task.err());
        CliRun refused = CliRun.of("export", "--model", nanModel.toString(), "--edits", nanEdits.toString(), "--out", tmp.resolve("x").toString());
        assertEquals(1, refused.status(), refused.err());
        assertTrue(refused.err().contains("non-finite") && refused.err().contains("--allow-non-finite"), refused.err());
        assertFalse(Files.exists(tmp.resolve("x")), "nothing is written when a weight is not finite (the export is staged)");
        CliRun asked = CliRun.of("export", "--model", nanModel.toString(), "--edits", nanEdits.toString(), "--out", tmp.resolve("y").toString(),
                "--allow-non-finite");
        assertEquals(0, asked.status(), asked.err());
    }

    @Test
    void aTornEditsPairIsRefusedAndAnInterruptedSaveLeavesTheOldPair() throws IOException {
        Path edits = tmp.resolve("e.json");
        String[] prune = {"vectors", "prune", "--model", model.toString(), "--data", "de=" + text, "--out", edits.toString(), "--heads"};
        assertEquals(0, CliRun.of(concat(prune, "L0H0")).status());
        byte[] oldJson = Files.readAllBytes(edits);
        Path oldTensors = TensorPairFile.files(edits).get(1);
        byte[] oldTensorBytes = Files.readAllBytes(oldTensors);
        String[] eval = {"eval", "--model", model.toString(), "--data", "de=" + text, "--context", "32", "--json", "--edits", edits.toString()};
        double oldCe = CliRun.of(eval).json().get("languages").get("de").get("ce").asDouble();

        // a save of other edits that stopped after its tensors file, before its JSON replaced the old one:
        assertEquals(0, CliRun.of(concat(prune, "L1H*")).status());
        Path newTensors = TensorPairFile.files(edits).get(1);
        Files.write(edits, oldJson);
        Files.write(oldTensors, oldTensorBytes);
        assertTrue(Files.exists(newTensors));
        assertEquals(oldCe, CliRun.of(eval).json().get("languages").get("de").get("ce").asDouble(), 0.0,
                "the old JSON still reads its own tensors, not the newer file beside it");

        // tensors that do not match the JSON's hash: refused, one line
        byte[] torn = oldTensorBytes.clone();
        torn[torn.length - 1] ^= 1;
        Files.write(oldTensors, torn);
        CliRun r = CliRun.of(eval);
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("is torn"), r.err());
    }

    /** A copy of the model with a NaN in one MLP weight: merged exports carry it, pruning L0H0 does not touch it. */
    private Path nanModel() throws IOException {
        Path nanModel = tmp.resolve("NAN");
        copyOf(model, nanModel);
        dev.scalpel.engine.model.safetensors.SafetensorsFile source = SafetensorsFile.open(model.resolve("model.safetensors"));
        Map<String, dev.scalpel.engine.model.safetensors.TensorSource> tensors = new java.util.LinkedHashMap<>();
        for (String name : source.tensorNames()) {
            float[] values = TensorFloats.toFloatArray(source.info(name), source.data(name));
            if (name.contains("layers.1.mlp.down_proj")) {
                values[0] = Float.NaN;
            }
            tensors.put(name, dev.scalpel.engine.model.safetensors.TensorSource.ofFloats(
                    dev.scalpel.engine.model.safetensors.DType.F32, source.info(name).shapeArray(), values));
        }
        dev.scalpel.engine.model.safetensors.SafetensorsWriter.write(nanModel.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        source.close();
        return nanModel;
    }

    private Path pruneEdits() {
        Path edits = tmp.resolve("edits").resolve("e.json");
        CliRun r = CliRun.of("vectors", "prune", "--model", model.toString(), "--heads", "L0H0", "--data", "de=" + text,
                "--out", edits.toString());
        assertEquals(0, r.status(), r.err());
        return edits;
    }

    private Path trainSpec(String lr) throws IOException {
        Path spec = tmp.resolve("spec-" + lr + ".json");
        Files.writeString(spec, """
                {"method": "head-lora", "heads": "L1H0", "rank": 2, "alpha": 4, "objective": "learn", "target": "%s",
                 "token_budget": 64, "steps": 6, "batch_size": 2, "context": 32, "lr": %s, "seed": 3}
                """.formatted(text.toString().replace("\\", "\\\\"), lr));
        return spec;
    }

    /** File name → SHA-256 of every file in {@code dir}. */
    private static Map<String, String> contents(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(f).toString(), ModelHash.ofFile(f));
            }
        }
        return out;
    }

    private static Path copyOf(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String exec(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    private static int execStatus(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }
}
