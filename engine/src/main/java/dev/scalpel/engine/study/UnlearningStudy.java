package dev.scalpel.engine.study;

import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.LanguageLoss;
import dev.scalpel.engine.api.ProgressListener;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.components.ModuleNames;
import dev.scalpel.engine.components.RankOneDecomposition;
import dev.scalpel.engine.decompose.DecompositionFile;
import dev.scalpel.engine.decompose.DecompositionQuality;
import dev.scalpel.engine.decompose.SubcomponentRanking;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditOverlay;
import dev.scalpel.engine.edit.HeadLayout;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.edit.PrefactorEdit;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.importance.ComponentImportance;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.importance.ImportanceMaps;
import dev.scalpel.engine.importance.Normalization;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.train.FineTuner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.pytorch.Tensor;

/**
 * The German-removal study of the seed experiment, on any model and language pair: find the heads and the rank-1
 * component that carry the target language (importance contrast target − retain, component removal contrast) and,
 * given a parameter decomposition, the subcomponent whose causal importance is highest on the target relative to every
 * other language; then for each target-token budget train one scalar prefactor on that subcomponent, one on the top
 * SVD component, rank-1 and rank-4 LoRA on the chosen matrix (with a decomposition also a rank-1 LoRA started on the
 * subcomponent's input direction), and head-LoRA on the top target heads, all with the same objective (unlearn up to
 * ln V plus a retain KL) and budget, and measure every language's CE. Everything is chosen on the training texts; the
 * evaluation texts only measure — and, with a decomposition, show the subcomponent's prefactor fixed at a range of s.
 */
public final class UnlearningStudy {
    /**
     * @param target      language to remove (a key of {@code evalTexts})
     * @param retain      language to keep
     * @param budgets     target-token budgets
     * @param components  globs of the matrices whose SVD components are candidates
     * @param rank        SVD components per matrix
     * @param topHeads    heads for head-LoRA
     * @param steps       optimizer steps per run
     * @param prefactorLr AdamW learning rate of the prefactor runs (the LoRA runs use 5e-3). AdamW moves a scalar by at
     *                    most about lr per step, so {@code steps · prefactorLr} bounds how far s can travel from 1
     * @param retainWeight λ of the retain KL
     * @param evalTokens  tokens of each eval text used to measure, and of each training text used to choose
     * @param decomposition a decomposition file (scalpel decompose) whose subcomponents are candidates too, or null
     */
    public record Options(String target, String retain, List<Integer> budgets, List<String> components, int rank,
                          int topHeads, int steps, double prefactorLr, double retainWeight, int evalTokens, long seed,
                          Path decomposition) {}

    /** One trained method at one budget. */
    public record Row(String method, int budget, long parameters, double targetCe, double targetFractionOfLnV,
                      Map<String, Double> deltaCe, double seconds) {}

    /**
     * What was found before training, on the training texts.
     *
     * @param subcomponent the decomposition's chosen subcomponent, or null without a decomposition
     */
    public record Attribution(HeadSet heads, String component, int componentIndex, double componentContrast,
                              ImportanceMap contrastMap, Subcomponent subcomponent) {
        /** The matrix the LoRA baselines train: the subcomponent's with a decomposition, else the SVD component's. */
        public String loraMatrix() {
            return subcomponent != null ? subcomponent.module() : component;
        }
    }

    /**
     * The decomposition's subcomponent most specific to the target: the largest mean causal importance on the target
     * text minus the largest on any other text.
     *
     * @param meanImportance language → the subcomponent's mean causal importance on that training text
     */
    public record Subcomponent(String module, int index, Map<String, Double> meanImportance) {}

    /**
     * Starting points a prefactor run compares: s = 1 + f · steps · lr for f in these, i.e. across the whole range AdamW
     * can travel in the run. The trained model sits at a minimum of the target CE along s, so the CE rises on both sides of
     * s = 1, the gradient there is noise, and descent from s = 1 ends in whichever basin the first steps happen to face;
     * the run starts instead where the training loss (on the run's own batches) is lowest.
     */
    private static final double[] PREFACTOR_START_FRACTIONS = {-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1};

