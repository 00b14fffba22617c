package dev.scalpel.app.cli;

import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.decompose.DecompositionFile;
import dev.scalpel.engine.decompose.DecompositionQuality;
import dev.scalpel.engine.decompose.ParameterDecomposer;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.files.TextFiles;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.spec.DecomposeSpec;
import dev.scalpel.engine.train.TokenCorpus;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scalpel decompose}: an SPD-style parameter decomposition of chosen matrices, resumable, with its quality. */
@Command(name = "decompose", mixinStandardHelpOptions = true,
        description = "Decompose matrices into rank-1 subcomponents with causal-importance functions (SPD), written as "
                + "_components.<module>.V/.U plus _ci_fns; rerun with the same flags to resume.")
final class DecomposeCommand implements Callable<Integer> {
    /** Tokens of each evaluation text the quality report uses. */
    private static final int EVAL_TOKENS = 4096;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    RuntimeOptions runtimeOptions;

    @Option(names = "--modules", required = true, paramLabel = "GLOB", description = "The matrices, e.g. layers.5.self_attn.v_proj.")
    String modules;

    @Option(names = "--components", required = true, paramLabel = "C", description = "Subcomponents per matrix (may exceed its rank).")
    int components;

    @Option(names = "--steps", paramLabel = "N", description = "Decomposition steps after the warm-up (default: 2000).")
    Integer steps;

    @Option(names = "--warmup-steps", paramLabel = "N", description = "Faithfulness-only steps first (default: 200).")
    Integer warmupSteps;

    @Option(names = "--batch-size", paramLabel = "N", description = "Windows per step (default: 8).")
    Integer batchSize;

    @Option(names = "--context", paramLabel = "N", description = "Tokens per window, BOS included (default: 128).")
    Integer context;

    @Option(names = "--lr", paramLabel = "LR", description = "AdamW peak learning rate, cosine to 10 %% (default: 1e-3).")
    Double lr;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the initialisation, batches and masks (default: 0).")
    Long seed;

    @Option(names = "--ci-hidden", paramLabel = "H", description = "Hidden width of each causal-importance MLP (default: 64).")
    Integer ciHidden;

    @Option(names = "--p-final", paramLabel = "P", description = "Importance-minimality exponent, annealed from 2 (default: 0.5).")
    Double pFinal;

    @Option(names = "--importance-coeff", paramLabel = "X", description = "Weight of importance minimality (default: 1e-3).")
    Double importanceCoeff;

    @Option(names = "--faithfulness-coeff", paramLabel = "X", description = "Weight of faithfulness (default: 1e5).")
    Double faithfulnessCoeff;

    @Option(names = "--checkpoint-every", paramLabel = "N", description = "Steps between checkpoints (default: 100).")
    Integer checkpointEvery;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The decomposition, NAME.safetensors.")
    Path out;

    @Option(names = "--data", paramLabel = "NAME=FILE",
            description = "Training text (repeatable), mixed equally. Default: the model's train-sample/*.txt.")
    Map<String, Path> data = new LinkedHashMap<>();

    @Option(names = "--eval", paramLabel = "NAME=FILE",
            description = "Held-out text for the quality report (repeatable). Default: the model's eval/*.txt.")
    Map<String, Path> eval = new LinkedHashMap<>();

    @Option(names = "--json", description = "Machine-readable output: {result, quality}.")
    boolean json;

    @Spec
    CommandSpec spec;

    /** The flags as the engine's spec. */
    DecomposeSpec decomposeSpec() {
        return new DecomposeSpec(modules, components, steps, warmupSteps, batchSize, context, lr, seed, ciHidden, pFinal,
                importanceCoeff, faithfulnessCoeff, checkpointEvery, out == null ? null : out.toString());
    }

