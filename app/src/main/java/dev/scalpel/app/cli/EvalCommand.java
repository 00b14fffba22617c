package dev.scalpel.app.cli;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.LanguageLoss;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.model.HeadGates;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.LoadedModel;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scalpel eval}: mean next-token cross-entropy per text, next to the uniform baseline ln V. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Mean next-token cross-entropy (nats) per language/file, with the uniform baseline ln(V).")
final class EvalCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    RuntimeOptions runtimeOptions;

    @Mixin
    DataOptions dataOptions;

    @Mixin
    EditsOptions editsOptions;

    @Option(names = "--max-tokens", paramLabel = "N", description = "Score at most the first N tokens of each text.")
    Integer maxTokens;

    @Mixin
    WindowOptions windowOptions;

    @Option(names = "--ablate", paramLabel = "HEADS",
            description = "Zero-ablate these heads (gate 0), e.g. L1H1,L2H1 or L3H* for a whole layer.")
    String ablate;

    @Option(names = "--json", description = "Print {vocab_size, uniform_ce, languages: {NAME: {ce, tokens}}}.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (maxTokens != null && maxTokens < 2) {
            throw new ScalpelException("--max-tokens must be at least 2, got " + maxTokens + ".");
        }
        try (LoadedModel m = LoadedModel.open(modelOptions.modelDir(), runtimeOptions.computeDevice())) {
            List<Edit> edits = editsOptions.load(m);
            try {
                evaluate(m, EditsOptions.overlay(edits));
            } finally {
                edits.forEach(Edit::close);
            }
        }
        return 0;
    }

    private void evaluate(LoadedModel m, LinearOverlay overlay) {
        int window = windowOptions.window(m.config());
        var evaluator = new CrossEntropyEvaluator(m.model(), window, windowOptions.batchSize()).withOverlay(overlay);
        try (HeadGates gates = ablatedGates(m)) {
            score(m, evaluator, gates);
        }
    }

    private void score(LoadedModel m, CrossEntropyEvaluator evaluator, HeadGates gates) {
        var out = spec.commandLine().getOut();
        int vocab = m.config().vocabSize();
        double uniform = Math.log(vocab);
        Map<String, Object> languages = new LinkedHashMap<>();
        if (!json) {
            out.printf("%-12s %10s %10s %8s%n", "text", "CE (nats)", "tokens", "CE/lnV");
        }
        for (var entry : dataOptions.texts(m.dir()).entrySet()) {
            long[] ids = m.tokenizer().encode(entry.getValue());
            if (maxTokens != null && ids.length > maxTokens) {
                ids = Arrays.copyOf(ids, maxTokens);
            }
            LanguageLoss loss = evaluator.evaluate(entry.getKey(), ids, m.tokenizer().bosForPrompts(), gates);
            languages.put(entry.getKey(), Map.of("ce", loss.ce(), "tokens", loss.tokens()));
            if (!json) {
                out.printf("%-12s %10.4f %10d %8.3f%n", loss.name(), loss.ce(), loss.tokens(), loss.ce() / uniform);
            }
        }
        if (json) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("vocab_size", vocab);
            result.put("uniform_ce", uniform);
            result.put("languages", languages);
            out.println(Json.write(result));
        } else {
            out.printf("uniform baseline ln(V) = ln(%d) = %.4f nats%n", vocab, uniform);
        }
    }

    /** Gates with the --ablate heads at 0, or null for the unmodified model. */
    private HeadGates ablatedGates(LoadedModel m) {
        if (ablate == null) {
            return null;
        }
        HeadGates gates = HeadGates.ones(m.config(), m.model().device());
        for (HeadId head : HeadSet.parse(ablate, m.config().headGrid()).heads()) {
            gates.set(head, 0);
        }
        return gates;
    }
}
