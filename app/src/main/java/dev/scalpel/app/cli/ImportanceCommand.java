package dev.scalpel.app.cli;

import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ProgressListener;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.components.ComponentInspector;
import dev.scalpel.engine.components.ModuleNames;
import dev.scalpel.engine.components.RankOneDecomposition;
import dev.scalpel.engine.components.SpdImport;
import dev.scalpel.engine.importance.ComponentImportance;
import dev.scalpel.engine.importance.ComponentImportance.ComponentScore;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.importance.ImportanceCache;
import dev.scalpel.engine.importance.ImportanceMapFile;
import dev.scalpel.engine.importance.ImportanceMaps;
import dev.scalpel.engine.importance.Normalization;
import dev.scalpel.engine.importance.TextHeatmap;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
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

    @Option(names = "--method", defaultValue = "gradient", paramLabel = "METHOD",
            description = "gradient (default), ablation-zero, ablation-mean, attention-entropy or activation-norm.")
    String method;

    @Option(names = "--contrast", paramLabel = "A-B", description = "Also the contrast map A − B of two --data names, e.g. de-en.")
    String contrast;

    @Option(names = "--normalize", defaultValue = "raw", paramLabel = "NORM",
            description = "How maps are shown and contrasted: raw (default), layer-z (per-layer z-score) or rank.")
    String normalize;

    @Option(names = "--components", paramLabel = "MODULES",
            description = "Also score the top-k SVD rank-1 components of these matrices (glob, e.g. layers.*.self_attn.v_proj).")
    String components;

    @Option(names = "--spd", paramLabel = "FILE",
            description = "Take the components from an SPD-style decomposition (safetensors with _components.<module>.V/.U) instead of an SVD.")
    Path spd;

    @Option(names = "--inspect", paramLabel = "MODULE#C",
            description = "Show the tokens (with context) where component C of MODULE activates most in each text, e.g. layers.0.self_attn.v_proj#6.")
    String inspect;

    @Option(names = "--rank", defaultValue = "16", paramLabel = "K", description = "Components per matrix (default: ${DEFAULT-VALUE}).")
    int rank;

    @Option(names = "--max-tokens", defaultValue = "8192", paramLabel = "N", description = "Use at most N tokens of each text (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Mixin
    WindowOptions windowOptions;

    @Option(names = "--agree-with", paramLabel = "METHOD",
            description = "Also compute the maps with METHOD and report the Spearman rank correlation with --method's maps.")
    String agreeWith;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the map (the contrast map when --contrast is given) as JSON.")
    Path out;

    @Option(names = "--no-cache", description = "Neither read nor write the map cache (~/.cache/scalpel/importance).")
    boolean noCache;

    @Option(names = "--json", description = "Machine-readable output: {maps, contrast, components, cost}.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        HeadImportance.Method m = HeadImportance.Method.parse(method);
        Normalization norm = Normalization.parse(normalize);
        var print = spec.commandLine().getOut();
        Path dir = modelOptions.modelDir();
        try (LoadedModel lm = LoadedModel.open(dir, runtimeOptions.computeDevice())) {
            int window = windowOptions.window(lm.config());
            var options = new HeadImportance.Options(window, windowOptions.batchSize());
            String[] pair = contrastPair();
            Map<String, String> texts = dataOptions.texts(dir);
            checkContrastNames(pair, texts);
            MapRun run = new MapRun(lm, new HeadImportance(lm.model(), options), ModelHash.of(dir),
                    "tokens=" + maxTokens + ",context=" + window, texts, json ? null : print);
            Map<String, ImportanceMap> maps = run.maps(m, norm);
            Map<String, long[]> tokens = run.tokens;
            Map<String, Object> costs = run.costs;
            ImportanceMap contrastMap = pair == null ? null
                    : ImportanceMaps.contrast(maps.get(pair[0]), maps.get(pair[1]), Normalization.RAW);
            List<ComponentScore> componentScores = components == null ? List.of()
                    : componentScores(lm, options, tokens, pair);
            writeOut(maps, contrastMap);
            Map<String, Double> agreement = agreeWith == null ? Map.of()
                    : agreement(maps, contrastMap, run.maps(HeadImportance.Method.parse(agreeWith), norm), pair);
            if (json) {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("maps", maps);
                result.put("contrast", contrastMap);
                result.put("components", componentScores);
                result.put("cost", costs);
                result.put("spearman_vs_" + (agreeWith == null ? "none" : agreeWith), agreement);
                print.println(Json.write(result));
                return 0;
            }
            maps.forEach((name, map) -> print.println(TextHeatmap.render(map) + "\n"));
            costs.forEach((name, c) -> print.println("cost of " + name + ": " + c));
            if (contrastMap != null) {
                print.println(TextHeatmap.render(contrastMap));
                print.println("top heads for " + pair[0] + " over " + pair[1] + ": " + ImportanceMaps.topK(contrastMap, 5));
            }
            agreement.forEach((name, rho) -> print.printf(Locale.ROOT, "Spearman rank correlation of %s vs %s on %s: %+.3f%n",
                    method, agreeWith, name, rho));
            printComponents(componentScores, pair, print);
            if (inspect != null) {
                printInspection(lm, tokens, window, print);
            }
        }
        return 0;
    }

    /**
     * Computes (or takes from the cache) one map per text for a method. Keeps the token ids and the costs of what it
     * computed.
     */
    private final class MapRun {
        final LoadedModel lm;
        final HeadImportance importance;
        final String modelHash;
        final String cacheKey;
        final Map<String, String> texts;
        final java.io.PrintWriter progress;
        final Map<String, long[]> tokens = new LinkedHashMap<>();
        final Map<String, Object> costs = new LinkedHashMap<>();
        final ImportanceCache cache = new ImportanceCache(ImportanceCache.defaultDir());

        MapRun(LoadedModel lm, HeadImportance importance, String modelHash, String cacheKey, Map<String, String> texts,
               java.io.PrintWriter progress) {
            this.lm = lm;
            this.importance = importance;
            this.modelHash = modelHash;
            this.cacheKey = cacheKey;
            this.texts = texts;
            this.progress = progress;
            texts.forEach((name, text) -> {
                long[] ids = lm.tokenizer().encode(text);
                tokens.put(name, Arrays.copyOf(ids, Math.min(ids.length, maxTokens)));
            });
        }

        Map<String, ImportanceMap> maps(HeadImportance.Method m, Normalization norm) {
            Map<String, ImportanceMap> maps = new LinkedHashMap<>();
            for (var e : texts.entrySet()) {
                String name = e.getKey();
                String dataHash = ModelHash.ofText(name + "\n" + e.getValue());
                var cached = noCache ? java.util.Optional.<ImportanceMap>empty() : cache.get(modelHash, dataHash, m.cliName(), cacheKey);
                ImportanceMap map = cached.orElseGet(() -> {
                    ImportanceMap computed = importance.compute(m, name, tokens.get(name), lm.tokenizer().bosForPrompts(),
                            modelHash, dataHash, progressTo(progress));
                    costs.put(m.cliName() + " on " + name, Map.of("seconds", importance.lastCost().seconds(),
                            "forward_passes", importance.lastCost().forwardPasses()));
                    if (!noCache) {
                        cache.put(computed, cacheKey);
                    }
                    return computed;
                });
                maps.put(name, ImportanceMaps.normalize(map, norm));
            }
            return maps;
        }
    }

    /** Spearman correlation of each text's map (and of the contrast) between two methods. */
    private static Map<String, Double> agreement(Map<String, ImportanceMap> maps, ImportanceMap contrastMap,
                                                 Map<String, ImportanceMap> other, String[] pair) {
        Map<String, Double> rho = new LinkedHashMap<>();
        maps.forEach((name, map) -> rho.put(name, ImportanceMaps.spearman(map, other.get(name))));
        if (contrastMap != null) {
            rho.put(pair[0] + "-" + pair[1], ImportanceMaps.spearman(contrastMap,
                    ImportanceMaps.contrast(other.get(pair[0]), other.get(pair[1]), Normalization.RAW)));
        }
        return rho;
    }

    private String[] contrastPair() {
        if (contrast == null) {
            return null;
        }
        String[] pair = contrast.split("-", 2);
        if (pair.length != 2 || pair[0].isBlank() || pair[1].isBlank()) {
            throw new ScalpelException("--contrast takes two --data names joined by '-', e.g. de-en; got '" + contrast + "'.");
        }
        return pair;
    }

    private static void checkContrastNames(String[] pair, Map<String, String> texts) {
        if (pair == null) {
            return;
        }
        for (String name : pair) {
            if (!texts.containsKey(name)) {
                throw new ScalpelException("--contrast names '" + name + "', which is not among the texts " + texts.keySet() + ".");
            }
        }
    }

    /** Component scores on each text; with a contrast, the list is ranked by removal effect on A minus on B. */
    private List<ComponentScore> componentScores(LoadedModel lm, HeadImportance.Options options, Map<String, long[]> tokens,
                                                 String[] pair) {
        List<RankOneDecomposition> decompositions = decompositions(lm, components);
        try {
            var scorer = new ComponentImportance(lm.model(), options);
            String first = pair != null ? pair[0] : tokens.keySet().iterator().next();
            List<ComponentScore> a = scorer.compute(decompositions, first, tokens.get(first), lm.tokenizer().bosForPrompts(), ProgressListener.NONE);
            if (pair == null) {
                return a.stream().sorted(Comparator.comparingDouble(ComponentScore::ablation).reversed()).toList();
            }
            List<ComponentScore> b = scorer.compute(decompositions, pair[1], tokens.get(pair[1]), lm.tokenizer().bosForPrompts(), ProgressListener.NONE);
            List<ComponentScore> diff = new ArrayList<>();
            for (int i = 0; i < a.size(); i++) {
                ComponentScore x = a.get(i), y = b.get(i);
                diff.add(new ComponentScore(x.module(), x.index(), x.singularValue(), x.gradient() - y.gradient(), x.ablation() - y.ablation()));
            }
            diff.sort(Comparator.comparingDouble(ComponentScore::ablation).reversed());
            return diff;
        } finally {
            decompositions.forEach(RankOneDecomposition::close);
        }
    }

    /** SVD (top --rank) or SPD components of the modules matching {@code glob}. */
    private List<RankOneDecomposition> decompositions(LoadedModel lm, String glob) {
        List<String> modules = ModuleNames.matching(lm.model().weights(), glob);
        if (spd == null) {
            List<RankOneDecomposition> out = new ArrayList<>();
            for (String module : modules) {
                out.add(RankOneDecomposition.svd(module, lm.model().weights().get(module + ".weight"), rank));
            }
            return out;
        }
        SpdImport.Result imported = SpdImport.read(spd, lm.model());
        List<RankOneDecomposition> kept = new ArrayList<>();
        for (RankOneDecomposition d : imported.decompositions()) {
            if (modules.contains(d.module())) {
                kept.add(d);
                if (!json) {
                    spec.commandLine().getOut().printf(Locale.ROOT, "SPD %s: %d components, relative residual ‖W − ΣC‖/‖W‖ = %.4f%n",
                            d.module(), d.size(), imported.relativeResidual().get(d.module()));
                }
            } else {
                d.close();
            }
        }
        if (kept.isEmpty()) {
            throw new ScalpelException(spd + " has no components for the modules matching '" + glob + "'.");
        }
        return kept;
    }

    /** The top-activating tokens of one component in each text. */
    private void printInspection(LoadedModel lm, Map<String, long[]> tokens, int window, java.io.PrintWriter print) {
        String[] parts = inspect.split("#");
        if (parts.length != 2 || !parts[1].matches("\\d+")) {
            throw new ScalpelException("--inspect takes MODULE#C, e.g. layers.0.self_attn.v_proj#6; got '" + inspect + "'.");
        }
        int c = Integer.parseInt(parts[1]);
        String module = ModuleNames.matching(lm.model().weights(), parts[0]).get(0);
        List<RankOneDecomposition> ds = spd == null
                ? List.of(RankOneDecomposition.svd(module, lm.model().weights().get(module + ".weight"), Math.max(rank, c + 1)))
                : decompositions(lm, module);
        try {
            RankOneDecomposition d = ds.get(0);
            if (c >= d.size()) {
                throw new ScalpelException(d.module() + " has " + d.size() + " components; component " + c + " does not exist.");
            }
            print.printf("%ncomponent %s #%d: top activations (token ← preceding context)%n", d.module(), c);
            for (var e : tokens.entrySet()) {
                print.println("  " + e.getKey() + ":");
                for (var a : ComponentInspector.top(lm.model(), d, c, e.getValue(), lm.tokenizer().bosForPrompts(), window, 6, 8)) {
                    print.printf(Locale.ROOT, "    %+8.3f  %-14s ← %s%n", a.value(), quote(lm.tokenizer().decode(new long[] {a.token()})),
                            quote(lm.tokenizer().decode(a.context())));
                }
            }
        } finally {
            ds.forEach(RankOneDecomposition::close);
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
        scores.stream().limit(20).forEach(s -> print.printf(Locale.ROOT, "%-40s %4d %9.3f %+12.5f %+12.5f%n",
                s.module(), s.index(), s.singularValue(), s.ablation(), s.gradient()));
    }

    private void writeOut(Map<String, ImportanceMap> maps, ImportanceMap contrastMap) {
        if (out == null) {
            return;
        }
        if (contrastMap != null) {
            ImportanceMapFile.write(contrastMap, out, List.of(modelOptions.modelDir()));
        } else if (maps.size() == 1) {
            ImportanceMapFile.write(maps.values().iterator().next(), out, List.of(modelOptions.modelDir()));
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
