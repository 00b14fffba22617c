package dev.scalpel.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code "method": "full"} (issue 16: APOLLO for full-model fine-tunes): every weight trains, as a task vector over the
 * frozen base; the loss falls, APOLLO keeps less state than AdamW (the embeddings keep AdamW moments, as in the paper),
 * and the saved edit evaluates exactly as its merged export.
 */
class FullFinetuneCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"adamw", "apollo", "apollo-mini"})
    void aFullFinetuneLearnsAndItsEditEqualsItsMergedExport(String optimizer) throws IOException {
        Path model = ModelsWithTexts.llamaGqa(tmp.resolve("model"), 40);
        Path spec = tmp.resolve("spec.json");
        Files.writeString(spec, """
                {"method": "full", "objective": "learn", "target": "model/train-sample/de.txt", "token_budget": 256,
                 "steps": 15, "batch_size": 2, "context": 32, "lr": 0.003, "seed": 2, "optimizer": "%s"%s}"""
                .formatted(optimizer, optimizer.equals("apollo") ? ", \"apollo\": {\"rank\": 4}" : ""));
        Path edits = tmp.resolve("full.json");
        CliRun train = CliRun.of("train", "--model", model.toString(), "--spec", spec.toString(), "--out", edits.toString(), "--json");
        assertEquals(0, train.status(), train.err());
        JsonNode summary = JSON.readTree(train.out());
        long parameters = JSON.readTree(CliRun.of("info", "--model", model.toString(), "--json").out()).get("parameters").asLong();
        assertEquals(parameters, summary.get("trainable_parameters").asLong(), "every weight trains");
        assertTrue(summary.get("last_loss").asDouble() < Math.log(512) - 1, train.out());
        long state = summary.get("optimizer_state_bytes").asLong();
        long adamw = summary.get("adamw_state_bytes").asLong();
        assertTrue(optimizer.equals("adamw") ? state == adamw : state < adamw, optimizer + ": " + state + " vs AdamW " + adamw);

        Path merged = tmp.resolve("merged");
        assertEquals(0, CliRun.of("export", "--model", model.toString(), "--edits", edits.toString(), "--format", "hf",
                "--out", merged.toString()).status());
        Path text = model.resolve("eval").resolve("en.txt");
        double viaEdit = ce(CliRun.of("eval", "--model", model.toString(), "--edits", edits.toString(), "--data", "en=" + text, "--json"));
        double viaMerged = ce(CliRun.of("eval", "--model", merged.toString(), "--data", "en=" + text, "--json"));
        double base = ce(CliRun.of("eval", "--model", model.toString(), "--data", "en=" + text, "--json"));
        assertEquals(viaMerged, viaEdit, 1e-4, "the edit evaluates as its merged export");
        assertTrue(Math.abs(viaEdit - base) > 1e-3, "the fine-tune changed the model");
    }

    private static double ce(CliRun run) throws IOException {
        assertEquals(0, run.status(), run.err());
        JsonNode root = JSON.readTree(run.out());
        return root.get("languages").get("en").get("ce").asDouble();
    }
}
