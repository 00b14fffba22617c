package dev.scalpel.app.cli;

import dev.scalpel.engine.model.ModelConfig;
import picocli.CommandLine.Option;

/** --context and --batch-size: how a text is cut into teacher-forcing windows and batched. */
public final class WindowOptions {
    @Option(names = "--context", paramLabel = "N", description = "Window length (default: min(256, model context)).")
    Integer context;

    @Option(names = "--batch-size", defaultValue = "4", paramLabel = "N", description = "Windows per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    /** The window length for {@code config}'s model. */
    public int window(ModelConfig config) {
        return context != null ? context : Math.min(256, config.maxPositions());
    }

    public int batchSize() {
        return batchSize;
    }
}
