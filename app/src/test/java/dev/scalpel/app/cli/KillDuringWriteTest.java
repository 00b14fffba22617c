package dev.scalpel.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.app.Launcher;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.groups.HeadGroup;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.ModelLoader;
import dev.scalpel.engine.model.TensorPairFile;
import dev.scalpel.engine.model.Tensors;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorFloats;
import dev.scalpel.engine.testing.ChildJvm;
import dev.scalpel.engine.testing.Fixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Crash safety, as a user meets it: {@code scalpel export} killed with SIGKILL at a random moment of its run leaves
 * the destination holding the previous complete output or the new complete one — loaded as Scalpel loads it and
 * compared tensor for tensor with an uninterrupted write of each — never a torn or half-populated one. Each trial
 * runs the CLI in a child JVM that overwrites the destination with the other of two edits and kills it after a random
 * 30–110 % of an uninterrupted run's time, so most kills land in loading or writing; and two exports to one path at
 * once must leave one of the two outputs whole. A plain build runs
 * {@value #DEFAULT_TRIALS} trials per output kind; {@code -Dscalpel.killTrials=50} runs the campaign the README reports.
 */
class KillDuringWriteTest {
    private static final int DEFAULT_TRIALS = 2;
    private static final int TRIALS = Integer.getInteger("scalpel.killTrials", DEFAULT_TRIALS);
    private static final Path SAMPLE = Fixtures.sampleModel();

    @TempDir
    static Path tmp;
    private static CausalLM model;
    private static String modelHash;
    private static final Path[] EDITS = new Path[2];

    /** What export writes, and how a user's next command reads it back (every tensor, by name → SHA-256 of its values). */
    enum Output {
        HF("hf", "out") {
            @Override
            Map<String, String> read(Path dest) throws IOException {
                try (CausalLM loaded = ModelLoader.load(dest, ComputeDevice.CPU)) {   // config and every shard load
                    return folderTensors(dest, ".safetensors");
                }
            }
        },
        PEFT("peft", "adapter") {
            @Override
            Map<String, String> read(Path dest) throws IOException {
                Map<String, String> out = folderTensors(dest, ".safetensors");
                out.put("adapter_config.json", ModelHash.ofFile(dest.resolve("adapter_config.json")));
                return out;
            }
        },
        EDITS("edits", "edits.json") {
            @Override
            Map<String, String> read(Path dest) {
                List<Edit> edits = EditsFile.read(dest, model, modelHash);
                Map<String, String> out = new TreeMap<>();
                for (int i = 0; i < edits.size(); i++) {
                    for (var t : edits.get(i).tensors().entrySet()) {
                        out.put(i + "." + t.getKey(), hash(t.getValue()));
                    }
                    edits.get(i).close();
                }
                return out;
            }
        },
        GROUP("group", "group.json") {
            @Override
            Map<String, String> read(Path dest) {
                HeadGroup group = HeadGroup.read(dest, ComputeDevice.CPU);
                try {
                    Map<String, String> out = new TreeMap<>();
                    group.tensors().forEach((name, t) -> out.put(name, hash(t)));
                    return out;
                } finally {
                    group.close();
                }
            }
        };

        final String format;
        final String destName;

        Output(String format, String destName) {
            this.format = format;
            this.destName = destName;
        }

        abstract Map<String, String> read(Path dest) throws IOException;

        List<String> exportArgs(Path edits, Path dest) {
            List<String> args = new ArrayList<>(List.of("export", "--model", SAMPLE.toString(), "--edits", edits.toString(),
                    "--format", format, "--out", dest.toString()));
            if (this == GROUP) {
                args.addAll(List.of("--heads", "L1H1,L4H2", "--name", "g"));
            }
            return args;
        }
    }

    /** Two LoRA edits on the sample model's q/v that differ in every value (seeds 0 and 1). */
    @BeforeAll
    static void twoEdits() throws IOException {
        Path text = tmp.resolve("de.txt");
        Files.copy(SAMPLE.resolve("eval").resolve("de.txt"), text);
        for (int seed = 0; seed < 2; seed++) {
            Path spec = tmp.resolve("spec" + seed + ".json");
            Files.writeString(spec, """
                    {"method": "lora", "modules": ["q_proj", "v_proj"], "rank": 2, "alpha": 4, "objective": "learn",
                     "target": "de.txt", "token_budget": 256, "steps": 2, "batch_size": 2, "context": 32, "lr": 1e-2, "seed": %d}
                    """.formatted(seed));
            EDITS[seed] = tmp.resolve("e" + seed + ".json");
            CliRun r = CliRun.of("train", "--model", SAMPLE.toString(), "--spec", spec.toString(), "--out", EDITS[seed].toString());
            assertEquals(0, r.status(), r.err());
        }
        model = ModelLoader.load(SAMPLE, ComputeDevice.CPU);
        modelHash = ModelHash.of(SAMPLE);
    }

    @AfterAll
    static void closeModel() {
        model.close();
    }

    @ParameterizedTest
    @EnumSource(Output.class)
    void aKilledExportLeavesTheOldOrTheNewOutputWhole(Output output) throws Exception {
        References refs = references(output);
        List<Map<String, String>> expected = refs.contents();
        long uninterruptedMillis = refs.uninterruptedMillis();
        Path dest = Files.createDirectories(tmp.resolve(output.name())).resolve(output.destName);
        copy(refs.paths().get(0), dest);   // the destination starts out holding a complete version 0
        int current = 0;
        int keptOld = 0;
        int becameNew = 0;
        Random random = new Random(19);
        for (int trial = 0; trial < TRIALS; trial++) {
            int next = 1 - current;
            long killAfter = (long) (uninterruptedMillis * (0.3 + 0.8 * random.nextDouble()));
            killAfter(output.exportArgs(EDITS[next], dest), killAfter);
            Map<String, String> found = output.read(dest);   // throws (fails the trial) when torn or half-populated
            if (found.equals(expected.get(current))) {
                keptOld++;
            } else if (found.equals(expected.get(next))) {
                becameNew++;
                current = next;
            } else {
                throw new AssertionError("trial " + trial + " (killed after " + killAfter + " ms): " + dest
                        + " holds neither the previous nor the new " + output.format + " output");
            }
        }
        System.out.printf("kill -9 during export --format %s: %d trials, %d old, %d new, 0 torn (uninterrupted run %d ms)%n",
                output.format, TRIALS, keptOld, becameNew, uninterruptedMillis);
        assertEquals(TRIALS, keptOld + becameNew);
    }

    @ParameterizedTest
    @EnumSource(Output.class)
    void twoExportsToOnePathAtOnceLeaveOneOfThemWhole(Output output) throws Exception {
        List<Map<String, String>> expected = references(output).contents();
        Path dest = Files.createDirectories(tmp.resolve(output.name() + "-race")).resolve(output.destName);
        int[] won = new int[2];
        for (int trial = 0; trial < Math.max(1, TRIALS / 2); trial++) {
            Process a = child(output.exportArgs(EDITS[0], dest)).start();
            Process b = child(output.exportArgs(EDITS[1], dest)).start();
            a.waitFor(120, TimeUnit.SECONDS);
            b.waitFor(120, TimeUnit.SECONDS);
            // each either succeeds or refuses with a message (exit 1); the destination holds one whole output
            assertTrue(Set.of(0, 1).contains(a.exitValue()) && Set.of(0, 1).contains(b.exitValue()), a.exitValue() + "/" + b.exitValue());
            Map<String, String> found = output.read(dest);
            int which = expected.indexOf(found);
            if (which < 0) {
                throw new AssertionError("trial " + trial + ": two exports at once left " + dest + " holding neither output whole");
            }
            won[which]++;
        }
        System.out.printf("two exports --format %s at once: %d trials, edits 0 won %d, edits 1 won %d, 0 torn%n", output.format,
                won[0] + won[1], won[0], won[1]);
    }

    /** Uninterrupted exports of edits 0 and 1: where they are, what they hold, and the longer run's wall time. */
    private record References(List<Path> paths, List<Map<String, String>> contents, long uninterruptedMillis) {}

    private static final Map<Output, References> REFERENCES = new java.util.EnumMap<>(Output.class);

    private static References references(Output output) throws IOException, InterruptedException {
        References cached = REFERENCES.get(output);
        if (cached != null) {
            return cached;
        }
        Path dir = Files.createDirectories(tmp.resolve(output.name() + "-refs"));
        List<Path> paths = new ArrayList<>();
        List<Map<String, String>> contents = new ArrayList<>();
        long millis = 0;
        for (int v = 0; v < 2; v++) {
            Path ref = dir.resolve(v + "-" + output.destName);
            long t0 = System.nanoTime();
            assertEquals(0, runToEnd(output.exportArgs(EDITS[v], ref)));
            millis = Math.max(millis, (System.nanoTime() - t0) / 1_000_000);
            paths.add(ref);
            contents.add(output.read(ref));
        }
        assertNotEquals(contents.get(0), contents.get(1), "the two versions must differ for the check to mean anything");
        References refs = new References(paths, contents, millis);
        REFERENCES.put(output, refs);
        return refs;
    }

    /** Copies an output: a folder's files, or a manifest with the tensors file it names. */
    private static void copy(Path output, Path dest) throws IOException {
        if (Files.isDirectory(output)) {
            Fixtures.copyTree(output, dest);
            return;
        }
        for (Path f : TensorPairFile.files(output)) {
            String name = f.equals(output) ? dest.getFileName().toString() : f.getFileName().toString();
            Files.copy(f, dest.resolveSibling(name));
        }
    }

    /** The CLI in a JVM of its own, with this JVM's flags and class path. */
    private static ProcessBuilder child(List<String> args) {
        return ChildJvm.of(Launcher.class, args);
    }

    private static int runToEnd(List<String> args) throws IOException, InterruptedException {
        Process p = child(args).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("scalpel " + args + " did not finish in 120 s");
        }
        return p.exitValue();
    }

    private static void killAfter(List<String> args, long millis) throws IOException, InterruptedException {
        Process p = child(args).start();
        if (!p.waitFor(millis, TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();   // SIGKILL on Linux: no shutdown hooks, no finally blocks
            p.waitFor();
        }
    }

    /** Every tensor of every {@code suffix} file in {@code dir}: file/tensor → SHA-256 of its float values. */
    private static Map<String, String> folderTensors(Path dir, String suffix) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList()) {
                try (SafetensorsFile file = SafetensorsFile.open(f)) {
                    for (String name : file.tensorNames()) {
                        out.put(f.getFileName() + "/" + name, hash(TensorFloats.toFloatArray(file.info(name), file.data(name))));
                    }
                }
            }
        }
        return out;
    }

    private static String hash(Tensor t) {
        return hash(Tensors.toFloats(t));
    }

    private static String hash(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(Float.BYTES * values.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return ModelHash.ofBytes(bytes.array());
    }
}
