package dev.scalpel.engine.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.model.CausalLM;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a job folder's {@code run.py} wrote in {@code result/}: the trained edit (an edits file bound to the base
 * model's hash), its per-step metrics and the run's summary. {@code scalpel import-job} and the workbench read it.
 */
public final class TrainingJobResult {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One line of {@code metrics.jsonl}. */
    public record StepMetric(long step, double loss, long targetTokensProcessed, double seconds) {}

    /** The job's model as job.json names it: the folder it was exported from and its content hash. */
    public record JobModel(Path path, String hash) {}

    /**
     * @param summary {@code summary.json} as written (steps, processes, device, versions, base_weights_unchanged, …)
     */
    public record Run(Path editsFile, List<StepMetric> metrics, JsonNode summary) {
        public int processes() {
            return summary.path("processes").asInt(1);
        }

        public boolean baseWeightsUnchanged() {
            return summary.path("base_weights_unchanged").asBoolean(false);
        }

        public double adapterMaxAbsOutsideHeads() {
            return summary.path("adapter_max_abs_outside_heads").asDouble(Double.NaN);
        }
    }

    private TrainingJobResult() {}

    /** The model {@code jobDir/job.json} was exported for. */
    public static JobModel model(Path jobDir) {
        JsonNode job = readJson(jobDir.resolve("job.json"), "job.json",
                "point import-job at a folder scalpel export-job wrote");
        if (!TrainingJobExport.FORMAT.equals(job.path("format").asText())) {
            throw new ScalpelException(jobDir.resolve("job.json") + " is not a Scalpel job (format '" + job.path("format").asText()
                    + "', expected " + TrainingJobExport.FORMAT + ").");
        }
        return new JobModel(Path.of(job.path("model").path("path").asText()), job.path("model").path("hash").asText());
    }

    /**
     * Reads the run's result.
     *
     * @throws ScalpelException when the job has not run, stopped with an error, or its result files are incomplete
     */
    public static Run read(Path jobDir) {
        model(jobDir);
        Path result = jobDir.resolve("result");
        Path summaryFile = result.resolve("summary.json");
        if (!Files.isRegularFile(summaryFile)) {
            throw new ScalpelException("The job in " + jobDir + " has no result yet (no result/summary.json): run it first, e.g. "
                    + "cd " + jobDir + " && ./launch.sh (see its README.md).");
        }
        JsonNode summary = readJson(summaryFile, "result/summary.json", "run the job again");
        if (summary.path("diverged").asBoolean(false)) {
            throw new ScalpelException("The job in " + jobDir + " stopped: " + summary.path("stopped").asText()
                    + ". Nothing was written; lower \"lr\" in its job.json and run it again.");
        }
        Path edits = result.resolve("edits.json");
        if (!Files.isRegularFile(edits)) {
            throw new ScalpelException("The job in " + jobDir + " has a summary but no result/edits.json (it was interrupted while "
                    + "writing); run it again.");
        }
        return new Run(edits, metrics(result.resolve("metrics.jsonl")), summary);
    }

    /** The trained edit, rebuilt for {@code model} (whose content hash must be the job's). */
    public static List<Edit> edits(Run run, CausalLM model, String modelHash) {
        return EditsFile.read(run.editsFile(), model, modelHash);
    }

    private static List<StepMetric> metrics(Path file) {
        List<StepMetric> out = new ArrayList<>();
        if (!Files.isRegularFile(file)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank()) {
                    JsonNode m = JSON.readTree(line);
                    out.add(new StepMetric(m.path("step").asLong(), m.path("loss").asDouble(Double.NaN),
                            m.path("target_tokens_processed").asLong(), m.path("seconds").asDouble()));
                }
            }
        } catch (IOException e) {
            throw new ScalpelException("Cannot read " + file + " (" + e.getMessage() + "); run the job again.", e);
        }
        return out;
    }

    private static JsonNode readJson(Path file, String what, String fix) {
        if (!Files.isRegularFile(file)) {
            throw new ScalpelException("No " + what + " in " + file.getParent() + "; " + fix + ".");
        }
        try {
            JsonNode node = JSON.readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new ScalpelException(file + " is not a JSON object; " + fix + ".");
            }
            return node;
        } catch (IOException e) {
            throw new ScalpelException("Cannot read " + file + " (" + e.getMessage().lines().findFirst().orElse("") + "); " + fix + ".", e);
        }
    }
}
