package dev.scalpel.app.cli;

import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.export.MergedCheckpointExporter;
import dev.scalpel.engine.export.PeftAdapterExporter;
import dev.scalpel.engine.groups.HeadGroup;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.safetensors.DType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scalpel export}: an edited model as a merged HF checkpoint, or a LoRA edit as a PEFT adapter. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write the edited model as a merged Hugging Face folder (--format hf) or a LoRA/head-LoRA edit as a PEFT adapter (--format peft).")
final class ExportCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    RuntimeOptions runtimeOptions;

    @Option(names = "--edits", required = true, paramLabel = "EDITS.json", description = "The edits file to export.")
    Path edits;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (never the base model's).")
    Path out;

    @Option(names = "--format", defaultValue = "hf",
            description = "hf (merged weights), peft (adapter) or group (the --heads of the edited model as a head group) (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--heads", description = "For --format group: the heads to export, e.g. L1H1,L2H*.")
    String heads;

    @Option(names = "--name", description = "For --format group: the group's name (default: the edits file's name).")
    String name;

    @Option(names = "--dtype", paramLabel = "F32|F16|BF16", description = "Weight dtype of an hf export (default: the input's).")
    String dtype;

    @Option(names = "--allow-non-finite", description = "Write weights holding NaN or ±Inf instead of refusing them (for debugging a diverged run).")
    boolean allowNonFinite;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Path dir = modelOptions.modelDir();
        try (LoadedModel m = LoadedModel.open(dir, runtimeOptions.computeDevice())) {
            List<Edit> loaded = EditsFile.read(edits, m.model(), ModelHash.of(dir));
            try {
                switch (format) {
                    case "hf" -> MergedCheckpointExporter.write(m, loaded, out, dtype == null ? null
                            : DType.fromSafetensorsName(dtype.toUpperCase(java.util.Locale.ROOT)).orElseThrow(
                                    () -> new ScalpelException("Unknown --dtype '" + dtype + "'; use F32, F16 or BF16.")),
                            allowNonFinite);
                    case "peft" -> {
                        if (loaded.size() != 1 || !(loaded.get(0) instanceof LoraEdit lora)) {
                            throw new ScalpelException("A PEFT adapter holds one LoRA or head-LoRA edit; " + edits + " has "
                                    + loaded.stream().map(Edit::kind).toList() + ". Use --format hf for other edits.");
                        }
                        PeftAdapterExporter.write(m, lora, out, allowNonFinite);
                    }
                    case "group" -> {
                        if (heads == null) {
                            throw new ScalpelException("--format group needs --heads, e.g. --heads L1H1,L2H*.");
                        }
                        String groupName = name != null ? name : edits.getFileName().toString().replaceFirst("\\.json$", "");
                        HeadGroup group = HeadGroup.extract(m.model(), ModelHash.of(dir), groupName,
                                HeadSet.parse(heads, m.config().numHeads()), loaded, Map.of("edits", edits.toString()));
                        group.write(out.resolve("group.json"), List.of(dir));
                        group.close();
                    }
                    default -> throw new ScalpelException("Unknown --format '" + format + "'; use hf, peft or group.");
                }
            } finally {
                loaded.forEach(Edit::close);
            }
        }
        spec.commandLine().getOut().println("wrote " + out);
        return 0;
    }
}
