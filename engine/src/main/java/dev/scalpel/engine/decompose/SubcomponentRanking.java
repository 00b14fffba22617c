package dev.scalpel.engine.decompose;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Subcomponents ranked by how specific they are to one text — the step of the prefactor study that finds "the German
 * subcomponent", done by numbers: specificity = mean causal importance on the target text minus the largest mean
 * causal importance on any other text.
 */
public final class SubcomponentRanking {
    /** One subcomponent with its specificity and its mean causal importance on every text. */
    public record Ranked(String module, int index, double specificity, Map<String, Double> meanImportance) {}

    private SubcomponentRanking() {}

    /** Every subcomponent of the report's matrices, most specific to {@code target} first. */
    public static List<Ranked> bySpecificity(DecompositionQuality.Report report, String target) {
        List<Ranked> ranked = new ArrayList<>();
        Map<String, double[]> first = report.texts().get(0).meanImportance();
        for (String module : first.keySet()) {
            for (int c = 0; c < first.get(module).length; c++) {
                Map<String, Double> ci = new LinkedHashMap<>();
                double other = 0;
                for (DecompositionQuality.TextQuality t : report.texts()) {
                    double value = t.meanImportance().get(module)[c];
                    ci.put(t.text(), value);
                    if (!t.text().equals(target)) {
                        other = Math.max(other, value);
                    }
                }
                ranked.add(new Ranked(module, c, ci.getOrDefault(target, 0.0) - other, ci));
            }
        }
        ranked.sort(Comparator.comparingDouble(Ranked::specificity).reversed());
        return ranked;
    }
}
