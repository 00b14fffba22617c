package dev.scalpel.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.scalpel.engine.decompose.DecompositionFile;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20 the way a user runs it: decompose a matrix, rerun to resume, rank its subcomponents by causal importance per
 * text, train a prefactor on one, and let the demo compare it with the baselines — on a copy of the GQA fixture with
 * German and English texts.
 */
class DecomposeCliTest {
    private static final String MODULE = "layers.1.self_attn.v_proj";

    @TempDir
    static Path tmp;
    static Path model;
    static Path decomposition;

    @BeforeAll
    static void copyModelAndDecompose() throws IOException {
        model = ModelsWithTexts.llamaGqa(tmp.resolve("model"), 20);
        decomposition = tmp.resolve("d.safetensors");
        CliRun r = decompose();
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("wrote " + decomposition + " after 30 steps (resumed at 0)"), r.out());
        assertTrue(r.out().contains("faithfulness model.layers.1.self_attn.v_proj: ‖W − ΣU_cV_cᵀ‖/‖W‖ = "), r.out());
        assertTrue(r.out().matches("(?s).*\\nde +\\d+ +\\d+\\.\\d{4} +\\d+\\.\\d{4} +\\d+\\.\\d{4} [0-9.]+\\n.*"), r.out());
    }

    private static CliRun decompose() {
        return CliRun.of("decompose", "--model", model.toString(), "--modules", MODULE, "--components", "12", "--steps", "20",
                "--warmup-steps", "10", "--batch-size", "2", "--context", "16", "--checkpoint-every", "10", "--out", decomposition.toString());
    }

    @Test
    void theFileUsesTheSpdLayoutAndARerunResumesInsteadOfStartingOver() {
        try (SafetensorsFile f = SafetensorsFile.open(decomposition)) {
            assertEquals(DecompositionFile.FORMAT, f.metadata().get("format"));
            assertEquals("30", f.metadata().get("step"));
            long[] v = f.info("_components.model-layers-1-self_attn-v_proj.V").shapeArray();
            long[] u = f.info("_components.model-layers-1-self_attn-v_proj.U").shapeArray();
            assertEquals(List.of(64L, 12L, 12L, 32L), List.of(v[0], v[1], u[0], u[1]), "V [d_in, C], U [C, d_out] (two kv heads of 16)");
            assertTrue(f.contains("_ci_fns.model-layers-1-self_attn-v_proj.layers.2.W"));
        }
        CliRun again = decompose();
        assertEquals(0, again.status(), again.err());
        assertTrue(again.out().contains("after 30 steps (resumed at 30)"), again.out());

        CliRun other = CliRun.of("decompose", "--model", model.toString(), "--modules", MODULE, "--components", "13", "--steps", "20",
                "--out", decomposition.toString());
        assertEquals(1, other.status());
        assertTrue(other.err().contains("made with other settings"), other.err());
        CliRun intoModel = CliRun.of("decompose", "--model", model.toString(), "--modules", MODULE, "--components", "4",
                "--out", model.resolve("d.safetensors").toString());
        assertEquals(1, intoModel.status());
    }

    @Test
    void importanceRanksSubcomponentsByCausalImportanceAndAPrefactorTrainsOnOne() throws IOException {
        CliRun ranked = CliRun.of("importance", "--model", model.toString(), "--components", MODULE, "--spd", decomposition.toString(),
                "--contrast", "de-en", "--max-tokens", "200", "--no-cache");
        assertEquals(0, ranked.status(), ranked.err());
        assertTrue(ranked.out().contains("subcomponents by mean causal importance on de minus the largest on any other text:"), ranked.out());
        assertTrue(ranked.out().matches("(?s).*model\\.layers\\.1\\.self_attn\\.v_proj +\\d+ +[+-]\\d\\.\\d{4} +\\d\\.\\d{4} +\\d\\.\\d{4}\\n.*"),
                ranked.out());

        Files.writeString(tmp.resolve("spec.json"), """
                {"method": "prefactor", "module": "model.layers.1.self_attn.v_proj", "component": 3,
                 "decomposition": "d.safetensors", "objective": "unlearn", "target": "model/train-sample/de.txt",
                 "steps": 3, "context": 16, "lr": 0.05}
                """);
        CliRun train = CliRun.of("train", "--model", model.toString(), "--spec", tmp.resolve("spec.json").toString(),
                "--out", tmp.resolve("edits.json").toString(), "--json");
        assertEquals(0, train.status(), train.err());
        assertEquals(1, train.json().get("trainable_parameters").asLong());
        assertTrue(Files.readString(tmp.resolve("edits.json")).contains("decomposition d.safetensors"), "the edit names its source");
    }

    /** Issue 19 for decomposition files: random bytes, NaN values, shapes of another model — one-line refusals. */
    @Test
    void brokenDecompositionFilesAreRefusedClearly() throws IOException {
        Path junk = tmp.resolve("junk.safetensors");
        Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        Path nan = tmp.resolve("nan.safetensors");
        Path wrong = tmp.resolve("wrong.safetensors");
        var tensors = new java.util.LinkedHashMap<String, dev.scalpel.engine.model.safetensors.TensorSource>();
        float[] v = new float[64 * 4];
        v[5] = Float.NaN;
        tensors.put("_components.model-layers-1-self_attn-v_proj.V", dev.scalpel.engine.model.safetensors.TensorSource.ofFloats(
                dev.scalpel.engine.model.safetensors.DType.F32, new long[] {64, 4}, v));
        tensors.put("_components.model-layers-1-self_attn-v_proj.U", dev.scalpel.engine.model.safetensors.TensorSource.ofFloats(
                dev.scalpel.engine.model.safetensors.DType.F32, new long[] {4, 32}, new float[4 * 32]));
        dev.scalpel.engine.model.safetensors.SafetensorsWriter.write(nan, tensors);
        tensors.put("_components.model-layers-1-self_attn-v_proj.V", dev.scalpel.engine.model.safetensors.TensorSource.ofFloats(
                dev.scalpel.engine.model.safetensors.DType.F32, new long[] {63, 4}, new float[63 * 4]));
        dev.scalpel.engine.model.safetensors.SafetensorsWriter.write(wrong, tensors);
        for (Path bad : List.of(junk, nan, wrong)) {
            CliRun r = CliRun.of("importance", "--model", model.toString(), "--components", MODULE, "--spd", bad.toString(),
                    "--max-tokens", "64", "--no-cache");
            assertEquals(1, r.status(), bad + ": " + r.err());
            assertTrue(r.err().startsWith("error: ") && r.err().strip().lines().count() == 1, r.err());
        }
    }

    @Test
    void theDemoChoosesTheSubcomponentOnTrainingTextAndComparesItWithTheBaselines() throws IOException {
        Path out = tmp.resolve("demo");
        CliRun r = CliRun.of("demo", "--model", model.toString(), "--decomposition", decomposition.toString(), "--budgets", "4",
                "--steps", "2", "--rank", "2", "--components", MODULE, "--top-heads", "2", "--eval-tokens", "120", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("de-specific subcomponent model.layers.1.self_attn.v_proj #"), r.out());
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        assertTrue(r.out().contains("prefactor-spd training loss by start s:"), r.out());
        assertEquals(List.of("prefactor-spd", "prefactor-svd", "lora-r1-local", "lora-r1", "lora-r4", "head-lora-r4"),
                csv.subList(1, csv.size()).stream().map(line -> line.split(",")[0]).toList());
        List<String> sweep = Files.readAllLines(out.resolve("sweep.csv"));
        assertEquals("s,target_ce,target_fraction_of_lnV", sweep.get(0).substring(0, "s,target_ce,target_fraction_of_lnV".length()));
        assertTrue(sweep.stream().anyMatch(line -> line.startsWith("-1.0,")) && sweep.stream().anyMatch(line -> line.startsWith("2.0,")),
                "the sweep covers an inversion and an amplification: " + sweep);
        String atOne = sweep.stream().filter(line -> line.startsWith("0.0,")).findFirst().orElseThrow();
        assertTrue(Double.parseDouble(atOne.split(",")[1]) > 0, atOne);
    }
}
