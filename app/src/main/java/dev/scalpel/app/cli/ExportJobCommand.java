package dev.scalpel.app.cli;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.files.TextFiles;
import dev.scalpel.engine.job.ImportanceJobExport;
import dev.scalpel.engine.job.TrainingJobExport;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.spec.TrainSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scalpel export-job}: a folder that runs a training spec with torchrun / accelerate / Slurm. */
@Command(name = "export-job", mixinStandardHelpOptions = true,
        description = "Writes a self-contained job folder that trains a spec with PyTorch's distributed stack (torchrun, "
                + "accelerate or Slurm; transformers + PEFT) with the same semantics as scalpel train; bring its result "
                + "back with scalpel import-job.")
final class ExportJobCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--spec", paramLabel = "SPEC.json", description = "A training job: the training spec (as for scalpel train).")
    Path specFile;

    @Option(names = "--importance", paramLabel = "NAME=FILE",
            description = "An importance job instead: the gradient head-importance map of this text (as scalpel importance).")
    Map<String, Path> importance;

    @Option(names = "--max-tokens", defaultValue = "8192", paramLabel = "N",
            description = "Importance job: tokens of the text used (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Mixin
    WindowOptions windowOptions;

    @Option(names = "--out", required = true, paramLabel = "JOBDIR", description = "The job folder to write (new, empty or an earlier job).")
    Path out;

    @Option(names = "--json", description = "Machine-readable summary.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if ((specFile == null) == (importance == null)) {
            throw new ScalpelException("export-job writes a training job (--spec SPEC.json) or an importance job "
                    + "(--importance NAME=FILE); give one of them.");
        }
        if (importance != null) {
            return importanceJob();
        }
        TrainSpec trainSpec = TrainSpec.read(specFile);
        try (LoadedModel m = LoadedModel.open(modelOptions.modelDir(), ComputeDevice.CPU)) {
            TrainingJobExport.Written w = TrainingJobExport.write(m, trainSpec, specFile, out);
            var print = spec.commandLine().getOut();
            if (json) {
                Map<String, Object> summary = new LinkedHashMap<>();
                summary.put("job", w.folder().toString());
                summary.put("edit", w.description());
                summary.put("trainable_parameters", w.parameterCount());
                summary.put("target_tokens", w.targetTokens());
                print.println(Json.write(summary));
            } else {
                print.printf("%s%nwrote the job folder %s (%,d target tokens)%n", w.description(), w.folder(), w.targetTokens());
                print.printf("run it:    cd %s && ./launch.sh          (torchrun; see its README.md for accelerate and Slurm)%n", w.folder());
                print.printf("then:      scalpel import-job %s%n", w.folder());
            }
        }
        return 0;
    }

    private Integer importanceJob() {
        if (importance.size() != 1) {
            throw new ScalpelException("An importance job scores one text; give one --importance NAME=FILE.");
        }
        var entry = importance.entrySet().iterator().next();
        try (LoadedModel m = LoadedModel.open(modelOptions.modelDir(), ComputeDevice.CPU)) {
            ImportanceJobExport.Written w = ImportanceJobExport.write(m, entry.getKey(), TextFiles.readUtf8(entry.getValue()),
                    maxTokens, windowOptions.window(m.config()), windowOptions.batchSize(), out);
            var print = spec.commandLine().getOut();
            if (json) {
                print.println(Json.write(Map.of("job", w.folder().toString(), "batches", w.batches(), "positions", w.positions())));
            } else {
                print.printf("gradient importance of %s: %,d positions in %d batches%nwrote the job folder %s%n", entry.getKey(),
                        w.positions(), w.batches(), w.folder());
                print.printf("run it:    cd %s && ./launch.sh%nthen:      scalpel import-job %s --out MAP.json%n", w.folder(), w.folder());
            }
        }
        return 0;
    }
}
