package dev.scalpel.engine.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.importance.ImportanceMapFile;
import dev.scalpel.engine.model.CausalLM;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a job folder's {@code run.py} wrote in {@code result/}: for a training job the trained edit (an edits file bound
 * to the base model's hash) and its per-step metrics, for an importance job the map; and the run's summary.
 * {@code scalpel import-job} and the workbench read it.
 */
public final class JobResult {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String TRAIN = "train";
    static final String IMPORTANCE = "importance";

    /** One line of {@code metrics.jsonl}. */
    public record StepMetric(long step, double loss, long targetTokensProcessed, double seconds) {}

    /** The job's model as job.json names it: the folder it was exported from and its content hash. */
    public record JobModel(Path path, String hash) {}

    /**
     * @param summary {@code summary.json} as written (steps, processes, device, versions, base_weights_unchanged, …)
     */
    public record Run(String kind, Path resultDir, List<StepMetric> metrics, JsonNode summary) {
        /** Whether the job trained an edit ("train") rather than computing an importance map ("importance"). */
        public boolean isTraining() {
            return kind.equals(TRAIN);
        }


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

    private JobResult() {}

    /** The model {@code jobDir/job.json} was exported for. */
    public static JobModel model(Path jobDir) {
        JsonNode job = job(jobDir);
        return new JobModel(Path.of(job.path("model").path("path").asText()), job.path("model").path("hash").asText());
    }

    private static JsonNode job(Path jobDir) {
        JsonNode job = readJson(jobDir.resolve("job.json"), "job.json", "point import-job at a folder scalpel export-job wrote");
        if (!JobFolder.FORMAT.equals(job.path("format").asText())) {
            throw new ScalpelException(jobDir.resolve("job.json") + " is not a Scalpel job (format '" + job.path("format").asText()
                    + "', expected " + JobFolder.FORMAT + ").");
        }
        String kind = job.path("kind").asText(TRAIN);
        if (!kind.equals(TRAIN) && !kind.equals(IMPORTANCE)) {
            throw new ScalpelException(jobDir.resolve("job.json") + " is a job of kind '" + kind + "', which this Scalpel does not know; "
                    + "import it with the Scalpel that exported it.");
        }
        return job;
    }

    /**
     * Reads the run's result.
     *
     * @throws ScalpelException when the job has not run, stopped with an error, or its result files are incomplete
     */
    public static Run read(Path jobDir) {
        String kind = job(jobDir).path("kind").asText(TRAIN);
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
        String produced = kind.equals(TRAIN) ? "edits.json" : "map.json";
        if (!Files.isRegularFile(result.resolve(produced))) {
            throw new ScalpelException("The job in " + jobDir + " has a summary but no result/" + produced + " (it was interrupted "
                    + "while writing); run it again.");
        }
        return new Run(kind, result, metrics(result.resolve("metrics.jsonl")), summary);
    }

    /** The trained edit of a training job, rebuilt for {@code model} (whose content hash must be the job's). */
    public static List<Edit> edits(Run run, CausalLM model, String modelHash) {
        if (!run.isTraining()) {
            throw new ScalpelException("This job computed an importance map, not an edit; open the map instead.");
        }
        return EditsFile.read(run.resultDir().resolve("edits.json"), model, modelHash);
    }

    /** The map of an importance job. */
    public static ImportanceMap map(Run run) {
        if (run.isTraining()) {
            throw new ScalpelException("This job trained an edit, not an importance map; load the edit instead.");
        }
        return ImportanceMapFile.read(run.resultDir().resolve("map.json"));
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
