package dev.scalpel.app.ui.components;

import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobContext;
import dev.scalpel.engine.components.Decompositions;
import dev.scalpel.engine.components.RankOneDecomposition;
import dev.scalpel.engine.spec.ComponentsSpec;
import dev.scalpel.engine.importance.ComponentImportance;
import dev.scalpel.engine.importance.ComponentImportance.ComponentScore;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.decompose.DecompositionFile;
import dev.scalpel.engine.decompose.DecompositionQuality;
import dev.scalpel.engine.decompose.ModuleDecomposition;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CancellationException;

/**
 * The job behind the Components view: the components of one weight (its top-{@code rank} SVD directions, or a
 * decomposition file's subcomponents), each scored by
 * {@link ComponentImportance} on a target and a retain text, as rows sorted by contrast (removal ΔCE on the target
 * minus on the retain text), largest first.
 */
final class ComponentContrastJob implements Job<List<ComponentRow>> {
    private final LoadedModel model;
    private final ComponentsSpec spec;
    private final Text target;
    private final Text retain;
    private final HeadImportance.Options options;

    /** A named text's token ids (no BOS). */
    record Text(String name, long[] tokens) {}

    /** @param spec one module (its full name), the rank, and the decomposition file or null for an SVD */
    ComponentContrastJob(LoadedModel model, ComponentsSpec spec, Text target, Text retain, HeadImportance.Options options) {
        this.model = model;
        this.spec = spec;
        this.target = target;
        this.retain = retain;
        this.options = options;
    }

    @Override
    public String title() {
        return "Components of " + spec.components() + " on " + target.name() + " vs " + retain.name();
    }

    @Override
    public List<ComponentRow> run(JobContext context) {
        context.progress(0, spec.spd() == null ? "SVD of " + spec.components() + ", top " + spec.rank()
                : "reading the decomposition " + spec.spd());
        Integer bos = model.tokenizer().bosForPrompts();
        try (Decompositions found = spec.decompositions(model.model())) {
            RankOneDecomposition d = found.single();
            var scorer = new ComponentImportance(model.model(), options);
            stopIfCancelled(context);
            List<ComponentScore> onTarget = scorer.compute(List.of(d), target.name(), target.tokens(), bos,
                    (f, m) -> context.progress(0.05 + 0.45 * f, "removing each component on " + target.name()));
            stopIfCancelled(context);
            List<ComponentScore> onRetain = scorer.compute(List.of(d), retain.name(), retain.tokens(), bos,
                    (f, m) -> context.progress(0.5 + 0.5 * f, "removing each component on " + retain.name()));
            double[][] importance = meanImportance(context);                                   // [2][C] or null
            List<ComponentRow> rows = new ArrayList<>();
            for (int c = 0; c < onTarget.size(); c++) {
                ComponentScore t = onTarget.get(c);
                ComponentRow row = ComponentRow.of(t.index(), t.singularValue(), t.ablation(), onRetain.get(c).ablation(), t.gradient());
                rows.add(importance == null ? row : row.withImportance(importance[0][c], importance[1][c]));
            }
            rows.sort(Comparator.comparingDouble(ComponentRow::contrast).reversed());
            return rows;
        }
    }

    /** Each subcomponent's mean causal importance on target and retain, when the decomposition has CI functions; else null. */
    private double[][] meanImportance(JobContext context) {
        if (spec.spd() == null || !DecompositionFile.hasImportanceFunctions(Path.of(spec.spd()))) {
            return null;
        }
        stopIfCancelled(context);
        context.progress(0.99, "causal importance on " + target.name() + " and " + retain.name());
        try (DecompositionFile.Loaded loaded = DecompositionFile.read(Path.of(spec.spd()), model.model())) {
            List<ModuleDecomposition> module = loaded.modules().stream().filter(d -> d.module().equals(spec.components())).toList();
            if (module.isEmpty()) {
                return null;
            }
            var report = DecompositionQuality.measure(model.model(), module,
                    Map.of(target.name(), target.tokens(), retain.name(), retain.tokens()), model.tokenizer().bosForPrompts(),
                    options.context(), options.batchSize());
            double[][] out = new double[2][];
            for (var t : report.texts()) {
                out[t.text().equals(target.name()) ? 0 : 1] = t.meanImportance().get(spec.components());
            }
            return out;
        }
    }

    private static void stopIfCancelled(JobContext context) {
        if (context.cancelled()) {
            throw new CancellationException("components computation cancelled");
        }
    }
}
