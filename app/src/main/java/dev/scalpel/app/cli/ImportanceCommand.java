package dev.scalpel.app.cli;

import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ProgressListener;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.components.ComponentInspector;
import dev.scalpel.engine.components.Decompositions;
import dev.scalpel.engine.components.ModuleNames;
import dev.scalpel.engine.decompose.DecompositionFile;
import dev.scalpel.engine.decompose.DecompositionQuality;
import dev.scalpel.engine.decompose.ModuleDecomposition;
import dev.scalpel.engine.decompose.SubcomponentRanking;
import dev.scalpel.engine.components.RankOneDecomposition;
import dev.scalpel.engine.importance.ComponentImportance;
import dev.scalpel.engine.importance.ComponentImportance.ComponentScore;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.importance.ImportanceCache;
import dev.scalpel.engine.importance.ImportanceMapFile;
import dev.scalpel.engine.importance.ImportanceMaps;
import dev.scalpel.engine.importance.Normalization;
import dev.scalpel.engine.importance.TextHeatmap;
import dev.scalpel.engine.model.LayerType;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.spec.ComponentsSpec;
import dev.scalpel.engine.spec.ImportanceSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code scalpel importance}: layer × head maps per domain, contrast maps, and rank-1 component scores. */
@Command(name = "importance", mixinStandardHelpOptions = true,
        description = "Which heads (and rank-1 components) carry a language or domain: layer × head maps per text, "
                + "contrast maps (A-B), component scores.")
