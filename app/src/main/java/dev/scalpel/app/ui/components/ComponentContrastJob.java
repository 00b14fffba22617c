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
import java.util.ArrayList;
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
            List<ComponentRow> rows = new ArrayList<>();
            for (int c = 0; c < onTarget.size(); c++) {
                ComponentScore t = onTarget.get(c);
                rows.add(ComponentRow.of(t.index(), t.singularValue(), t.ablation(), onRetain.get(c).ablation(), t.gradient()));
            }
            rows.sort(Comparator.comparingDouble(ComponentRow::contrast).reversed());
            return rows;
        }
    }

    private static void stopIfCancelled(JobContext context) {
        if (context.cancelled()) {
            throw new CancellationException("components computation cancelled");
        }
    }
}
