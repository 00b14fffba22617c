package dev.scalpel.app.cli;

import dev.scalpel.app.ui.Workbench;
import dev.scalpel.engine.api.ScalpelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code scalpel open PATH}: the workbench on a model folder or a saved workspace (plain {@code scalpel} opens the sample). */
@Command(name = "open", mixinStandardHelpOptions = true,
        description = "Open the workbench on a Hugging Face model folder, 'sample', or a saved workspace (.json).")
final class OpenCommand implements Callable<Integer> {
    @Parameters(paramLabel = "PATH", defaultValue = "sample", description = "Model folder, 'sample' or workspace.json (default: ${DEFAULT-VALUE}).")
    String target;

    @Mixin
    RuntimeOptions runtimeOptions;

    @Override
    public Integer call() {
        Path path = target.equals("sample") ? ModelOptions.sampleModel() : Path.of(target);
        if (!Files.exists(path)) {
            throw new ScalpelException(path + " does not exist; give a model folder (config.json, *.safetensors, tokenizer.json) "
                    + "or a workspace saved with File ▸ Save workspace.");
        }
        Workbench.open(path, runtimeOptions.computeDevice());
        return 0;
    }
}
