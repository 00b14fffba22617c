package dev.scalpel.app.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.export.MergedCheckpointExporter;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.groups.HeadGroup;
import dev.scalpel.engine.groups.HeadGroupRegistry;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.model.ModelLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code scalpel heads}: head groups as loadable modules — extract, apply, swap, list. */
@Command(name = "heads", mixinStandardHelpOptions = true, description = "Head groups: extract, apply, swap, list.",
        subcommands = {HeadsCommand.Extract.class, HeadsCommand.Apply.class, HeadsCommand.Swap.class, HeadsCommand.ListGroups.class})
final class HeadsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "extract", mixinStandardHelpOptions = true,
            description = "Save the weights of some heads (of the model with --edits merged) as a head-group file.")
    static final class Extract implements Callable<Integer> {
        @Mixin ModelOptions modelOptions;
        @Mixin RuntimeOptions runtimeOptions;
        @Mixin EditsOptions editsOptions;
        @Option(names = "--heads", required = true, description = "Heads, e.g. L1H1,L2H*.") String heads;
        @Option(names = "--name", required = true, description = "Group name, e.g. code/rust.") String name;
        @Option(names = "--out", required = true, paramLabel = "GROUP.json", description = "Where to write the group (+ .safetensors).") Path out;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            Path dir = modelOptions.modelDir();
            OutputGuard.files(OutputKind.HEAD_GROUP, List.of(dir), out);   // refuse a bad --out before loading
            try (LoadedModel m = LoadedModel.open(dir, runtimeOptions.computeDevice())) {
                HeadSet set = HeadSet.parse(heads, m.config().headGrid());
                List<Edit> edits = editsOptions.load(m);
                HeadGroup group;
                try {
                    group = HeadGroup.extract(m.model(), ModelHash.of(dir), name, set, edits,
                            Map.of("model", dir.toString(), "edits", editsOptions.edits == null ? "none" : editsOptions.edits.toString()));
                } finally {
                    edits.forEach(Edit::close);
                }
                group.write(out, List.of(dir));
                group.close();
                spec.commandLine().getOut().println("wrote head group '" + name + "' (" + set + ") to " + out);
            }
            return 0;
        }
    }

    @Command(name = "apply", mixinStandardHelpOptions = true,
            description = "Apply head groups to the model (in memory), then evaluate it and/or export it as an HF folder.")
    static final class Apply implements Callable<Integer> {
        @Mixin ModelOptions modelOptions;
        @Mixin RuntimeOptions runtimeOptions;
        @Option(names = "--group", required = true, paramLabel = "GROUP.json", description = "A head group; repeat to apply several in order.") List<Path> groups;
        @Option(names = "--on-conflict", defaultValue = "cancel", description = "cancel (default), replace or keep.") String onConflict;
        @Option(names = "--out", paramLabel = "DIR", description = "Export the model with the groups applied as an HF folder.") Path out;
        @Mixin DataOptions dataOptions;
        @Option(names = "--no-eval", description = "Skip evaluating the result.") boolean noEval;
        @Spec CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            var print = spec.commandLine().getOut();
            HeadGroupRegistry.OnConflict policy = switch (onConflict) {
                case "cancel" -> HeadGroupRegistry.OnConflict.CANCEL;
                case "replace" -> HeadGroupRegistry.OnConflict.REPLACE;
                case "keep" -> HeadGroupRegistry.OnConflict.KEEP;
                default -> throw new ScalpelException("--on-conflict takes cancel, replace or keep, not '" + onConflict + "'.");
            };
            Path dir = modelOptions.modelDir();
            try (LoadedModel m = LoadedModel.open(dir, runtimeOptions.computeDevice())) {
                HeadGroupRegistry registry = new HeadGroupRegistry(m.model());
                for (Path file : groups) {
                    HeadGroup g = HeadGroup.read(file, m.model().device());
                    try {
                        print.println("applied '" + g.name() + "': " + registry.apply(g, policy));
                    } finally {
                        g.close();
                    }
                }
                if (out != null) {
                    MergedCheckpointExporter.write(m, List.of(), out, null);
                    print.println("wrote " + out);
                }
                if (!noEval) {
                    var evaluator = new dev.scalpel.engine.eval.CrossEntropyEvaluator(m.model(), Math.min(256, m.config().maxPositions()), 4);
                    dataOptions.texts(dir).forEach((name, text) -> print.printf(Locale.ROOT, "%-8s CE %.4f%n", name,
                            evaluator.evaluate(name, m.tokenizer().encode(text), m.tokenizer().bosForPrompts(), null).ce()));
                }
            }
            return 0;
        }
    }

    @Command(name = "swap", mixinStandardHelpOptions = true,
            description = "Time swapping group A out and B in (and back) against reloading the model; checks A→B→A is bit-identical.")
    static final class Swap implements Callable<Integer> {
        @Mixin ModelOptions modelOptions;
        @Mixin RuntimeOptions runtimeOptions;
        @Option(names = "--group", required = true, paramLabel = "GROUP.json", description = "Give it twice: head groups A and B.") List<Path> groups;
        @Option(names = "--repeat", defaultValue = "50", description = "Swaps to time (default: ${DEFAULT-VALUE}).") int repeat;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            var print = spec.commandLine().getOut();
            if (groups.size() != 2) {
                throw new ScalpelException("heads swap takes exactly two --group files (A and B), got " + groups.size() + ".");
            }
            Path dir = modelOptions.modelDir();
            var device = runtimeOptions.computeDevice();
            long t0 = System.nanoTime();
            try (CausalLM reload = ModelLoader.load(dir, device)) {
                double reloadMs = (System.nanoTime() - t0) / 1e6;
                HeadGroup a = HeadGroup.read(groups.get(0), device);
                HeadGroup b = HeadGroup.read(groups.get(1), device);
                try (HeadGroupRegistry registry = new HeadGroupRegistry(reload)) {
                    Map<String, float[]> before = weightValues(reload);
                    registry.apply(a, HeadGroupRegistry.OnConflict.CANCEL);
                    long s0 = System.nanoTime();
                    for (int i = 0; i < repeat; i++) {
                        registry.swapOut(i % 2 == 0 ? a.name() : b.name());
                        registry.apply(i % 2 == 0 ? b : a, HeadGroupRegistry.OnConflict.CANCEL);
                    }
                    double swapMs = (System.nanoTime() - s0) / 1e6 / repeat;
                    registry.swapOut(registry.loaded().keySet().iterator().next());
                    Map<String, float[]> after = weightValues(reload);
                    boolean identical = before.keySet().stream().allMatch(k -> Arrays.equals(before.get(k), after.get(k)));
                    print.printf(Locale.ROOT, "swap (one group out, the other in): %.3f ms; reload of the model: %.1f ms (%.0f× slower)%n",
                            swapMs, reloadMs, reloadMs / swapMs);
                    print.printf("heads per group: %d and %d; weights after %d swaps and swapping out: %s%n", a.heads().size(),
                            b.heads().size(), repeat, identical ? "bit-identical to the base" : "DIFFERENT");
                    return identical ? 0 : 2;
                } finally {
                    a.close();
                    b.close();
                }
            }
        }

        /** Every weight's values, to compare bit for bit. */
        private static Map<String, float[]> weightValues(CausalLM model) {
            Map<String, float[]> out = new java.util.LinkedHashMap<>();
            model.weights().asMap().forEach((name, t) -> out.put(name, dev.scalpel.engine.model.Tensors.toFloats(t)));
            return out;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the head groups in a folder.")
    static final class ListGroups implements Callable<Integer> {
        @Parameters(paramLabel = "DIR", defaultValue = ".", description = "Folder to look in (default: here).") Path dir;
        @Spec CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            ObjectMapper json = new ObjectMapper();
            try (var files = Files.walk(dir, 3)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                    JsonNode m = json.readTree(f.toFile());
                    if (List.of(HeadGroup.FORMAT, HeadGroup.LEGACY_FORMAT).contains(m.path("format").asText())) {
                        spec.commandLine().getOut().printf("%-24s %-30s %-12s %s%n", m.path("name").asText(), m.path("heads").asText(),
                                ModelHash.shortHash(m.path("source_model_hash").asText()), f);
                    }
                }
            }
            return 0;
        }
    }
}
