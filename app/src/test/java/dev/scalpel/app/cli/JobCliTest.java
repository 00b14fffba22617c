package dev.scalpel.app.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.safetensors.DType;
import dev.scalpel.engine.model.safetensors.SafetensorsFile;
import dev.scalpel.engine.model.safetensors.TensorInfo;
import dev.scalpel.engine.testing.Fixtures;
import dev.scalpel.engine.train.TokenCorpus;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18 without Python: {@code export-job} writes a job folder whose data, rows and initial edit are exactly what a
 * local {@code scalpel train} uses; {@code import-job} reads a result in the format run.py writes (here the local run's
 * edits file, put where run.py puts its own) and evaluates it; every bad input is one clear refusal.
 * tools/jobs/check_job.sh runs the exported jobs themselves under torchrun.
 */
class JobCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path model;
    static Path spec;
    static Path job;

    @BeforeAll
    static void exportAHeadLoraJob() throws IOException {
        model = ModelsWithTexts.llamaGqa(tmp.resolve("model"), 20);
        spec = tmp.resolve("spec.json");
        Files.writeString(spec, """
                {"method": "head-lora", "heads": "L1H1", "projections": ["q", "k", "v", "o"], "rank": 2,
                 "objective": "unlearn", "target": "model/train-sample/de.txt", "general": "model/train-sample/en.txt",
                 "token_budget": 40, "steps": 6, "batch_size": 3, "context": 24, "lr": 0.01, "seed": 9}""");
        job = tmp.resolve("job");
        CliRun r = CliRun.of("export-job", "--model", model.toString(), "--spec", spec.toString(), "--out", job.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("wrote the job folder " + job + " (40 target tokens)"), r.out());
        assertTrue(r.out().contains("scalpel import-job " + job), r.out());
    }

    @Test
    void theJobNamesTheModelTheResolvedSettingsAndTheHeadsSlices() throws IOException {
        JsonNode j = JSON.readTree(job.resolve("job.json").toFile());
        assertEquals("scalpel-job/1", j.path("format").asText());
        assertEquals(ModelHash.of(model), j.path("model").path("hash").asText());
        assertEquals("unlearn", j.path("spec").path("objective").asText());
        assertEquals(0.25, j.path("spec").path("general_ratio").asDouble(), "the default is resolved, not left to run.py");
        assertEquals(0, j.path("spec").path("frozen_context").asInt());
        JsonNode adapters = j.path("edit").path("adapters");
        assertEquals(4, adapters.size(), "q, k, v, o of layer 1");
        for (JsonNode a : adapters) {
            String w = a.path("weight").asText();
            int dim = a.path("slice_dim").asInt();
            assertEquals(w.contains("o_proj") ? 1 : 0, dim, w);
            // head_dim 16; L1H1 is query head 1 (q rows / o columns 16..31) in kv group 0 of 2 (k/v rows 0..15)
            int first = w.contains("k_proj") || w.contains("v_proj") ? 0 : 16;
            assertEquals(first, a.path("slice_indices").get(0).asInt(), w);
            assertEquals(16, a.path("slice_indices").size(), w);
        }
        for (String f : new String[] {"run.py", "requirements.txt", "launch.sh", "slurm.sbatch", "README.md", "inputs/spec.json",
                "initial/adapter/adapter_config.json", "initial/adapter/adapter_model.safetensors"}) {
            assertTrue(Files.isRegularFile(job.resolve(f)), f);
        }
        assertTrue(Files.isExecutable(job.resolve("launch.sh")));
        assertTrue(Files.readString(job.resolve("requirements.txt")).contains("peft==0.21.0"));
    }

    @Test
    void theDataAreTheTokensAndRowsALocalRunTrainsOn() throws IOException {
        try (LoadedModel m = LoadedModel.open(model, ComputeDevice.CPU);
             SafetensorsFile data = SafetensorsFile.open(job.resolve("data.safetensors"))) {
            long[] target = Arrays.copyOf(m.tokenizer().encode(Files.readString(model.resolve("train-sample/de.txt"))), 40);
            long[] general = m.tokenizer().encode(Files.readString(model.resolve("train-sample/en.txt")));
            assertArrayEquals(target, ints(data, "target"));
            assertArrayEquals(general, ints(data, "general"));
            assertFalse(data.contains("retain"), "no retain text, no retain weight");
            int[] targetInts = Arrays.stream(target).mapToInt(t -> (int) t).toArray();
            TokenCorpus corpus = new TokenCorpus(Map.of("text", targetInts), Map.of("text", 1.0), 0);
            // batch 3 at ratio 0.25: step 1 has ⌊0.75⌋ = 0 general rows, step 2 has ⌊1.5⌋ − 0 = 1
            long[][] step1 = corpus.batch(9, 1, 3, 24);
            long[][] step2 = corpus.batch(9, 2, 2, 24);
            assertArrayEquals(Arrays.stream(step1).flatMapToLong(Arrays::stream).toArray(), ints(data, "check.target.1"));
            assertArrayEquals(Arrays.stream(step2).flatMapToLong(Arrays::stream).toArray(), ints(data, "check.target.2"));
            assertArrayEquals(new long[] {2, 24}, data.info("check.target.2").shapeArray());
        }
    }

    @Test
    void theInitialEditIsTheFreshEditALocalRunStartsFrom() throws IOException {
        CliRun base = CliRun.of("eval", "--model", model.toString(), "--json");
        CliRun initial = CliRun.of("eval", "--model", model.toString(), "--edits", job.resolve("initial/edits.json").toString(), "--json");
        assertEquals(0, initial.status(), initial.err());
        assertEquals(base.json().path("languages").toString(), initial.json().path("languages").toString(), "B = 0: no change yet");
        JsonNode edits = JSON.readTree(job.resolve("initial/edits.json").toFile());
        assertEquals("head-lora", edits.path("edits").get(0).path("kind").asText());
        assertEquals("L1H1", edits.path("edits").get(0).path("heads").asText());
    }

    @Test
    void importJobEvaluatesTheResultRunPyWrites() throws IOException {
        CliRun notRun = CliRun.of("import-job", job.toString());
        assertEquals(1, notRun.status());
        assertTrue(notRun.err().contains("has no result yet (no result/summary.json): run it first"), notRun.err());

        Path jobCopy = tmp.resolve("job-with-result");
        Fixtures.copyTree(job, jobCopy);
        Path local = tmp.resolve("local.json");
        CliRun trained = CliRun.of("train", "--model", model.toString(), "--spec", spec.toString(), "--out", local.toString());
        assertEquals(0, trained.status(), trained.err());
        putResult(jobCopy, local, """
                {"steps": 6, "stopped": null, "diverged": false, "processes": 2, "base_weights_unchanged": true,
                 "adapter_max_abs_outside_heads": 0.0}""");
        Files.writeString(jobCopy.resolve("result/metrics.jsonl"), "{\"step\": 1, \"loss\": 2.5, \"target_tokens_processed\": 69, "
                + "\"seconds\": 0.1}\n{\"step\": 2, \"loss\": 2.25, \"target_tokens_processed\": 115, \"seconds\": 0.2}\n");
        Path saved = tmp.resolve("imported.json");
        CliRun imported = CliRun.of("import-job", jobCopy.toString(), "--out", saved.toString(), "--json");
        assertEquals(0, imported.status(), imported.err());
        JsonNode j = imported.json();
        assertEquals(2, j.path("processes").asInt());
        assertEquals(2, j.path("steps").asInt(), "one step per metrics line");
        CliRun localEval = CliRun.of("eval", "--model", model.toString(), "--edits", local.toString(), "--json");
        for (String lang : new String[] {"de", "en"}) {
            double edited = j.path("languages").path(lang).path("edited").asDouble();
            assertEquals(localEval.json().path("languages").path(lang).path("ce").asDouble(), edited, 1e-6, lang);
            assertNotEquals(j.path("languages").path(lang).path("base").asDouble(), edited, lang + ": the edit trained");
        }
        CliRun reread = CliRun.of("eval", "--model", model.toString(), "--edits", saved.toString(), "--json");
        assertEquals(localEval.json().path("languages").toString(), reread.json().path("languages").toString(), "--out saved the same edit");

        CliRun text = CliRun.of("import-job", jobCopy.toString());
        assertTrue(text.out().contains("trained by run.py on 2 process(es), 2 steps, last loss 2.2500; base weights unchanged: true"),
                text.out());
    }

    @Test
    void anApolloJobCarriesTheProjectionsScalpelDraws() throws IOException {
        Path apollo = tmp.resolve("apollo.json");
        Files.writeString(apollo, Files.readString(spec).replace("\"lr\": 0.01", "\"lr\": 0.01, \"optimizer\": \"apollo-mini\""));
        Path apolloJob = tmp.resolve("apollo-job");
        CliRun r = CliRun.of("export-job", "--model", model.toString(), "--spec", apollo.toString(), "--out", apolloJob.toString());
        assertEquals(0, r.status(), r.err());
        JsonNode a = JSON.readTree(apolloJob.resolve("job.json").toFile()).path("apollo");
        assertEquals(1, a.path("rank").asInt(), "APOLLO-Mini");
        assertTrue(a.path("tensor_wise").asBoolean());
        try (SafetensorsFile data = SafetensorsFile.open(apolloJob.resolve("data.safetensors"))) {
            // trainable 0 is q_proj's lora_A [2, 64]: k = 2, rank min(1, 2) = 1; 6 steps fit in the first refresh
            assertArrayEquals(new long[] {1, 2}, data.info("apollo.0.0").shapeArray());
            float[] expected = dev.scalpel.engine.train.Apollo.projectionValues(9, 0, 0, 1, 2);
            var floats = data.data("apollo.0.0").order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            assertEquals(expected[0], floats.get(0));
            assertEquals(expected[1], floats.get(1));
            assertFalse(data.contains("apollo.0.1"), "no second refresh within 6 steps");
        }
    }

    @Test
    void aDivergedRunOrAnotherModelIsRefusedClearly() throws IOException {
        Path diverged = tmp.resolve("job-diverged");
        Fixtures.copyTree(job, diverged);
        Files.createDirectories(diverged.resolve("result"));
        Files.writeString(diverged.resolve("result/summary.json"),
                "{\"diverged\": true, \"stopped\": \"the loss became nan at step 3; the edit was restored to step 2\"}");
        CliRun r = CliRun.of("import-job", diverged.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("stopped: the loss became nan at step 3") && r.err().contains("lower \"lr\""), r.err());

        Path withResult = tmp.resolve("job-other-model");
        Fixtures.copyTree(job, withResult);
        putResult(withResult, job.resolve("initial/edits.json"), "{\"diverged\": false, \"processes\": 1}");
        Path other = Fixtures.copyOf("llama-bias", tmp.resolve("other-model"));
        CliRun wrongModel = CliRun.of("import-job", withResult.toString(), "--model", other.toString());
        assertEquals(1, wrongModel.status());
        assertTrue(wrongModel.err().contains("were made for another base model"), wrongModel.err());

        CliRun notAJob = CliRun.of("import-job", tmp.toString());
        assertEquals(1, notAJob.status());
        assertTrue(notAJob.err().contains("No job.json in"), notAJob.err());
    }

    @Test
    void specsTheJobCannotRunTheSameWayAreRefusedBeforeAnythingIsWritten() throws IOException {
        Path teacher = tmp.resolve("teacher.json");
        Files.writeString(teacher, Files.readString(spec).replace("\"unlearn\"", "\"match-teacher\", \"teacher_steer\": {\"vector\": \"v.gguf\"}"));
        CliRun r = CliRun.of("export-job", "--model", model.toString(), "--spec", teacher.toString(), "--out", tmp.resolve("j1").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("export-job cannot run the match-teacher objective yet"), r.err());
        assertFalse(Files.exists(tmp.resolve("j1")));

        Path gpt2 = Fixtures.copyOf("gpt2", tmp.resolve("gpt2"));
        Files.createDirectories(gpt2.resolve("train-sample"));
        Files.copy(model.resolve("train-sample/de.txt"), gpt2.resolve("train-sample/de.txt"));
        Files.copy(model.resolve("train-sample/en.txt"), gpt2.resolve("train-sample/en.txt"));
        Path gptSpec = tmp.resolve("gpt2-spec.json");
        Files.writeString(gptSpec, Files.readString(spec).replace("model/train-sample", "gpt2/train-sample"));
        CliRun conv = CliRun.of("export-job", "--model", gpt2.toString(), "--spec", gptSpec.toString(), "--out", tmp.resolve("j2").toString());
        assertEquals(1, conv.status());
        assertTrue(conv.err().contains("stores Conv1D matrices"), conv.err());

        Path perHead = tmp.resolve("per-head.json");
        Files.writeString(perHead, Files.readString(spec).replace("\"rank\": 2,", "\"rank\": 2, \"per_head_lr\": {\"map\": \"m.json\"},"));
        CliRun rates = CliRun.of("export-job", "--model", model.toString(), "--spec", perHead.toString(), "--out", tmp.resolve("j4").toString());
        assertEquals(1, rates.status());
        assertTrue(rates.err().contains("cannot train head-LoRA with per-head learning rates yet"), rates.err());
        assertFalse(Files.exists(tmp.resolve("j4")));

        Path shortGeneral = tmp.resolve("short.json");
        Files.writeString(tmp.resolve("tiny.txt"), "kurz");
        Files.writeString(shortGeneral, Files.readString(spec).replace("model/train-sample/en.txt", "tiny.txt"));
        CliRun tooShort = CliRun.of("export-job", "--model", model.toString(), "--spec", shortGeneral.toString(), "--out", tmp.resolve("j3").toString());
        assertEquals(1, tooShort.status());
        assertTrue(tooShort.err().contains("The general text has") && tooShort.err().contains("fewer than one window of 24"), tooShort.err());

        CliRun intoModel = CliRun.of("export-job", "--model", model.toString(), "--spec", spec.toString(), "--out", model.resolve("job").toString());
        assertEquals(1, intoModel.status());
        assertFalse(Files.exists(model.resolve("job")));
    }

    @Test
    void anImportanceJobHoldsTheImportanceWindowsAndImportsItsMap() throws IOException {
        Path impJob = tmp.resolve("importance-job");
        CliRun r = CliRun.of("export-job", "--model", model.toString(), "--importance", "de=" + model.resolve("train-sample/de.txt"),
                "--max-tokens", "100", "--context", "16", "--batch-size", "3", "--out", impJob.toString());
        assertEquals(0, r.status(), r.err());
        JsonNode j = JSON.readTree(impJob.resolve("job.json").toFile());
        assertEquals("importance", j.path("kind").asText());
        // 100 tokens + BOS in windows of 16 overlapping by 1: 6 full windows (90 positions) + one of 11 (10 positions)
        assertEquals(100, j.path("importance").path("positions").asInt());
        assertEquals(3, j.path("importance").path("batches").asInt(), "3 + 3 full windows, then the short one");
        try (SafetensorsFile data = SafetensorsFile.open(impJob.resolve("data.safetensors"))) {
            assertArrayEquals(new long[] {1, 11}, data.info("batch.2").shapeArray());
        }

        Path localMap = tmp.resolve("local-map.json");
        CliRun local = CliRun.of("importance", "--model", model.toString(), "--data", "de=" + model.resolve("train-sample/de.txt"),
                "--max-tokens", "100", "--context", "16", "--batch-size", "3", "--no-cache", "--out", localMap.toString());
        assertEquals(0, local.status(), local.err());
        JsonNode localJson = JSON.readTree(localMap.toFile());
        assertEquals(localJson.path("data_hash").asText(), j.path("importance").path("data_hash").asText(), "the same data, by hash");
        Files.createDirectories(impJob.resolve("result"));
        Files.copy(localMap, impJob.resolve("result/map.json"));         // where run.py writes its map
        Files.writeString(impJob.resolve("result/summary.json"), "{\"kind\": \"importance\", \"processes\": 2}");
        Path saved = tmp.resolve("imported-map.json");
        CliRun imported = CliRun.of("import-job", impJob.toString(), "--out", saved.toString());
        assertEquals(0, imported.status(), imported.err());
        assertTrue(imported.out().contains("gradient importance of de over 100 positions, computed by run.py on 2 process(es)"),
                imported.out());
        assertEquals(localJson.path("scores").toString(), JSON.readTree(saved.toFile()).path("scores").toString());
        Path other = Fixtures.copyOf("llama-bias", tmp.resolve("other-model-2"));
        CliRun wrong = CliRun.of("import-job", impJob.toString(), "--model", other.toString());
        assertEquals(1, wrong.status());
        assertTrue(wrong.err().contains("was computed for another model"), wrong.err());
        CliRun both = CliRun.of("export-job", "--model", model.toString(), "--spec", spec.toString(), "--importance", "de=x.txt",
                "--out", tmp.resolve("j4").toString());
        assertEquals(1, both.status());
        assertTrue(both.err().contains("give one of them"), both.err());
    }

    /** Puts an edits file (and its tensors) where run.py writes its result, with a summary. */
    private static void putResult(Path jobDir, Path editsJson, String summary) throws IOException {
        Path result = Files.createDirectories(jobDir.resolve("result"));
        JsonNode manifest = JSON.readTree(editsJson.toFile());
        String tensors = manifest.path("tensors").asText();
        Files.copy(editsJson.resolveSibling(tensors), result.resolve(tensors));
        Files.copy(editsJson, result.resolve("edits.json"));
        Files.writeString(result.resolve("summary.json"), summary);
    }

    private static long[] ints(SafetensorsFile file, String name) {
        TensorInfo info = file.info(name);
        var buffer = file.data(name).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
        long[] out = new long[buffer.remaining()];
        for (int i = 0; i < out.length; i++) {
            out[i] = buffer.get(i);
        }
        assertEquals(DType.I32, info.dtype());
        return out;
    }
}