    @Override
    public Integer call() {
        DecomposeSpec ds = decomposeSpec();
        Path dir = modelOptions.modelDir();
        PrintWriter print = spec.commandLine().getOut();
        Output output = OutputGuard.files(OutputKind.DECOMPOSITION, List.of(dir), out, ParameterDecomposer.optimizerFile(out));
        try (LoadedModel lm = LoadedModel.open(dir, runtimeOptions.computeDevice())) {
            Map<String, int[]> training = new LinkedHashMap<>();
            texts(data, dir.resolve("train-sample"), "--data").forEach((name, text) ->
                    training.put(name, Arrays.stream(lm.tokenizer().encode(text)).mapToInt(Math::toIntExact).toArray()));
            Map<String, Double> mix = new LinkedHashMap<>();
            training.keySet().forEach(name -> mix.put(name, 1.0 / training.size()));
            Integer bos = lm.tokenizer().bosForPrompts();
            TokenCorpus corpus = new TokenCorpus(training, mix, bos != null ? bos : lm.config().bosTokenId());
            ParameterDecomposer decomposer = new ParameterDecomposer(lm.model(), ModelHash.of(dir), ds, corpus, output);
            if (!json) {
                print.printf(Locale.ROOT, "decomposing %s into %d subcomponents each, on %s (%d + %d steps of %d × %d tokens)%n",
                        decomposer.modules(), ds.components(), training.keySet(), ds.warmupSteps(), ds.steps(), ds.batchSize(), ds.context());
            }
            long every = Math.max(1, (ds.warmupSteps() + ds.steps()) / 20);
            ParameterDecomposer.Result result = decomposer.run(p -> {
                if (!json && (p.step() % every == 0 || p.step() == p.totalSteps())) {
                    print.printf(Locale.ROOT, "  step %5d/%d %-9s stochastic KL %.4f  minimality %.2f  faithfulness %.3g  p %.2f  "
                            + "active/token %.1f  lr %.2g%n", p.step(), p.totalSteps(), p.phase(), p.stochastic(), p.importance(),
                            p.faithfulness(), p.p(), p.activePerToken(), p.lr());
                    print.flush();
                }
            }, () -> false);
            DecompositionQuality.Report quality;
            try (DecompositionFile.Loaded loaded = DecompositionFile.read(out, lm.model())) {
                Map<String, long[]> held = new LinkedHashMap<>();
                texts(eval, dir.resolve("eval"), "--eval").forEach((name, text) -> {
                    long[] ids = lm.tokenizer().encode(text);
                    held.put(name, Arrays.copyOf(ids, Math.min(ids.length, EVAL_TOKENS)));
                });
                quality = DecompositionQuality.measure(lm.model(), loaded.modules(), held, bos, ds.context(), ds.batchSize());
            }
            if (json) {
                print.println(Json.write(Map.of("result", result, "quality", summary(quality))));
                return 0;
            }
            print.printf(Locale.ROOT, "%s %s after %d steps (resumed at %d) in %.1f s%n", result.completed() ? "wrote" : "checkpointed",
                    out, result.step(), result.resumedAt(), result.seconds());
            quality.relativeResidual().forEach((m, r) -> print.printf(Locale.ROOT, "faithfulness %s: ‖W − ΣU_cV_cᵀ‖/‖W‖ = %.4f%n", m, r));
            print.printf("%-8s %7s %10s %12s %10s %s%n", "text", "tokens", "CE target", "CE at CI", "CE mask=1", "active/token");
            for (DecompositionQuality.TextQuality t : quality.texts()) {
                print.printf(Locale.ROOT, "%-8s %7d %10.4f %12.4f %10.4f %s%n", t.text(), t.tokens(), t.targetCe(), t.importanceMaskedCe(),
                        t.unmaskedCe(), format(t.activePerToken()));
            }
        }
        return 0;
    }

    /** The report without the per-subcomponent arrays (those are for inspection, not a summary). */
    private static Map<String, Object> summary(DecompositionQuality.Report q) {
        return Map.of("relative_residual", q.relativeResidual(), "texts", q.texts().stream().map(t -> Map.of("text", t.text(),
                "tokens", t.tokens(), "ce_target", t.targetCe(), "ce_at_ci", t.importanceMaskedCe(), "ce_unmasked", t.unmaskedCe(),
                "active_per_token", t.activePerToken())).toList());
    }

    private static String format(Map<String, Double> perModule) {
        StringBuilder b = new StringBuilder();
        perModule.forEach((m, v) -> b.append(b.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.1f", v)));
        return b.toString();
    }

    /** Name → text of the given files, or of every *.txt in {@code bundled}. */
    private static Map<String, String> texts(Map<String, Path> given, Path bundled, String flag) {
        Map<String, Path> files = new TreeMap<>(given);
        if (files.isEmpty()) {
            files.putAll(TextFiles.inFolder(bundled));
        }
        if (files.isEmpty()) {
            throw new ScalpelException("No texts: pass " + flag + " NAME=FILE (this model ships no " + bundled.getFileName() + "/*.txt).");
        }
        Map<String, String> texts = new LinkedHashMap<>();
        files.forEach((name, file) -> texts.put(name, TextFiles.readUtf8(file)));
        return texts;
    }
}
