package dev.scalpel.app.cli;

import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.export.Exporter;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.spec.ExportSpec;
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

    @Option(names = "--out", required = true, paramLabel = "DIR|NAME.json", description = "Output folder (hf, peft) or NAME.json (group, edits); never inside a model folder.")
    Path out;

    @Option(names = "--format", defaultValue = "hf",
            description = "hf (merged weights), peft (adapter), group (the --heads of the edited model as a head group, --out NAME.json) "
                    + "or edits (the edits file again, --out NAME.json) (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--heads", description = "For --format group: the heads to export, e.g. L1H1,L2H*.")
    String heads;

    @Option(names = "--name", description = "For --format group: the group's name (default: the --out file's name).")
    String name;

    @Option(names = "--dtype", paramLabel = "F32|F16|BF16", description = "Weight dtype of an hf export (default: the input's).")
    String dtype;

    @Option(names = "--allow-non-finite", description = "Write weights holding NaN or ±Inf instead of refusing them (for debugging a diverged run).")
    boolean allowNonFinite;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        ExportSpec exportSpec = new ExportSpec(ExportSpec.Format.parse(format), out.toString(), dtype, heads, name, allowNonFinite);
        Path dir = modelOptions.modelDir();
        try (LoadedModel m = LoadedModel.open(dir, runtimeOptions.computeDevice())) {
            List<Edit> loaded = EditsFile.read(edits, m.model(), ModelHash.of(dir));
            try {
                Exporter.export(m, ModelHash.of(dir), loaded, exportSpec, Map.of("edits", edits.toString()));
            } finally {
                loaded.forEach(Edit::close);
            }
        }
        spec.commandLine().getOut().println("wrote " + out);
        return 0;
    }
}