    /**
     * The chosen subcomponent's prefactor fixed at {@code s} (not trained), measured on the evaluation texts: what the
     * prefactor could reach at best, the frontier a trained run lands on.
     */
    public record SweepPoint(double s, double targetCe, double targetFractionOfLnV, Map<String, Double> deltaCe) {}

    /** @param sweep with a decomposition, its subcomponent's prefactor at {@link #SWEEP_SCALES}; else empty */
    public record Result(Attribution attribution, Map<String, Double> baseCe, double lnV, List<Row> rows, List<SweepPoint> sweep) {}

    /** Where the sweep fixes the prefactor: inversions, removal, and amplifications as far as training reaches. */
    private static final double[] SWEEP_SCALES = {-20, -10, -5, -2, -1, 0, 2, 5, 8, 10, 12, 14, 16, 18, 20};

    private static final int CONTEXT = 64;

    private UnlearningStudy() {}

    /**
     * @param evalTexts  language → validation ids (no BOS), scored before and after each edit
     * @param trainTexts language → training ids for the target (cut to each budget) and the retain KL
     */
    public static Result run(LoadedModel m, Map<String, long[]> evalTexts, Map<String, long[]> trainTexts, Options o,
                             Consumer<String> log) {
        for (String lang : List.of(o.target(), o.retain())) {
            if (!evalTexts.containsKey(lang) || !trainTexts.containsKey(lang)) {
                throw new ScalpelException("The study needs evaluation and training text for '" + lang + "'; the model ships "
                        + evalTexts.keySet() + " (eval) and " + trainTexts.keySet() + " (train-sample).");
            }
        }
        int bos = m.config().bosTokenId() != null ? m.config().bosTokenId() : 0;
        Map<String, long[]> eval = new LinkedHashMap<>();
        evalTexts.forEach((k, v) -> eval.put(k, Arrays.copyOf(v, Math.min(v.length, o.evalTokens()))));
        var evaluator = new CrossEntropyEvaluator(m.model(), CONTEXT, 8);
        Map<String, Double> base = new LinkedHashMap<>();
        eval.forEach((lang, ids) -> base.put(lang, evaluator.withOverlay(null).evaluate(lang, ids, bos, null).ce()));
        double lnV = Math.log(m.config().vocabSize());
        log.accept("base CE: " + base);

        Map<String, long[]> choose = new LinkedHashMap<>();
        trainTexts.forEach((k, v) -> choose.put(k, Arrays.copyOf(v, Math.min(v.length, o.evalTokens()))));
        Attribution attribution = attribute(m, choose, bos, o, log);
        List<Row> rows = new ArrayList<>();
        try (RankOneDecomposition d = RankOneDecomposition.svd(attribution.component(),
                m.model().weights().get(attribution.component() + ".weight"), o.rank());
             RankOneDecomposition sub = attribution.subcomponent() == null ? null : subcomponents(m, o.decomposition(), attribution)) {
            for (int budget : o.budgets()) {
                for (String method : methods(attribution.subcomponent() != null)) {
                    var data = new FineTuner.Data(trainTexts.get(o.target()), null, trainTexts.get(o.retain()), bos);
                    long t0 = System.nanoTime();
                    try (Trained trained = method.startsWith("prefactor") ? trainPrefactor(method, m, d, sub, attribution, o, budget, data, log)
                            : train(newEdit(method, m, d, sub, attribution, o), m, o, budget, 5e-3, data)) {
                        double seconds = (System.nanoTime() - t0) / 1e9;
                        Edit edit = trained.edit();
                        var result = trained.result();
                        evaluator.withOverlay(new EditOverlay(List.of(edit)));
                        Map<String, Double> delta = new LinkedHashMap<>();
                        double targetCe = Double.NaN;
                        for (var e : eval.entrySet()) {
                            LanguageLoss loss = evaluator.evaluate(e.getKey(), e.getValue(), bos, null);
                            if (e.getKey().equals(o.target())) {
                                targetCe = loss.ce();
                            }
                            delta.put(e.getKey(), loss.ce() - base.get(e.getKey()));
                        }
                        Row row = new Row(method, budget, edit.parameterCount(), targetCe, targetCe / lnV, delta, seconds);
                        rows.add(row);
                        log.accept(String.format(java.util.Locale.ROOT, "budget %5d  %-13s %,8d params  %s CE %.3f (%.2f ln V)  stop %s  %.1f s%s",
                                budget, method, row.parameters(), o.target(), targetCe, row.targetFractionOfLnV(),
                                result.stopReason() == null ? "-" : result.stopReason(), seconds,
                                edit instanceof PrefactorEdit p ? "  s = " + Arrays.toString(p.prefactors()) : ""));
                    }
                }
            }
            List<SweepPoint> sweep = sub == null ? List.of() : sweep(sub, attribution.subcomponent().index(), evaluator, eval, bos, base, o, lnV);
            return new Result(attribution, base, lnV, rows, sweep);
        } finally {
            evaluator.withOverlay(null);
        }
    }

