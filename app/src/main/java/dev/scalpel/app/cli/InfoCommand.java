package dev.scalpel.app.cli;

import dev.scalpel.engine.api.ModelSummary;
import dev.scalpel.engine.model.ModelSummaries;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code scalpel info}: what a model is, from its config and checkpoint headers. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Architecture, layers, heads, kv heads, parameters, dtype and vocabulary of a model.")
final class InfoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--json", description = "Machine-readable output.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Path dir = modelOptions.modelDir();
        ModelSummary s = ModelSummaries.of(dir);
        var out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(s));
            return 0;
        }
        out.printf("model          %s%n", dir);
        out.printf("architecture   %s%n", s.architecture());
        out.printf("layers         %d%s%n", s.layers(), s.layerTypeRuns().isEmpty() ? "" : " (" + s.layerTypeRuns() + ")");
        out.printf("heads          %d (kv heads %d, head_dim %d)%n", s.heads(), s.kvHeads(), s.headDim());
        if (!s.headGridRuns().isEmpty()) {
            out.printf("head grid      %s (%d wide; a layer with fewer heads has absent cells)%n", s.headGridRuns(), s.grid().width());
        }
        out.printf("hidden size    %d (intermediate %d)%n", s.hiddenSize(), s.intermediateSize());
        out.printf("vocabulary     %d%n", s.vocabSize());
        out.printf("context        %d positions%n", s.maxPositions());
        out.printf("parameters     %,d%s%n", s.parameters(), s.tiedEmbeddings() ? " (embeddings tied)" : "");
        out.printf("dtype          %s%n", s.dtype());
        return 0;
    }
}
