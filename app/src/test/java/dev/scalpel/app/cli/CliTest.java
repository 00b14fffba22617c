package dev.scalpel.app.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.infer.Generator;
import dev.scalpel.engine.infer.SamplingOptions;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.testing.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI contract other tools script against: exact JSON names, exit codes, one-line errors. */
class CliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path LLAMA = Fixtures.model("llama-gqa");

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void infoJsonDescribesTheModel() throws IOException {
        CliRun r = run("info", "--model", Fixtures.model("qwen3").toString(), "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode j = r.json();
        assertEquals("qwen3", j.get("architecture").asText());
        assertEquals(2, j.get("layers").asInt());
        assertEquals(4, j.get("heads").asInt());
        assertEquals(2, j.get("kvHeads").asInt());
        assertEquals(24, j.get("headDim").asInt());
        assertEquals(512, j.get("vocabSize").asInt());
        assertEquals("F32", j.get("dtype").asText());
        // embed 512×64 + lm_head 512×64 + norm 64 + 2 × (q 96×64 + k,v 48×64 + o 64×96 + q/k norms 2×24 + 2 norms 2×64 + MLP 3×128×64)
        long perLayer = 96 * 64 + 2 * 48 * 64 + 64 * 96 + 2 * 24 + 2 * 64 + 3 * 128 * 64;
        assertEquals(2 * 512 * 64 + 64 + 2 * perLayer, j.get("parameters").asLong());
    }

    @Test
    void infoCountsATiedEmbeddingOnceAndReportsHalfDtypes() throws IOException {
        JsonNode j = run("info", "--model", Fixtures.model("qwen2-bf16").toString(), "--json").json();
        assertTrue(j.get("tiedEmbeddings").asBoolean());
        assertEquals("BF16", j.get("dtype").asText());
    }

    @Test
    void generateJsonGivesPromptIdsOnlyNewOutputIdsAndTheirText() throws IOException {
        CliRun r = run("generate", "--model", LLAMA.toString(), "--prompt", "Guten Tag", "--max-new-tokens", "7", "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode j = r.json();
        long[] prompt = JSON.convertValue(j.get("prompt_ids"), long[].class);
        long[] output = JSON.convertValue(j.get("output_ids"), long[].class);
        assertEquals(0, prompt[0], "Llama prompts start with BOS");
        try (LoadedModel m = LoadedModel.open(LLAMA, ComputeDevice.CPU)) {
            assertArrayEquals(m.tokenizer().encodePrompt("Guten Tag"), prompt);
            assertArrayEquals(new Generator(m.model()).generate(prompt, SamplingOptions.greedy(7), null), output);
            assertEquals(m.tokenizer().decode(output), j.get("text").asText());
        }
        assertTrue(output.length <= 7);
    }

    @Test
    void samplingWithTheSameSeedRepeatsAndAnotherSeedDiffers() throws IOException {
        String[] base = {"generate", "--model", LLAMA.toString(), "--prompt", "x", "--max-new-tokens", "20",
                "--temperature", "1.5", "--top-p", "0.95", "--json", "--seed"};
        JsonNode a = run(concat(base, "1")).json().get("output_ids");
        JsonNode b = run(concat(base, "1")).json().get("output_ids");
        JsonNode c = run(concat(base, "2")).json().get("output_ids");
        assertEquals(a, b);
        assertFalse(a.equals(c), "a different seed should give different samples at temperature 1.5");
    }

    @Test
    void evalJsonGivesCrossEntropyTokensAndUniformBaseline(@TempDir Path tmp) throws IOException {
        Path de = tmp.resolve("de.txt");
        Path en = tmp.resolve("en.txt");
        Files.writeString(de, "Der schnelle braune Fuchs springt über den faulen Hund. ".repeat(20));
        Files.writeString(en, "The quick brown fox jumps over the lazy dog. ".repeat(20));
        CliRun r = run("eval", "--model", LLAMA.toString(), "--data", "de=" + de, "--data", "en=" + en, "--json", "--context", "32");
        assertEquals(0, r.status(), r.err());
        JsonNode j = r.json();
        assertEquals(512, j.get("vocab_size").asInt());
        assertEquals(Math.log(512), j.get("uniform_ce").asDouble(), 1e-12);
        JsonNode deResult = j.get("languages").get("de");
        assertTrue(deResult.get("ce").asDouble() > 0);
        assertTrue(deResult.get("tokens").asLong() > 100);
        assertEquals(j.get("languages").size(), 2);
    }

    @Test
    void evalWithoutDataScoresTheTextsThatShipWithTheModel(@TempDir Path tmp) throws IOException {
        Path model = tmp.resolve("model");
        Files.createDirectories(model.resolve("eval"));
        try (var files = Files.list(LLAMA)) {
            for (Path f : files.toList()) {
                Files.copy(f, model.resolve(f.getFileName()));
            }
        }
        Files.writeString(model.resolve("eval").resolve("de.txt"), "Die Katze schläft auf dem Sofa. ".repeat(10));
        Files.writeString(model.resolve("eval").resolve("en.txt"), "The cat sleeps on the sofa. ".repeat(10));
        JsonNode j = run("eval", "--model", model.toString(), "--json").json();
        assertEquals(java.util.List.of("de", "en"), iterableNames(j.get("languages")));

        CliRun none = run("eval", "--model", LLAMA.toString());
        assertEquals(1, none.status());
        assertTrue(none.err().contains("pass --data NAME=FILE"), none.err());
    }

    private static java.util.List<String> iterableNames(JsonNode object) {
        java.util.List<String> names = new java.util.ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void evalWithAblatedHeadsChangesTheLossAndRejectsUnknownHeads(@TempDir Path tmp) throws IOException {
        Path en = tmp.resolve("en.txt");
        Files.writeString(en, "The quick brown fox jumps over the lazy dog. ".repeat(20));
        double base = run("eval", "--model", LLAMA.toString(), "--data", "en=" + en, "--json").json()
                .get("languages").get("en").get("ce").asDouble();
        double ablated = run("eval", "--model", LLAMA.toString(), "--data", "en=" + en, "--json", "--ablate", "L0H*")
                .json().get("languages").get("en").get("ce").asDouble();
        assertTrue(Math.abs(ablated - base) > 1e-3, base + " vs " + ablated);
        CliRun bad = run("eval", "--model", LLAMA.toString(), "--data", "en=" + en, "--ablate", "L0H9");
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains("4 heads per layer"), bad.err());
    }

    @Test
    void importanceJsonGivesMapsContrastAgreementAndComponents(@TempDir Path tmp) throws IOException {
        Path de = tmp.resolve("de.txt");
        Path en = tmp.resolve("en.txt");
        Files.writeString(de, "Der schnelle braune Fuchs springt über den faulen Hund. ".repeat(12));
        Files.writeString(en, "The quick brown fox jumps over the lazy dog. ".repeat(12));
        Path out = tmp.resolve("de-en.json");
        CliRun r = run("importance", "--model", LLAMA.toString(), "--data", "de=" + de, "--data", "en=" + en,
                "--contrast", "de-en", "--agree-with", "ablation-zero", "--components", "layers.1.self_attn.v_proj",
                "--rank", "3", "--context", "32", "--no-cache", "--out", out.toString(), "--json");
        assertEquals(0, r.status(), r.err());
        JsonNode j = r.json();
        assertEquals(2, j.get("maps").get("de").get("scores").size(), "2 layers");
        assertEquals(4, j.get("maps").get("de").get("scores").get(0).size(), "4 heads");
        assertEquals("de-en", j.get("contrast").get("domain").asText());
        double rho = j.get("spearman_vs_ablation-zero").get("de").asDouble();
        assertTrue(rho >= -1 && rho <= 1);
        assertEquals(3, j.get("components").size());
        assertEquals("model.layers.1.self_attn.v_proj", j.get("components").get(0).get("module").asText());
        assertTrue(Files.isRegularFile(out));
        assertEquals("de-en", JSON.readTree(out.toFile()).get("domain").asText());

        CliRun inspect = run("importance", "--model", LLAMA.toString(), "--data", "de=" + de, "--context", "32", "--no-cache",
                "--inspect", "layers.1.self_attn.v_proj#1", "--rank", "2");
        assertEquals(0, inspect.status(), inspect.err());
        assertTrue(inspect.out().contains("component model.layers.1.self_attn.v_proj #1: top activations"), inspect.out());

        CliRun badContrast = run("importance", "--model", LLAMA.toString(), "--data", "de=" + de, "--contrast", "de-fr");
        assertEquals(1, badContrast.status());
        assertTrue(badContrast.err().contains("'fr', which is not among the texts"), badContrast.err());
    }

    @Test
    void trainWritesAnEditsFileThatEvalAndGenerateApply(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("target.txt"), "Der schnelle braune Fuchs springt über den faulen Hund. ".repeat(30));
        Files.writeString(tmp.resolve("spec.json"), """
                {"method": "head-lora", "heads": "L1H0,L0H3", "rank": 2, "alpha": 4,
                 "objective": "learn", "target": "target.txt", "token_budget": 300,
                 "steps": 15, "batch_size": 2, "context": 32, "lr": 0.01, "seed": 3}
                """);
        Path edits = tmp.resolve("out").resolve("de.edits.json");
        CliRun train = run("train", "--model", LLAMA.toString(), "--spec", tmp.resolve("spec.json").toString(), "--out", edits.toString(), "--json");
        assertEquals(0, train.status(), train.err());
        JsonNode summary = train.json();
        assertEquals(15, summary.get("steps").asInt());
        assertEquals(300, summary.get("target_tokens").asInt());
        assertTrue(summary.get("trainable_parameters").asLong() > 0);

        String[] eval = {"eval", "--model", LLAMA.toString(), "--data", "de=" + tmp.resolve("target.txt"), "--json", "--context", "32"};
        double base = run(eval).json().get("languages").get("de").get("ce").asDouble();
        double edited = run(concat(concat(eval, "--edits"), edits.toString())).json().get("languages").get("de").get("ce").asDouble();
        assertTrue(edited < base - 0.1, "learning the target must lower its CE: " + base + " -> " + edited);

        CliRun gen = run("generate", "--model", LLAMA.toString(), "--prompt", "Der", "--max-new-tokens", "5", "--edits", edits.toString(), "--json");
        assertEquals(0, gen.status(), gen.err());

        Path merged = tmp.resolve("merged");
        assertEquals(0, run("export", "--model", LLAMA.toString(), "--edits", edits.toString(), "--out", merged.toString()).status());
        double mergedCe = run("eval", "--model", merged.toString(), "--data", "de=" + tmp.resolve("target.txt"), "--json", "--context", "32")
                .json().get("languages").get("de").get("ce").asDouble();
        assertEquals(edited, mergedCe, 1e-4, "the merged export scores like the edited model");
        Path peft = tmp.resolve("peft");
        assertEquals(0, run("export", "--model", LLAMA.toString(), "--edits", edits.toString(), "--out", peft.toString(), "--format", "peft").status());
        assertTrue(Files.isRegularFile(peft.resolve("adapter_model.safetensors")) && Files.isRegularFile(peft.resolve("adapter_config.json")));
        CliRun intoBase = run("export", "--model", LLAMA.toString(), "--edits", edits.toString(), "--out", LLAMA.resolve("x").toString());
        assertEquals(1, intoBase.status());
        assertTrue(intoBase.err().contains("is inside the model folder"), intoBase.err());

        Files.writeString(tmp.resolve("bad.json"), "{\"method\": \"head-lora\", \"heads\": \"L1H0\", \"stepz\": 3}");
        CliRun bad = run("train", "--model", LLAMA.toString(), "--spec", tmp.resolve("bad.json").toString(), "--out", edits.toString());
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains("stepz"), bad.err());
    }

    @Test
    void demoRunsTheStudyAndWritesCsvAndChart(@TempDir Path tmp) throws IOException {
        Path model = tmp.resolve("model");
        Files.createDirectories(model);
        try (var files = Files.list(LLAMA)) {
            for (Path f : files.toList()) {
                Files.copy(f, model.resolve(f.getFileName()));
            }
        }
        for (String folder : new String[] {"eval", "train-sample"}) {
            Files.createDirectories(model.resolve(folder));
            Files.writeString(model.resolve(folder).resolve("de.txt"), "Der schnelle braune Fuchs springt über den faulen Hund. ".repeat(8));
            Files.writeString(model.resolve(folder).resolve("en.txt"), "The quick brown fox jumps over the lazy dog. ".repeat(8));
        }
        Path out = tmp.resolve("results");
        CliRun r = run("demo", "--model", model.toString(), "--budgets", "4,16", "--steps", "2", "--rank", "2",
                "--components", "layers.1.self_attn.v_proj", "--top-heads", "2", "--eval-tokens", "120", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        assertEquals("method,budget,parameters,target_ce,target_fraction_of_lnV,seconds,delta_ce_de,delta_ce_en", csv.get(0));
        assertEquals(1 + 2 * 4, csv.size(), "4 methods × 2 budgets");
        assertTrue(csv.get(1).startsWith("prefactor,4,1,"), csv.get(1));
        byte[] png = Files.readAllBytes(out.resolve("tradeoff.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        assertTrue(r.out().contains("head-lora-r4"), r.out());
    }

    @Test
    void headGroupsExtractApplySwapAndReportConflicts(@TempDir Path tmp) {
        Path a = tmp.resolve("a.json");
        Path b = tmp.resolve("b.json");
        assertEquals(0, run("heads", "extract", "--model", LLAMA.toString(), "--heads", "L1H0", "--name", "a", "--out", a.toString()).status());
        assertEquals(0, run("heads", "extract", "--model", LLAMA.toString(), "--heads", "L1H1,L0H2", "--name", "b", "--out", b.toString()).status());
        CliRun list = run("heads", "list", tmp.toString());
        assertTrue(list.out().contains("L0H2,L1H1"), list.out());
        CliRun conflict = run("heads", "apply", "--model", LLAMA.toString(), "--group", a.toString(), "--group", b.toString(), "--no-eval");
        assertEquals(1, conflict.status());
        assertTrue(conflict.err().contains("L1H1 (a)"), conflict.err());
        CliRun keep = run("heads", "apply", "--model", LLAMA.toString(), "--group", a.toString(), "--group", b.toString(), "--no-eval",
                "--on-conflict", "keep");
        assertEquals(0, keep.status(), keep.err());
        assertTrue(keep.out().contains("applied 'b': L0H2"), keep.out());
        CliRun swap = run("heads", "swap", "--model", LLAMA.toString(), "--group", a.toString(), "--group", b.toString(), "--repeat", "4");
        assertEquals(0, swap.status(), swap.err());
        assertTrue(swap.out().contains("bit-identical to the base"), swap.out());
    }

    @Test
    void taskVectorsTiesAndPruningAreEditsFiles(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("t.txt"), "Der schnelle braune Fuchs springt über den faulen Hund. ".repeat(20));
        Files.writeString(tmp.resolve("spec.json"), """
                {"method": "lora", "modules": ["v_proj"], "rank": 2, "objective": "learn", "target": "t.txt",
                 "steps": 5, "batch_size": 2, "context": 32, "lr": 0.01}
                """);
        Path lora = tmp.resolve("lora.json");
        assertEquals(0, run("train", "--model", LLAMA.toString(), "--spec", tmp.resolve("spec.json").toString(), "--out", lora.toString()).status());
        String[] eval = {"eval", "--model", LLAMA.toString(), "--data", "de=" + tmp.resolve("t.txt"), "--json", "--context", "32", "--edits"};
        double viaLora = run(concat(eval, lora.toString())).json().get("languages").get("de").get("ce").asDouble();
        Path tau = tmp.resolve("tau.json");
        assertEquals(0, run("vectors", "task", "--model", LLAMA.toString(), "--from-edits", lora.toString(), "--out", tau.toString()).status());
        assertEquals(viaLora, run(concat(eval, tau.toString())).json().get("languages").get("de").get("ce").asDouble(), 1e-4);
        Path ties = tmp.resolve("ties.json");
        CliRun t = run("vectors", "ties", "--model", LLAMA.toString(), "--vector", lora.toString(), "--vector", tau.toString(),
                "--keep", "1.0", "--out", ties.toString());
        assertEquals(0, t.status(), t.err());
        assertEquals(viaLora, run(concat(eval, ties.toString())).json().get("languages").get("de").get("ce").asDouble(), 1e-4,
                "TIES of two equal vectors keeping everything is that vector");
        Path half = tmp.resolve("half.json");
        CliRun sum = run("vectors", "add", "--model", LLAMA.toString(), "--vector", lora + "=1.5", "--vector", tau + "=-0.5",
                "--out", half.toString());
        assertEquals(0, sum.status(), sum.err());
        assertEquals(viaLora, run(concat(eval, half.toString())).json().get("languages").get("de").get("ce").asDouble(), 1e-4,
                "1.5·τ − 0.5·τ is τ");
        assertEquals(1, run("vectors", "add", "--model", LLAMA.toString(), "--vector", lora + "=lots", "--out", half.toString()).status());
        CliRun extracted = run("vectors", "lora", "--model", LLAMA.toString(), "--from-edits", lora.toString(), "--rank", "2",
                "--out", tmp.resolve("peft").toString());
        assertEquals(0, extracted.status(), extracted.err());
        assertTrue(extracted.out().contains("relative error 0.0000"), "a rank-2 LoRA's update is exactly rank 2: " + extracted.out());
        assertTrue(Files.isRegularFile(tmp.resolve("peft").resolve("adapter_model.safetensors")));
        Path prune = tmp.resolve("prune.json");
        CliRun p = run("vectors", "prune", "--model", LLAMA.toString(), "--heads", "L1H0,L1H1", "--data", "de=" + tmp.resolve("t.txt"),
                "--out", prune.toString());
        assertEquals(0, p.status(), p.err());
        double ablated = run("eval", "--model", LLAMA.toString(), "--data", "de=" + tmp.resolve("t.txt"), "--json", "--context", "32",
                "--ablate", "L1H0,L1H1").json().get("languages").get("de").get("ce").asDouble();
        assertEquals(ablated, run(concat(eval, prune.toString())).json().get("languages").get("de").get("ce").asDouble(), 1e-4,
                "pruning equals ablating the heads");
    }

    @Test
    void steeringVectorsAreWrittenAsGgufAndSteerGeneration(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("pos.txt"), "Die Datei wird gelesen.\nDer Dienst startet.\n");
        Files.writeString(tmp.resolve("neg.txt"), "The file is read.\nThe service starts.\n");
        Path gguf = tmp.resolve("v.gguf");
        CliRun steer = run("vectors", "steer", "--model", LLAMA.toString(), "--layer", "1", "--positive", tmp.resolve("pos.txt").toString(),
                "--negative", tmp.resolve("neg.txt").toString(), "--out", gguf.toString());
        assertEquals(0, steer.status(), steer.err());
        assertTrue(steer.out().contains("(direction.1)"), "llama.cpp's direction.L is the output of block L: " + steer.out());
        byte[] head = Arrays.copyOf(Files.readAllBytes(gguf), 4);
        assertEquals("GGUF", new String(head, StandardCharsets.US_ASCII));
        String[] gen = {"generate", "--model", LLAMA.toString(), "--prompt", "The", "--max-new-tokens", "8", "--json", "--steer", gguf.toString(), "--steer-coef"};
        JsonNode plain = run("generate", "--model", LLAMA.toString(), "--prompt", "The", "--max-new-tokens", "8", "--json").json();
        assertEquals(plain.get("output_ids"), run(concat(gen, "0")).json().get("output_ids"), "coefficient 0 is the plain model");
        assertFalse(plain.get("output_ids").equals(run(concat(gen, "30")).json().get("output_ids")), "a strong coefficient changes the text");
    }

    @Test
    void userErrorsAreOneLineWithExitStatusOne(@TempDir Path tmp) throws IOException {
        CliRun missing = run("info", "--model", tmp.resolve("nope").toString());
        assertEquals(1, missing.status());
        assertTrue(missing.err().startsWith("error: Model folder"), missing.err());
        assertEquals(1, missing.err().strip().lines().count(), "no stack trace: " + missing.err());

        Path bad = tmp.resolve("bad.txt");
        Files.write(bad, new byte[] {(byte) 0xC3, (byte) 0x28});
        CliRun notUtf8 = run("eval", "--model", LLAMA.toString(), "--data", "x=" + bad);
        assertEquals(1, notUtf8.status());
        assertTrue(notUtf8.err().contains("is not valid UTF-8"), notUtf8.err());

        CliRun badTemp = run("generate", "--model", LLAMA.toString(), "--prompt", "x", "--temperature", "-1");
        assertEquals(1, badTemp.status());
        assertTrue(badTemp.err().contains("--temperature must be"), badTemp.err());

        CliRun gen = run("generate", "--model", LLAMA.toString(), "--prompt", "x", "--device", "tpu");
        assertEquals(1, gen.status());
        assertTrue(gen.err().contains("Unknown device 'tpu'"), gen.err());
    }

    @Test
    void usageErrorsExitOneWithOneErrorLineNamingTheHelp() {
        CliRun unknown = run("generate", "--model", LLAMA.toString(), "--prompt", "x", "--max-new-token", "3");
        assertEquals(1, unknown.status(), unknown.err());
        assertEquals(1, unknown.err().strip().lines().count(), "one line, no usage dump: " + unknown.err());
        assertTrue(unknown.err().startsWith("error: Unknown option") && unknown.err().contains("'--max-new-token'"), unknown.err());
        assertTrue(unknown.err().contains("did you mean --max-new-tokens"), unknown.err());
        assertTrue(unknown.err().strip().endsWith("run 'scalpel generate --help'"), unknown.err());
        assertEquals("", unknown.out());

        CliRun missing = run("vectors", "steer", "--model", LLAMA.toString(), "--positive", "p.txt", "--negative", "n.txt",
                "--out", "v.gguf");
        assertEquals(1, missing.status(), missing.err());
        assertEquals(1, missing.err().strip().lines().count(), "one line, no usage dump: " + missing.err());
        assertTrue(missing.err().startsWith("error: Missing required option: '--layer="), missing.err());
        assertTrue(missing.err().strip().endsWith("run 'scalpel vectors steer --help'"), missing.err());

        CliRun badType = run("vectors", "steer", "--model", LLAMA.toString(), "--layer", "one", "--positive", "p.txt",
                "--negative", "n.txt", "--out", "v.gguf");
        assertEquals(1, badType.status(), badType.err());
        assertEquals(1, badType.err().strip().lines().count(), badType.err());
        assertTrue(badType.err().startsWith("error: Invalid value for option '--layer': 'one' is not an int"), badType.err());

        CliRun unknownCommand = run("genrate");
        assertEquals(1, unknownCommand.status(), unknownCommand.err());
        assertEquals(1, unknownCommand.err().strip().lines().count(), unknownCommand.err());
        assertTrue(unknownCommand.err().contains("'genrate'") && unknownCommand.err().contains("did you mean generate"),
                unknownCommand.err());
    }

    @Test
    void helpAndVersion() {
        CliRun help = run("--help");
        assertEquals(0, help.status());
        for (String cmd : new String[] {"info", "generate", "eval", "bench", "build-sample"}) {
            assertTrue(help.out().contains(cmd), "help lists " + cmd);
        }
        CliRun version = run("--version");
        assertTrue(version.out().matches("scalpel \\d+\\.\\d+\\.\\d+.*\\s*"), version.out());
    }

    private static String[] concat(String[] a, String last) {
        String[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = last;
        return out;
    }
}