    /**
     * The subcomponent's prefactor at each of {@link #SWEEP_SCALES}, every language's CE on the evaluation texts. It
     * chooses nothing (the runs above are done): it shows the best trade-off any value of s offers.
     */
    private static List<SweepPoint> sweep(RankOneDecomposition sub, int index, CrossEntropyEvaluator evaluator, Map<String, long[]> eval,
                                          int bos, Map<String, Double> base, Options o, double lnV) {
        List<SweepPoint> points = new ArrayList<>();
        try (PrefactorEdit fixed = PrefactorEdit.of(sub, List.of(index), "decomposition")) {
            evaluator.withOverlay(new EditOverlay(List.of(fixed)));
            for (double s : SWEEP_SCALES) {
                fixed.setAll(s);
                Map<String, Double> delta = new LinkedHashMap<>();
                eval.forEach((lang, ids) -> delta.put(lang, evaluator.evaluate(lang, ids, bos, null).ce() - base.get(lang)));
                double targetCe = base.get(o.target()) + delta.get(o.target());
                points.add(new SweepPoint(s, targetCe, targetCe / lnV, delta));
            }
        }
        return points;
    }

    /** An edit after its training run; closing it closes the edit. */
    private record Trained(Edit edit, FineTuner.Result result) implements AutoCloseable {
        @Override
        public void close() {
            edit.close();
        }
    }

    private static Trained train(Edit edit, LoadedModel m, Options o, int budget, double lr, FineTuner.Data data) {
        return new Trained(edit, new FineTuner(m.model(), edit, trainingSpec(o, budget, lr)).run(data, p -> { }, () -> false));
    }

    /** Every method's objective: unlearn up to ln V plus λ · retain KL, AdamW, batches of 4. */
    private static FineTuner.Spec trainingSpec(Options o, int budget, double lr) {
        return new FineTuner.Spec(FineTuner.Objective.UNLEARN, o.retainWeight(), 0, budget, o.steps(), 4, CONTEXT, lr, "adamw", o.seed());
    }

    /**
     * The prefactor run from the best of {@link #PREFACTOR_START_FRACTIONS}: the start whose training loss, averaged over
     * the batches of the first four steps, is lowest (the training texts only).
     */
    private static Trained trainPrefactor(String method, LoadedModel m, RankOneDecomposition d, RankOneDecomposition sub,
                                          Attribution a, Options o, int budget, FineTuner.Data data, Consumer<String> log) {
        PrefactorEdit edit = (PrefactorEdit) newEdit(method, m, d, sub, a, o);
        var spec = trainingSpec(o, budget, o.prefactorLr());
        var tuner = new FineTuner(m.model(), edit, spec);
        double bestStart = 1, bestLoss = Double.POSITIVE_INFINITY;
        StringBuilder probed = new StringBuilder();
        for (double f : PREFACTOR_START_FRACTIONS) {
            double start = 1 + f * o.steps() * o.prefactorLr();
            edit.setAll(start);
            double loss = tuner.objective(data, Math.min(4, o.steps()));
            probed.append(String.format(java.util.Locale.ROOT, " %.1f→%.3f", start, loss));
            if (loss < bestLoss) {
                bestLoss = loss;
                bestStart = start;
            }
        }
        log.accept(String.format(java.util.Locale.ROOT, "  %s training loss by start s:%s; starts at %.1f", method, probed, bestStart));
        edit.setAll(bestStart);
        return new Trained(edit, tuner.run(data, p -> { }, () -> false));
    }

