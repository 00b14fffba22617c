package dev.scalpel.app.cli;

import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ProgressListener;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.components.ModuleNames;
import dev.scalpel.engine.components.RankOneDecomposition;
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

    @Option(names = "--rank", defaultValue = "16", paramLabel = "K", description = "Components per matrix (default: ${DEFAULT-VALUE}).")
    int rank;

    @Option(names = "--max-tokens", defaultValue = "8192", paramLabel = "N", description = "Use at most N tokens of each text (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--context", paramLabel = "N", description = "Window length (default: min(256, model context)).")
    Integer context;

    @Option(names = "--batch-size", defaultValue = "4", paramLabel = "N", description = "Windows per pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the map (the contrast map when --contrast is given) as JSON.")
    Path out;

    @Option(names = "--no-cache", description = "Recompute maps even when the cache has them.")
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
            int window = context != null ? context : Math.min(256, lm.config().maxPositions());
            var options = new HeadImportance.Options(window, batchSize);
            String[] pair = contrastPair(lm);
            Map<String, String> texts = dataOptions.texts(dir);
            checkContrastNames(pair, texts);
            String modelHash = ModelHash.of(dir);
            String cacheKey = "tokens=" + maxTokens + ",context=" + window;
            ImportanceCache cache = new ImportanceCache(ImportanceCache.defaultDir());
            var importance = new HeadImportance(lm.model(), options);
            Map<String, ImportanceMap> maps = new LinkedHashMap<>();
            Map<String, long[]> tokens = new LinkedHashMap<>();
            Map<String, Object> costs = new LinkedHashMap<>();
            for (var e : texts.entrySet()) {
                long[] ids = lm.tokenizer().encode(e.getValue());
                ids = Arrays.copyOf(ids, Math.min(ids.length, maxTokens));
                tokens.put(e.getKey(), ids);
                String dataHash = ModelHash.ofText(e.getKey() + "\n" + e.getValue());
                var cached = noCache ? java.util.Optional.<ImportanceMap>empty() : cache.get(modelHash, dataHash, m.cliName(), cacheKey);
                ImportanceMap map = cached.orElseGet(() -> {
                    ImportanceMap computed = importance.compute(m, e.getKey(), tokens.get(e.getKey()), lm.tokenizer().bosForPrompts(),
                            modelHash, dataHash, progressTo(json ? null : print));
                    costs.put(e.getKey(), Map.of("seconds", importance.lastCost().seconds(),
                            "forward_passes", importance.lastCost().forwardPasses()));
                    cache.put(computed, cacheKey);
                    return computed;
                });
                maps.put(e.getKey(), ImportanceMaps.normalize(map, norm));
            }
            ImportanceMap contrastMap = pair == null ? null
                    : ImportanceMaps.contrast(maps.get(pair[0]), maps.get(pair[1]), Normalization.RAW);
            List<ComponentScore> componentScores = components == null ? List.of()
                    : componentScores(lm, options, tokens, pair);
            writeOut(maps, contrastMap);
            if (json) {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("maps", maps);
                result.put("contrast", contrastMap);
                result.put("components", componentScores);
                result.put("cost", costs);
                print.println(Json.write(result));
                return 0;
            }
            maps.forEach((name, map) -> print.println(TextHeatmap.render(map) + "\n"));
            costs.forEach((name, c) -> print.println("cost on " + name + ": " + c));
            if (contrastMap != null) {
                print.println(TextHeatmap.render(contrastMap));
                print.println("top heads for " + pair[0] + " over " + pair[1] + ": " + ImportanceMaps.topK(contrastMap, 5));
            }
            printComponents(componentScores, pair, print);
        }
        return 0;
    }

    private String[] contrastPair(LoadedModel lm) {
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
        List<RankOneDecomposition> decompositions = new ArrayList<>();
        for (String module : ModuleNames.matching(lm.model().weights(), components)) {
            decompositions.add(RankOneDecomposition.svd(module, lm.model().weights().get(module + ".weight"), rank));
        }
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
            ImportanceMapFile.write(contrastMap, out);
        } else if (maps.size() == 1) {
            ImportanceMapFile.write(maps.values().iterator().next(), out);
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
