package dev.scalpel.app.cli;

import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.LanguageLoss;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.edit.EditOverlay;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.importance.ImportanceMapFile;
import dev.scalpel.engine.importance.TextHeatmap;
import dev.scalpel.engine.job.JobResult;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scalpel import-job}: loads a job folder's result as an edit and evaluates it per language. */
@Command(name = "import-job", mixinStandardHelpOptions = true,
        description = "Loads what a job folder's run.py computed: a trained edit (result/edits.json) onto its base model, with "
                + "the per-language cross-entropy of the base and the edited model (--out saves it as an edits file), or an "
                + "importance map (result/map.json; --out saves it as a map file).")
final class ImportJobCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "JOBDIR", description = "The job folder (scalpel export-job wrote it; run.py filled result/).")
    Path jobDir;

    @Option(names = "--model", paramLabel = "DIR", description = "The base model's folder (default: the one job.json names).")
    Path model;

    @Mixin
    RuntimeOptions runtimeOptions;

    @Mixin
    DataOptions dataOptions;

    @Mixin
    WindowOptions windowOptions;

    @Option(names = "--max-tokens", paramLabel = "N", description = "Score at most the first N tokens of each text.")
    Integer maxTokens;

    @Option(names = "--out", paramLabel = "FILE.json", description = "Also save the imported edit (an edits file) or map (a map file) here.")
    Path out;

    @Option(names = "--json", description = "Print {processes, steps, base_weights_unchanged, languages: {NAME: {base, edited, tokens}}}.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        JobResult.Run run = JobResult.read(jobDir);
        Path dir = model != null ? model : JobResult.model(jobDir).path();
        if (!run.isTraining()) {
            return importMap(run, dir);
        }
        if (out != null) {
            OutputGuard.files(OutputKind.EDITS, List.of(dir), out);
        }
        try (LoadedModel m = LoadedModel.open(dir, runtimeOptions.computeDevice())) {
            String hash = ModelHash.of(dir);
            List<Edit> edits = JobResult.edits(run, m.model(), hash);
            try {
                report(m, run, edits);
                if (out != null) {
                    EditsFile.write(out, hash, edits, List.of(dir));
                }
            } finally {
                edits.forEach(Edit::close);
            }
        }
        return 0;
    }

    /** An importance job: the map, checked against the model, printed as a heatmap and saved with --out. */
    private Integer importMap(JobResult.Run run, Path dir) {
        ImportanceMap map = JobResult.map(run);
        String hash = ModelHash.of(dir);
        if (!map.modelHash().equals(hash)) {
            throw new ScalpelException("The map in " + jobDir + " was computed for another model (hash " + ModelHash.shortHash(map.modelHash())
                    + ", " + dir + " has " + ModelHash.shortHash(hash) + "); pass --model with the model the job was exported for.");
        }
        if (out != null) {
            ImportanceMapFile.write(map, out, List.of(dir));
        }
        var print = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("domain", map.domain());
            summary.put("method", map.method());
            summary.put("tokens", map.tokens());
            summary.put("processes", run.processes());
            summary.put("scores", map.scores());
            summary.put("map_file", out == null ? null : out.toString());
            print.println(Json.write(summary));
        } else {
            print.printf(Locale.ROOT, "%s importance of %s over %,d positions, computed by run.py on %d process(es)%n%s%n", map.method(),
                    map.domain(), map.tokens(), run.processes(), TextHeatmap.render(map));
            if (out != null) {
                print.printf("wrote %s%n", out);
            }
        }
        return 0;
    }

    private void report(LoadedModel m, JobResult.Run run, List<Edit> edits) {
        var print = spec.commandLine().getOut();
        int window = windowOptions.window(m.config());
        var base = new CrossEntropyEvaluator(m.model(), window, windowOptions.batchSize());
        var edited = new CrossEntropyEvaluator(m.model(), window, windowOptions.batchSize()).withOverlay(new EditOverlay(edits));
        Map<String, Object> languages = new LinkedHashMap<>();
        if (!json) {
            print.printf("%s%n", edits.get(0).describe());
            print.printf(Locale.ROOT, "trained by run.py on %d process(es), %d steps, last loss %.4f; base weights unchanged: %s%n",
                    run.processes(), run.metrics().size(), run.metrics().isEmpty() ? Double.NaN : run.metrics().get(run.metrics().size() - 1).loss(),
                    run.baseWeightsUnchanged());
            print.printf("%-12s %10s %10s %10s %8s%n", "text", "base CE", "edited CE", "Δ", "tokens");
        }
        for (var entry : dataOptions.texts(m.dir()).entrySet()) {
            long[] ids = m.tokenizer().encode(entry.getValue());
            if (maxTokens != null && ids.length > maxTokens) {
                ids = java.util.Arrays.copyOf(ids, maxTokens);
            }
            LanguageLoss before = base.evaluate(entry.getKey(), ids, m.tokenizer().bosForPrompts(), null);
            LanguageLoss after = edited.evaluate(entry.getKey(), ids, m.tokenizer().bosForPrompts(), null);
            languages.put(entry.getKey(), Map.of("base", before.ce(), "edited", after.ce(), "tokens", after.tokens()));
            if (!json) {
                print.printf(Locale.ROOT, "%-12s %10.4f %10.4f %+10.4f %8d%n", entry.getKey(), before.ce(), after.ce(),
                        after.ce() - before.ce(), after.tokens());
            }
        }
        if (json) {
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("edit", edits.get(0).describe());
            summary.put("processes", run.processes());
            summary.put("steps", run.metrics().size());
            summary.put("base_weights_unchanged", run.baseWeightsUnchanged());
            summary.put("adapter_max_abs_outside_heads", run.adapterMaxAbsOutsideHeads());
            summary.put("languages", languages);
            summary.put("edits_file", out == null ? null : out.toString());
            print.println(Json.write(summary));
        } else if (out != null) {
            print.printf("wrote %s%n", out);
        }
    }
}