    /**
     * Top heads by the target − retain gradient contrast, the component whose removal hurts the target most relative to
     * retain and, with a decomposition, the most target-specific subcomponent — all on {@code eval}, the training texts.
     */
    private static Attribution attribute(LoadedModel m, Map<String, long[]> eval, int bos, Options o, Consumer<String> log) {
        var options = new HeadImportance.Options(CONTEXT, 8);
        var importance = new HeadImportance(m.model(), options);
        ImportanceMap target = importance.compute(HeadImportance.Method.GRADIENT, o.target(), eval.get(o.target()), bos, "", "", ProgressListener.NONE);
        ImportanceMap retain = importance.compute(HeadImportance.Method.GRADIENT, o.retain(), eval.get(o.retain()), bos, "", "", ProgressListener.NONE);
        ImportanceMap contrast = ImportanceMaps.contrast(ImportanceMaps.normalize(target, Normalization.LAYER_ZSCORE),
                ImportanceMaps.normalize(retain, Normalization.LAYER_ZSCORE), Normalization.RAW);
        HeadSet heads = ImportanceMaps.topK(contrast, o.topHeads());
        log.accept("top " + o.target() + " heads (gradient contrast " + o.target() + "-" + o.retain() + "): " + heads);

        List<RankOneDecomposition> decompositions = new ArrayList<>();
        for (String glob : o.components()) {
            for (String module : ModuleNames.matching(m.model().weights(), glob)) {
                decompositions.add(RankOneDecomposition.svd(module, m.model().weights().get(module + ".weight"), o.rank()));
            }
        }
        try {
            var scorer = new ComponentImportance(m.model(), options);
            var a = scorer.compute(decompositions, o.target(), eval.get(o.target()), bos, ProgressListener.NONE);
            var b = scorer.compute(decompositions, o.retain(), eval.get(o.retain()), bos, ProgressListener.NONE);
            int best = 0;
            for (int i = 1; i < a.size(); i++) {
                if (a.get(i).ablation() - b.get(i).ablation() > a.get(best).ablation() - b.get(best).ablation()) {
                    best = i;
                }
            }
            var top = a.get(best);
            double contrastValue = top.ablation() - b.get(best).ablation();
            log.accept(String.format(java.util.Locale.ROOT, "top %s component: %s #%d (σ %.3f): removal ΔCE %s %+.4f, %s %+.4f",
                    o.target(), top.module(), top.index(), top.singularValue(), o.target(), top.ablation(), o.retain(), b.get(best).ablation()));
            Subcomponent sub = o.decomposition() == null ? null : mostSpecific(m, eval, bos, o, log);
            return new Attribution(heads, top.module(), top.index(), contrastValue, contrast, sub);
        } finally {
            decompositions.forEach(RankOneDecomposition::close);
        }
    }