final class ImportanceCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Mixin
    RuntimeOptions runtimeOptions;

    @Mixin
    DataOptions dataOptions;

    @Option(names = "--method", paramLabel = "METHOD",
            description = "gradient (default), ablation-zero, ablation-mean, attention-entropy or activation-norm.")
    String method;

    @Option(names = "--contrast", paramLabel = "A-B", description = "Also the contrast map A − B of two --data names, e.g. de-en.")
    String contrast;

    @Option(names = "--normalize", paramLabel = "NORM",
            description = "How each text's map is shown and written: raw (default), layer-z (per-layer z-score) or rank.")
    String normalize;

    @Option(names = "--contrast-normalize", paramLabel = "NORM",
            description = "How the two maps of a contrast are normalised before B is subtracted: layer-z (default), raw or rank.")
    String contrastNormalize;

    @Option(names = "--components", paramLabel = "MODULES",
            description = "Also score the rank-1 components of these matrices (glob, e.g. layers.*.self_attn.v_proj).")
    String components;

    @Option(names = "--spd", paramLabel = "FILE",
            description = "Take the components from a decomposition (scalpel decompose, or SPD: safetensors with "
                    + "_components.<module>.V/.U) instead of an SVD.")
    Path spd;

    @Option(names = "--inspect", paramLabel = "MODULE#C",
            description = "Show the tokens (with context) where component C of MODULE activates most in each text, e.g. layers.0.self_attn.v_proj#6.")
    String inspect;

    @Option(names = "--rank", paramLabel = "K", description = "SVD components per matrix (default: 16).")
    Integer rank;

    @Option(names = "--max-tokens", paramLabel = "N", description = "Use at most N tokens of each text (default: 8192).")
    Integer maxTokens;

    @Option(names = "--context", paramLabel = "N", description = "Window length (default: min(256, model context)).")
    Integer context;

    @Option(names = "--batch-size", paramLabel = "N", description = "Windows per forward pass (default: 4).")
    Integer batchSize;

    @Option(names = "--agree-with", paramLabel = "METHOD",
            description = "Also compute the maps with METHOD and report the Spearman rank correlation with --method's maps.")
    String agreeWith;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the map (the contrast map when --contrast is given) as JSON.")
    Path out;

    @Option(names = "--cache", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Read and write the map cache (~/.cache/scalpel/importance); --no-cache for neither.")
    boolean cache;

    @Option(names = "--json", description = "Machine-readable output: {maps, contrast, components, cost}.")
    boolean json;

    @Spec
    CommandSpec spec;

    /** Rows of the component tables. */
    private static final int TOP = 20;

    /** The flags as the engine's spec. */
    ImportanceSpec importanceSpec() {
        return new ImportanceSpec(method == null ? null : HeadImportance.Method.parse(method),
                agreeWith == null ? null : HeadImportance.Method.parse(agreeWith), contrast,
                normalize == null ? null : Normalization.parse(normalize),
                contrastNormalize == null ? null : Normalization.parse(contrastNormalize), maxTokens, context, batchSize,
                out == null ? null : out.toString(), cache);
    }

    /** The component flags as the engine's spec, or null when none was given. */
    ComponentsSpec componentsSpec() {
        if (components == null && inspect == null) {
            if (spd != null || rank != null) {
                throw new ScalpelException("--spd and --rank choose components; say which matrices with --components (or --inspect).");
            }
            return null;
        }
        String modules = components != null ? components : inspect.split("#", 2)[0];
        return new ComponentsSpec(modules, rank, spd == null ? null : spd.toString(), inspect);
    }

    @Override
    public Integer call() {
        ImportanceSpec is = importanceSpec();
        ComponentsSpec cs = componentsSpec();
        var print = spec.commandLine().getOut();
        Path dir = modelOptions.modelDir();
        try (LoadedModel lm = LoadedModel.open(dir, runtimeOptions.computeDevice())) {
            int positions = lm.config().maxPositions();
            var options = is.options(positions);
            String[] pair = is.contrastPair();
            Map<String, String> texts = dataOptions.texts(dir);
            is.checkTexts(texts.keySet());
            MapRun run = new MapRun(lm, new HeadImportance(lm.model(), options), ModelHash.of(dir), is, positions, texts,
                    json ? null : print);
            Map<String, ImportanceMap> maps = run.maps(is.method());
            Map<String, long[]> tokens = run.tokens;
            Map<String, Object> costs = run.costs;
            ImportanceMap contrastMap = pair == null ? null : contrastOf(maps, pair, is);
            List<ComponentScore> componentScores = cs == null || components == null ? List.of()
                    : componentScores(lm, cs, options, tokens, pair, print);
            List<SubcomponentRanking.Ranked> specific = cs == null || cs.spd() == null || components == null ? List.of()
                    : bySpecificity(lm, cs, options.context(), tokens, pair);
            writeOut(is, maps, contrastMap);
            Map<String, Double> agreement = is.agreeWith() == null ? Map.of()
                    : agreement(maps, contrastMap, run.maps(is.agreeWith()), pair, is);
            if (json) {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("maps", displayed(maps, is));
                result.put("contrast", contrastMap);
                result.put("components", componentScores);
                result.put("causal_importance", specific.subList(0, Math.min(TOP, specific.size())));
                result.put("cost", costs);
                result.put("spearman_vs_" + (is.agreeWith() == null ? "none" : is.agreeWith().cliName()), agreement);
                print.println(Json.write(result));
                return 0;
            }
            List<LayerType> layerTypes = lm.config().layerTypes();
            displayed(maps, is).forEach((name, map) -> print.println(TextHeatmap.render(map, layerTypes) + "\n"));
            costs.forEach((name, c) -> print.println("cost of " + name + ": " + c));
            if (contrastMap != null) {
                print.println(TextHeatmap.render(contrastMap, layerTypes));
                print.println("top heads for " + pair[0] + " over " + pair[1] + ": " + ImportanceMaps.topK(contrastMap, 5));
            }
            agreement.forEach((name, rho) -> print.printf(Locale.ROOT, "Spearman rank correlation of %s vs %s on %s: %+.3f%n",
                    is.method().cliName(), is.agreeWith().cliName(), name, rho));
            printComponents(componentScores, pair, print);
            printSpecificity(specific, pair == null ? tokens.keySet().iterator().next() : pair[0], print);
            if (cs != null && cs.inspect() != null) {
                printInspection(lm, cs, tokens, options.context(), print);
            }
        }
        return 0;
    }

    /** Each text's map as {@code normalize} says. */
    private static Map<String, ImportanceMap> displayed(Map<String, ImportanceMap> maps, ImportanceSpec is) {
        Map<String, ImportanceMap> shown = new LinkedHashMap<>();
        maps.forEach((name, map) -> shown.put(name, ImportanceMaps.normalize(map, is.normalize())));
        return shown;
    }

    private static ImportanceMap contrastOf(Map<String, ImportanceMap> maps, String[] pair, ImportanceSpec is) {
        return ImportanceMaps.contrast(ImportanceMaps.normalize(maps.get(pair[0]), is.contrastNormalize()),
                ImportanceMaps.normalize(maps.get(pair[1]), is.contrastNormalize()), Normalization.RAW);
    }

    /**
     * Computes (or takes from the cache) one raw map per text for a method. Keeps the token ids and the costs of what
     * it computed.
     */
    private static final class MapRun {
        final LoadedModel lm;
        final HeadImportance importance;
        final String modelHash;
        final ImportanceSpec spec;
        final String cacheKey;
        final Map<String, String> texts;
        final java.io.PrintWriter progress;
        final Map<String, long[]> tokens = new LinkedHashMap<>();
        final Map<String, Object> costs = new LinkedHashMap<>();
        final ImportanceCache cache = new ImportanceCache(ImportanceCache.defaultDir());

        MapRun(LoadedModel lm, HeadImportance importance, String modelHash, ImportanceSpec spec, int positions,
               Map<String, String> texts, java.io.PrintWriter progress) {
            this.lm = lm;
            this.importance = importance;
            this.modelHash = modelHash;
            this.spec = spec;
            this.cacheKey = spec.cacheKey(positions);
            this.texts = texts;
            this.progress = progress;
            texts.forEach((name, text) -> {
                long[] ids = lm.tokenizer().encode(text);
                tokens.put(name, Arrays.copyOf(ids, Math.min(ids.length, spec.maxTokens())));
            });
        }

        Map<String, ImportanceMap> maps(HeadImportance.Method m) {
            Map<String, ImportanceMap> maps = new LinkedHashMap<>();
            for (var e : texts.entrySet()) {
                String name = e.getKey();
                String dataHash = ModelHash.ofText(name + "\n" + e.getValue());
                var cached = spec.cache() ? cache.get(modelHash, dataHash, m.cliName(), cacheKey) : java.util.Optional.<ImportanceMap>empty();
                ImportanceMap map = cached.orElseGet(() -> {
                    ImportanceMap computed = importance.compute(m, name, tokens.get(name), lm.tokenizer().bosForPrompts(),
                            modelHash, dataHash, progressTo(progress));
                    costs.put(m.cliName() + " on " + name, Map.of("seconds", importance.lastCost().seconds(),
                            "forward_passes", importance.lastCost().forwardPasses()));
                    if (spec.cache()) {
                        cache.put(computed, cacheKey);
                    }
                    return computed;
                });
                maps.put(name, map);
            }
            return maps;
        }
    }

    /** Spearman correlation of each text's map (and of the contrast) between two methods. */
    private static Map<String, Double> agreement(Map<String, ImportanceMap> maps, ImportanceMap contrastMap,
                                                 Map<String, ImportanceMap> other, String[] pair, ImportanceSpec is) {
        Map<String, Double> rho = new LinkedHashMap<>();
        maps.forEach((name, map) -> rho.put(name, ImportanceMaps.spearman(map, other.get(name))));
        if (contrastMap != null) {
            rho.put(pair[0] + "-" + pair[1], ImportanceMaps.spearman(contrastMap, contrastOf(other, pair, is)));
        }
        return rho;
    }

    /** Component scores on each text; with a contrast, the list is ranked by removal effect on A minus on B. */
    private List<ComponentScore> componentScores(LoadedModel lm, ComponentsSpec cs, HeadImportance.Options options,
                                                 Map<String, long[]> tokens, String[] pair, java.io.PrintWriter print) {
        try (Decompositions found = cs.decompositions(lm.model())) {
            if (!json) {
                found.relativeResidual().forEach((module, residual) -> print.printf(Locale.ROOT,
                        "decomposition %s: %d components, relative residual ‖W − ΣC‖/‖W‖ = %.4f%n", module,
                        found.decompositions().stream().filter(d -> d.module().equals(module)).findFirst().orElseThrow().size(), residual));
            }
            var scorer = new ComponentImportance(lm.model(), options);
            String first = pair != null ? pair[0] : tokens.keySet().iterator().next();
            Integer bos = lm.tokenizer().bosForPrompts();
            List<ComponentScore> a = scorer.compute(found.decompositions(), first, tokens.get(first), bos, ProgressListener.NONE);
            if (pair == null) {
                return a.stream().sorted(Comparator.comparingDouble(ComponentScore::ablation).reversed()).toList();
            }
            List<ComponentScore> b = scorer.compute(found.decompositions(), pair[1], tokens.get(pair[1]), bos, ProgressListener.NONE);
            List<ComponentScore> diff = new ArrayList<>();
            for (int i = 0; i < a.size(); i++) {
                ComponentScore x = a.get(i), y = b.get(i);
                diff.add(new ComponentScore(x.module(), x.index(), x.singularValue(), x.gradient() - y.gradient(), x.ablation() - y.ablation()));
            }
            diff.sort(Comparator.comparingDouble(ComponentScore::ablation).reversed());
            return diff;
        }
    }

    /**
     * With a decomposition that has causal-importance functions: its subcomponents ranked by mean causal importance on
     * the contrast's first text (else the first text) minus the largest on any other; empty for components only.
     */
    private static List<SubcomponentRanking.Ranked> bySpecificity(LoadedModel lm, ComponentsSpec cs, int window,
                                                                  Map<String, long[]> tokens, String[] pair) {
        String target = pair == null ? tokens.keySet().iterator().next() : pair[0];
        if (!DecompositionFile.hasImportanceFunctions(spdPath(cs))) {
            return List.of();
        }
        try (DecompositionFile.Loaded loaded = DecompositionFile.read(spdPath(cs), lm.model())) {
            List<String> matched = ModuleNames.matching(lm.model().weights(), cs.components());
            List<ModuleDecomposition> chosen = loaded.modules().stream().filter(d -> matched.contains(d.module())).toList();
            var report = DecompositionQuality.measure(lm.model(), chosen, tokens, lm.tokenizer().bosForPrompts(), window, 4);
            return SubcomponentRanking.bySpecificity(report, target);
        }
    }

    private static void printSpecificity(List<SubcomponentRanking.Ranked> ranked, String target, java.io.PrintWriter print) {
        if (ranked.isEmpty()) {
            return;
        }
        List<String> texts = List.copyOf(ranked.get(0).meanImportance().keySet());
        print.printf("%nsubcomponents by mean causal importance on %s minus the largest on any other text:%n%-40s %4s %11s", target,
                "module", "c", "specificity");
        texts.forEach(t -> print.printf(" %7s", "CI " + t));
        print.println();
        for (var r : ranked.subList(0, Math.min(TOP, ranked.size()))) {
            print.printf(Locale.ROOT, "%-40s %4d %+11.4f", r.module(), r.index(), r.specificity());
            texts.forEach(t -> print.printf(Locale.ROOT, " %7.4f", r.meanImportance().get(t)));
            print.println();
        }
    }

    private static Path spdPath(ComponentsSpec cs) {
        return cs.spd() == null ? null : Path.of(cs.spd());
    }

    /** The top-activating tokens of one component in each text. */
    private void printInspection(LoadedModel lm, ComponentsSpec cs, Map<String, long[]> tokens, int window, java.io.PrintWriter print) {
        ComponentsSpec.Inspected which = cs.inspected();
        try (Decompositions found = Decompositions.forComponent(lm.model(), which.module(), which.index(), cs.rank(), spdPath(cs))) {
            RankOneDecomposition d = found.single();
            print.printf("%ncomponent %s #%d: top activations (token ← preceding context)%n", d.module(), which.index());
            for (var e : tokens.entrySet()) {
                print.println("  " + e.getKey() + ":");
                for (var a : ComponentInspector.top(lm.model(), d, which.index(), e.getValue(), lm.tokenizer().bosForPrompts(), window, 6, 8)) {
                    print.printf(Locale.ROOT, "    %+8.3f  %-14s ← %s%n", a.value(), quote(lm.tokenizer().decode(new long[] {a.token()})),
                            quote(lm.tokenizer().decode(a.context())));
                }
            }
        }
    }

    private static String quote(String s) {
        return "'" + s.replace("\n", "⏎") + "'";
    }

    private void printComponents(List<ComponentScore> scores, String[] pair, java.io.PrintWriter print) {
        if (scores.isEmpty()) {
            return;
        }
        String what = pair != null ? " (" + pair[0] + " minus " + pair[1] + ")" : "";
        print.printf("%nrank-1 components ranked by removal ΔCE%s:%n%-40s %4s %9s %12s %12s%n", what, "module", "c", "sigma",
                "dCE removed", "dCE/ds at 1");
        scores.stream().limit(TOP).forEach(s -> print.printf(Locale.ROOT, "%-40s %4d %9.3f %+12.5f %+12.5f%n",
                s.module(), s.index(), s.singularValue(), s.ablation(), s.gradient()));
    }

    private void writeOut(ImportanceSpec is, Map<String, ImportanceMap> maps, ImportanceMap contrastMap) {
        if (is.out() == null) {
            return;
        }
        Path file = Path.of(is.out());
        if (contrastMap != null) {
            ImportanceMapFile.write(contrastMap, file, List.of(modelOptions.modelDir()));
        } else if (maps.size() == 1) {
            ImportanceMapFile.write(ImportanceMaps.normalize(maps.values().iterator().next(), is.normalize()), file,
                    List.of(modelOptions.modelDir()));
        } else {
            throw new ScalpelException("--out writes one map: give one --data, or --contrast A-B for the contrast map.");
        }
    }

    private static ProgressListener progressTo(java.io.PrintWriter print) {
        if (print == null) {
            return ProgressListener.NONE;
        }
        return (fraction, message) -> {
            if (fraction >= 1.0) {
                print.println("  " + message);
            }
        };
    }
}
