package dev.scalpel.app.cli;

import dev.scalpel.engine.files.TextFiles;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.edit.TaskVector;
import dev.scalpel.engine.edit.TaskVectorEdit;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.HeadGates;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.ModelLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scalpel vectors}: task vectors (fine-tuned − base), TIES merging, head pruning — each written as an edits file. */
@Command(name = "vectors", mixinStandardHelpOptions = true, description = "Task vectors, TIES merging and head pruning as edits.",
        subcommands = {VectorsCommand.Task.class, VectorsCommand.Add.class, VectorsCommand.Ties.class, VectorsCommand.Prune.class, VectorsCommand.Lora.class,
                VectorsCommand.Steer.class})
final class VectorsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The combined dense deltas of an edits file, as a task vector. */
    static TaskVector ofEdits(Path file, LoadedModel m) {
        List<Edit> edits = EditsFile.read(file, m.model(), ModelHash.of(m.dir()));
        try {
            return TaskVector.ofEdits(edits, m.model());
        } finally {
            edits.forEach(Edit::close);
        }
    }

    /** Writes {@code vector} as an edits file for the model in {@code modelDir} and says what was written. */
    static void write(TaskVector vector, String description, Path modelDir, Path out, CommandSpec spec) {
        try (TaskVectorEdit edit = new TaskVectorEdit(vector, description)) {
            EditsFile.write(out, ModelHash.of(modelDir), List.of(edit), List.of(modelDir));
            spec.commandLine().getOut().println(edit.describe() + " → " + out);
        }
    }

    /** Where a task vector comes from: --fine-tuned DIR (fine-tuned − base) or --from-edits EDITS.json. */
    static final class TaskVectorSource {
        @Option(names = "--fine-tuned", paramLabel = "DIR", description = "The fine-tuned model folder (same architecture and size).") Path fineTuned;
        @Option(names = "--from-edits", paramLabel = "EDITS.json", description = "Or: the edits whose combined update is τ.") Path fromEdits;

        TaskVector load(LoadedModel m) {
            if ((fineTuned == null) == (fromEdits == null)) {
                throw new ScalpelException("Give exactly one of --fine-tuned DIR or --from-edits EDITS.json.");
            }
            if (fromEdits != null) {
                return ofEdits(fromEdits, m);
            }
            try (CausalLM tuned = ModelLoader.load(fineTuned, m.model().device())) {
                return TaskVector.between(m.model(), tuned, name -> true);
            }
        }

        @Override
        public String toString() {
            return String.valueOf(fineTuned != null ? fineTuned : fromEdits);
        }
    }

    @Command(name = "task", mixinStandardHelpOptions = true,
            description = "τ = fine-tuned − base (a model folder, or an edits file), optionally restricted to heads, scaled or negated.")
    static final class Task implements Callable<Integer> {
        @Mixin ModelOptions modelOptions;
        @Mixin RuntimeOptions runtimeOptions;
        @Mixin TaskVectorSource source;
        @Option(names = "--heads", description = "Keep τ only on these heads' q/k/v rows and o columns.") String heads;
        @Option(names = "--scale", defaultValue = "1.0", description = "Multiply τ (−1 negates: subtract the task).") double scale;
        @Option(names = "--out", required = true, paramLabel = "EDITS.json") Path out;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            Path dir = modelOptions.modelDir();
            try (LoadedModel m = LoadedModel.open(dir, runtimeOptions.computeDevice())) {
                TaskVector tau = source.load(m);
                if (heads != null) {
                    tau = tau.restrictedTo(HeadSet.parse(heads, m.config().headGrid()), m.model());
                }
                String what = String.format(Locale.ROOT, "task vector %s%s × %s", source,
                        heads != null ? " on " + heads : "", scale);
                write(tau.scale(scale), what, dir, out, spec);
            }
            return 0;
        }
    }

    /** "global" / "per-tensor" → {@link TaskVector.Trim}. */
    static final class TrimConverter implements picocli.CommandLine.ITypeConverter<TaskVector.Trim> {
        @Override
        public TaskVector.Trim convert(String value) {
            return switch (value) {
                case "global" -> TaskVector.Trim.GLOBAL;
                case "per-tensor" -> TaskVector.Trim.PER_TENSOR;
                default -> throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not global or per-tensor");
            };
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "τ = Σ λᵢ·τᵢ: the weighted sum of several edits files' updates (task arithmetic), as one task vector.")
    static final class Add implements Callable<Integer> {
        @Mixin ModelOptions modelOptions;
        @Mixin RuntimeOptions runtimeOptions;
        @Option(names = "--vector", required = true, paramLabel = "EDITS.json[=λ]",
                description = "An edits file, optionally with its weight (default 1; −1 subtracts it); repeat.") List<String> vectors;
        @Option(names = "--out", required = true, paramLabel = "EDITS.json") Path out;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            Path dir = modelOptions.modelDir();
            try (LoadedModel m = LoadedModel.open(dir, runtimeOptions.computeDevice())) {
                TaskVector sum = null;
                for (String v : vectors) {
                    int eq = v.lastIndexOf('=');
                    Path file = Path.of(eq < 0 ? v : v.substring(0, eq));
                    double weight = eq < 0 ? 1.0 : weightOf(v.substring(eq + 1), v);
                    TaskVector tau = ofEdits(file, m).scale(weight);
                    sum = sum == null ? tau : sum.add(tau);
                }
                write(sum, "sum of " + vectors, dir, out, spec);
            }
            return 0;
        }

        private static double weightOf(String text, String option) {
            try {
                double w = Double.parseDouble(text);
                if (Double.isFinite(w)) {
                    return w;
                }
            } catch (NumberFormatException e) {
                // refused below
            }
            throw new ScalpelException("--vector " + option + ": the weight after '=' must be a finite number, e.g. "
                    + "--vector a.json=0.5.");
        }
    }

    @Command(name = "ties", mixinStandardHelpOptions = true, description = "TIES-merge several edits files' updates into one task vector.")
    static final class Ties implements Callable<Integer> {
        @Mixin ModelOptions modelOptions;
        @Mixin RuntimeOptions runtimeOptions;
        @Option(names = "--vector", required = true, paramLabel = "EDITS.json", description = "An edits file; repeat.") List<Path> vectors;
        @Option(names = "--keep", defaultValue = "0.2", description = "Fraction of each vector's entries kept by magnitude (default: ${DEFAULT-VALUE}).") double keep;
        @Option(names = "--lambda", defaultValue = "1.0", description = "Scale of the merged vector (default: ${DEFAULT-VALUE}).") double lambda;
        @Option(names = "--trim", defaultValue = "global", converter = TrimConverter.class,
                description = "Rank entries by magnitude over each whole vector (global, as the TIES paper) or within each "
                        + "tensor (per-tensor) (default: ${DEFAULT-VALUE}).") TaskVector.Trim trim;
        @Option(names = "--out", required = true, paramLabel = "EDITS.json") Path out;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            Path dir = modelOptions.modelDir();
            try (LoadedModel m = LoadedModel.open(dir, runtimeOptions.computeDevice())) {
                List<TaskVector> taus = new ArrayList<>();
                for (Path v : vectors) {
                    taus.add(ofEdits(v, m));
                }
                write(TaskVector.ties(taus, keep, lambda, trim), "TIES of " + vectors + " (keep " + keep + " "
                        + trim.name().toLowerCase(Locale.ROOT).replace('_', '-') + ", λ " + lambda + ")", dir, out, spec);
            }
            return 0;
        }
    }

    @Command(name = "lora", mixinStandardHelpOptions = true,
            description = "Turn a task vector (an edits file's update, or fine-tuned − base) into a rank-r PEFT LoRA adapter by truncated SVD, reporting the error per matrix.")
    static final class Lora implements Callable<Integer> {
        @Mixin ModelOptions modelOptions;
        @Mixin RuntimeOptions runtimeOptions;
        @Mixin TaskVectorSource source;
        @Option(names = "--rank", defaultValue = "8", description = "LoRA rank (default: ${DEFAULT-VALUE}).") int rank;
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "PEFT adapter folder to write.") Path out;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            var print = spec.commandLine().getOut();
            try (LoadedModel m = LoadedModel.open(modelOptions.modelDir(), runtimeOptions.computeDevice())) {
                var result = dev.scalpel.engine.edit.LoraExtraction.extract(source.load(m), rank);
                try {
                    result.relativeError().forEach((w, e) -> print.printf(Locale.ROOT, "  %-45s rank %d: relative error %.4f%n", w, rank, e));
                    dev.scalpel.engine.export.PeftAdapterExporter.write(m, result.edit(), out);
                    print.println("wrote PEFT adapter " + out);
                } finally {
                    result.edit().close();
                }
            }
            return 0;
        }
    }

    @Command(name = "steer", mixinStandardHelpOptions = true,
            description = "A steering vector from contrastive prompt pairs (line i of --positive vs line i of --negative), "
                    + "written as a llama.cpp control-vector GGUF; use it with generate --steer.")
    static final class Steer implements Callable<Integer> {
        @Mixin ModelOptions modelOptions;
        @Mixin RuntimeOptions runtimeOptions;
        @Option(names = "--layer", required = true, description = "Block whose output (residual stream) is steered, 0-based; 1 or later (llama.cpp cannot steer block 0).") int layer;
        @Option(names = "--positive", required = true, paramLabel = "FILE", description = "One prompt per line.") Path positive;
        @Option(names = "--negative", required = true, paramLabel = "FILE", description = "One prompt per line, paired with --positive.") Path negative;
        @Option(names = "--method", defaultValue = "mean", description = "mean (difference of means, default) or pca (first principal component).") String method;
        @Option(names = "--out", required = true, paramLabel = "VECTOR.gguf") Path out;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            var m0 = switch (method) {
                case "mean" -> dev.scalpel.engine.steer.SteeringVector.Method.MEAN_DIFFERENCE;
                case "pca" -> dev.scalpel.engine.steer.SteeringVector.Method.FIRST_PRINCIPAL_COMPONENT;
                default -> throw new ScalpelException("--method takes mean or pca, not '" + method + "'.");
            };
            try (LoadedModel m = LoadedModel.open(modelOptions.modelDir(), runtimeOptions.computeDevice())) {
                dev.scalpel.engine.steer.GgufControlVector.requireSteerable(layer, m.config().numLayers());  // before the work
                var vector = dev.scalpel.engine.steer.SteeringVector.extract(m.model(), prompts(m, positive), prompts(m, negative), layer, m0);
                dev.scalpel.engine.steer.GgufControlVector.write(out, vector, m.config().architecture().modelType(), m.config().numLayers(),
                        List.of(modelOptions.modelDir()));
                double norm = 0;
                for (float f : vector.direction()) {
                    norm += f * f;
                }
                spec.commandLine().getOut().printf(Locale.ROOT, "steering vector at layer %d (direction.%d), norm %.4f → %s%n",
                        layer, layer, Math.sqrt(norm), out);
            }
            return 0;
        }

        private static List<long[]> prompts(LoadedModel m, Path file) {
            return TextFiles.readUtf8(file).lines().filter(l -> !l.isBlank()).map(l -> m.tokenizer().encodePrompt(l)).toList();
        }
    }

    @Command(name = "prune", mixinStandardHelpOptions = true,
            description = "Remove heads while keeping tensor shapes (their q/k/v rows and o columns zeroed), showing the per-language cost first.")
    static final class Prune implements Callable<Integer> {
        @Mixin ModelOptions modelOptions;
        @Mixin RuntimeOptions runtimeOptions;
        @Mixin DataOptions dataOptions;
        @Option(names = "--heads", required = true, description = "Heads to prune, e.g. L5H*,L4H2.") String heads;
        @Option(names = "--out", required = true, paramLabel = "EDITS.json") Path out;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            var print = spec.commandLine().getOut();
            Path dir = modelOptions.modelDir();
            try (LoadedModel m = LoadedModel.open(dir, runtimeOptions.computeDevice())) {
                HeadSet set = HeadSet.parse(heads, m.config().headGrid());
                var evaluator = new CrossEntropyEvaluator(m.model(), Math.min(256, m.config().maxPositions()), 4);
                try (HeadGates gates = HeadGates.ones(m.config(), m.model().device())) {
                    set.heads().forEach(h -> gates.set(h, 0));
                    print.println("cost of pruning " + set + " (CE before → after):");
                    dataOptions.texts(dir).forEach((name, text) -> {
                        long[] ids = m.tokenizer().encode(text);
                        Integer bos = m.tokenizer().bosForPrompts();
                        print.printf(Locale.ROOT, "  %-8s %.4f → %.4f%n", name, evaluator.evaluate(name, ids, bos, null).ce(),
                                evaluator.evaluate(name, ids, bos, gates).ce());
                    });
                }
                write(TaskVector.pruning(m.model(), set), "pruning of " + set, dir, out, spec);
            }
            return 0;
        }
    }
}