    /**
     * The subcomponent whose mean causal importance on the target text most exceeds its largest on any other text
     * ({@code eval}: the training texts); logs the five most specific with their importance per language.
     */
    private static Subcomponent mostSpecific(LoadedModel m, Map<String, long[]> eval, int bos, Options o, Consumer<String> log) {
        try (DecompositionFile.Loaded loaded = DecompositionFile.read(o.decomposition(), m.model())) {
            var report = DecompositionQuality.measure(m.model(), loaded.modules(), eval, bos, CONTEXT, 8);
            List<SubcomponentRanking.Ranked> ranked = SubcomponentRanking.bySpecificity(report, o.target());
            for (var c : ranked.subList(0, Math.min(5, ranked.size()))) {
                log.accept(String.format(java.util.Locale.ROOT, "%s-specific subcomponent %s #%d: mean causal importance %s",
                        o.target(), c.module(), c.index(), formatted(c.meanImportance())));
            }
            var best = ranked.get(0);
            return new Subcomponent(best.module(), best.index(), best.meanImportance());
        }
    }

    private static String formatted(Map<String, Double> values) {
        StringBuilder b = new StringBuilder();
        values.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append(String.format(java.util.Locale.ROOT, " %.3f", v)));
        return b.toString();
    }

    /** The chosen subcomponent's matrix, all its subcomponents as rank-1 components. */
    private static RankOneDecomposition subcomponents(LoadedModel m, Path file, Attribution a) {
        try (DecompositionFile.Loaded loaded = DecompositionFile.read(file, m.model())) {
            return loaded.modules().stream().filter(d -> d.module().equals(a.subcomponent().module())).findFirst().orElseThrow().asRankOne();
        }
    }

    private static Edit newEdit(String method, LoadedModel m, RankOneDecomposition d, RankOneDecomposition sub, Attribution a, Options o) {
        String module = a.loraMatrix();
        String matrix = module.substring(module.lastIndexOf('.') + 1);
        int layer = ModuleNames.layerOf(module).orElse(-1);
        List<Integer> layers = layer >= 0 ? List.of(layer) : null;
        return switch (method) {
            case "prefactor-spd" -> PrefactorEdit.of(sub, List.of(a.subcomponent().index()), "decomposition");
            case "prefactor", "prefactor-svd" -> PrefactorEdit.of(d, List.of(a.componentIndex()), "svd");
            case "lora-r1-local" -> {
                try (Tensor v = sub.v().select(1, a.subcomponent().index()).contiguous()) {        // [in]
                    yield LoraEdit.startingOnInputDirection(m.model(), module, v);
                }
            }
            case "lora-r1" -> LoraEdit.modules(m.model(), List.of(matrix), layers, 1, Map.of(), 2, 0, o.seed());
            case "lora-r4" -> LoraEdit.modules(m.model(), List.of(matrix), layers, 4, Map.of(), 8, 0, o.seed());
            case "head-lora-r4" -> LoraEdit.heads(m.model(), a.heads(), List.of(HeadLayout.Projection.values()), 4, 8, 0, o.seed());
            default -> throw new IllegalArgumentException(method);
        };
    }

    /**
     * Methods in the order the study runs them (for tables and charts); with a decomposition the prefactor on its
     * subcomponent comes first and the SVD prefactor is "prefactor-svd"; "lora-r1-local" is rank-1 LoRA started on the
     * subcomponent's input direction ({@link LoraEdit#startingOnInputDirection}). LoRAs are on the chosen matrix only.
     */
    public static List<String> methods(boolean withDecomposition) {
        return withDecomposition ? List.of("prefactor-spd", "prefactor-svd", "lora-r1-local", "lora-r1", "lora-r4",
                "head-lora-r4")
                : List.of("prefactor", "lora-r1", "lora-r4", "head-lora-r4");
    }

    /** The methods of {@code rows}, in the study's order. */
    public static List<String> methods(List<Row> rows) {
        boolean spd = rows.stream().anyMatch(r -> r.method().equals("prefactor-spd"));
        return methods(spd).stream().filter(m -> rows.stream().anyMatch(r -> r.method().equals(m))).toList();
    }

    /** Rows sorted by method then budget. */
    public static List<Row> sorted(List<Row> rows) {
        List<String> order = methods(rows);
        return rows.stream().sorted(Comparator.comparing((Row r) -> order.indexOf(r.method())).thenComparingInt(Row::budget)).toList();
    }
}
