package dev.scalpel.app.cli;

import dev.scalpel.app.ScalpelHome;
import dev.scalpel.engine.api.ScalpelException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** --model, shared by every command that opens a model; {@code sample} is the bundled sample model. */
public final class ModelOptions {
    /** Folder of the bundled sample model, relative to the Scalpel home. */
    static final Path SAMPLE_MODEL = Path.of("sample-models", "polyglot-tiny");

    @Option(names = "--model", defaultValue = "sample", paramLabel = "DIR",
            description = "Hugging Face model folder, or 'sample' for the bundled sample model (default: ${DEFAULT-VALUE}).")
    String model;

    /** The model folder, resolving 'sample'. */
    public Path modelDir() {
        return model.equals("sample") ? sampleModel() : Path.of(model);
    }

    /** The bundled sample model's folder. */
    public static Path sampleModel() {
        Path found = ScalpelHome.find(SAMPLE_MODEL);
        if (found == null) {
            throw new ScalpelException("The bundled sample model (" + SAMPLE_MODEL + ") is missing from this checkout; "
                    + "restore it (git checkout sample-models), rebuild it with scalpel build-sample, or pass --model DIR.");
        }
        return found;
    }
}
