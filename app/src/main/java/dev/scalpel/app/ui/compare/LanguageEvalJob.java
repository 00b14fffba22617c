package dev.scalpel.app.ui.compare;

import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobContext;
import dev.scalpel.engine.api.LanguageLoss;
import dev.scalpel.engine.eval.CrossEntropyEvaluator;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.LoadedModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;

/**
 * Mean next-token cross-entropy of the base model, and of the edited one when there are edits, on every given text
 * ({@link CrossEntropyEvaluator}, BOS first where the model uses one).
 */
final class LanguageEvalJob implements Job<LanguageEvalJob.Result> {
    /** Per-text losses, in the texts' order; {@code edited} is empty without edits. */
    record Result(List<LanguageLoss> base, List<LanguageLoss> edited) {}

    private static final int BATCH = 4;

    private final LoadedModel model;
    private final Map<String, long[]> texts;
    private final LinearOverlay overlay;
    private final int context;

    /**
     * @param texts   name → token ids (no BOS), in the order to report
     * @param overlay the edits, or null to evaluate only the base model
     * @param context window length in tokens
     */
    LanguageEvalJob(LoadedModel model, Map<String, long[]> texts, LinearOverlay overlay, int context) {
        this.model = model;
        this.texts = texts;
        this.overlay = overlay;
        this.context = context;
    }

    @Override
    public String title() {
        return "Per-language CE of base" + (overlay != null ? " and edited" : "") + " model on " + texts.size() + " texts";
    }

    @Override
    public Result run(JobContext jobContext) {
        Integer bos = model.tokenizer().bosForPrompts();
        var baseEvaluator = new CrossEntropyEvaluator(model.model(), context, BATCH);
        var editedEvaluator = overlay == null ? null : new CrossEntropyEvaluator(model.model(), context, BATCH).withOverlay(overlay);
        int passes = texts.size() * (overlay == null ? 1 : 2);
        int done = 0;
        List<LanguageLoss> base = new ArrayList<>();
        List<LanguageLoss> edited = new ArrayList<>();
        for (var text : texts.entrySet()) {
            stopIfCancelled(jobContext);
            jobContext.progress(done++ / (double) passes, "base on " + text.getKey());
            base.add(baseEvaluator.evaluate(text.getKey(), text.getValue(), bos, null));
            if (editedEvaluator != null) {
                stopIfCancelled(jobContext);
                jobContext.progress(done++ / (double) passes, "edited on " + text.getKey());
                edited.add(editedEvaluator.evaluate(text.getKey(), text.getValue(), bos, null));
            }
        }
        jobContext.progress(1, "done");
        return new Result(base, edited);
    }

    private static void stopIfCancelled(JobContext context) {
        if (context.cancelled()) {
            throw new CancellationException("evaluation cancelled");
        }
    }
}
