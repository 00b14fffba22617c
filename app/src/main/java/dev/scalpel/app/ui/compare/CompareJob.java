package dev.scalpel.app.ui.compare;

import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobContext;
import dev.scalpel.engine.edit.LiveEdit;
import dev.scalpel.engine.eval.ReferenceLosses;
import dev.scalpel.engine.infer.Generator;
import dev.scalpel.engine.infer.SamplingOptions;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.views.compare.ScoredToken;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import java.util.function.BiFunction;

/**
 * One A/B comparison: the same prompt and sampling seed through the base model (no overlay) and the edited one; or,
 * with a reference text, that text scored token by token under both (teacher forcing, given the prompt). Generated
 * tokens are streamed to a per-side sink as they are chosen.
 */
final class CompareJob implements Job<CompareJob.Result> {
    /** How long a comparison that follows live training waits for the trainer to publish the step it is on. */
    private static final long FRESH_WAIT_MILLIS = 2_000;

    /**
     * What one side of the comparison shows.
     *
     * @param label    which model, e.g. "base", "2 edits"
     * @param meanLoss mean CE of the scored reference tokens, NaN when generating
     */
    record Side(List<ScoredToken> tokens, String label, double meanLoss) {
        /** e.g. "2 edits" or "2 edits · mean CE 3.412 nats". */
        String subtitle() {
            return Double.isNaN(meanLoss) ? label : String.format(Locale.ROOT, "%s · mean CE %.3f nats", label, meanLoss);
        }
    }

    /** Both sides. */
    record Result(Side base, Side edited) {}

    /**
     * The edited model: a fixed overlay (the session's edits, null for none), or a live training edit leased per pass.
     *
     * @param label the subtitle before any score, e.g. "2 edits"
     */
    record Edited(LinearOverlay overlay, LiveEdit live, String label) {}

    private final LoadedModel model;
    private final long[] prompt;
    private final long[] reference;
    private final SamplingOptions sampling;
    private final Edited edited;
    private final Consumer<ScoredToken> baseSink;
    private final Consumer<ScoredToken> editedSink;

    /**
     * @param prompt    prompt ids, BOS included where the model uses one
     * @param reference ids of the text to score after the prompt, or null to generate instead
     * @param baseSink  receives each generated base token as it is chosen (on the job's thread)
     */
    CompareJob(LoadedModel model, long[] prompt, long[] reference, SamplingOptions sampling, Edited edited,
               Consumer<ScoredToken> baseSink, Consumer<ScoredToken> editedSink) {
        this.model = model;
        this.prompt = prompt.clone();
        this.reference = reference == null ? null : reference.clone();
        this.sampling = sampling;
        this.edited = edited;
        this.baseSink = baseSink;
        this.editedSink = editedSink;
    }

    @Override
    public String title() {
        return reference != null ? "Score the reference: base vs " + edited.label()
                : "Generate " + sampling.maxNewTokens() + " tokens: base vs " + edited.label();
    }

    @Override
    public Result run(JobContext context) {
        Side base = side(context, 0, "base", LinearOverlay.NONE, baseSink);
        Side other = withEditedOverlay((overlay, label) -> side(context, 1, label, overlay, editedSink));
        context.progress(1, "done");
        return new Result(base, other);
    }

    /**
     * Runs {@code pass} with the edited overlay and its subtitle; a live edit is leased for exactly that pass (the copy of
     * the step training is on, waiting for it up to {@value #FRESH_WAIT_MILLIS} ms) and the subtitle names the training
     * step it shows (before the first step it runs as the base model and says so).
     */
    private Side withEditedOverlay(BiFunction<LinearOverlay, String, Side> pass) {
        if (edited.live() == null) {
            return pass.apply(edited.overlay() == null ? LinearOverlay.NONE : edited.overlay(), edited.label());
        }
        try (LiveEdit.Lease lease = edited.live().acquireFresh(FRESH_WAIT_MILLIS)) {
            return pass.apply(lease.overlay(), edited.label() + (lease.step() == 0 ? " · no step published yet" : " · step " + lease.step()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("A/B comparison cancelled");
        }
    }

    /** Side {@code index} (0 base, 1 edited) of the comparison. */
    private Side side(JobContext context, int index, String label, LinearOverlay overlay, Consumer<ScoredToken> sink) {
        stopIfCancelled(context);
        return reference != null ? scored(context, index, label, overlay) : generated(context, index, label, overlay, sink);
    }

    private Side generated(JobContext context, int index, String label, LinearOverlay overlay, Consumer<ScoredToken> sink) {
        IncrementalDecoder streaming = new IncrementalDecoder(model.tokenizer());
        int[] produced = {0};
        long[] ids = new Generator(model.model(), null, null, overlay).generate(prompt, sampling, id -> {
            stopIfCancelled(context);
            sink.accept(ScoredToken.unscored(streaming.next(id)));
            context.progress((index + ++produced[0] / (double) sampling.maxNewTokens()) / 2, label + ": token " + produced[0]);
        });
        List<ScoredToken> tokens = IncrementalDecoder.texts(model.tokenizer(), ids).stream().map(ScoredToken::unscored).toList();
        return new Side(tokens, label, Double.NaN);
    }

    private Side scored(JobContext context, int index, String label, LinearOverlay overlay) {
        context.progress(index / 2.0, "scoring the reference with " + label);
        double[] losses = ReferenceLosses.of(model.model(), overlay, prompt, reference);
        List<String> texts = IncrementalDecoder.texts(model.tokenizer(), reference);
        List<ScoredToken> tokens = new ArrayList<>(texts.size());
        double sum = 0;
        int scored = 0;
        for (int i = 0; i < texts.size(); i++) {
            tokens.add(new ScoredToken(texts.get(i), losses[i]));
            if (!Double.isNaN(losses[i])) {
                sum += losses[i];
                scored++;
            }
        }
        double mean = scored == 0 ? Double.NaN : sum / scored;
        return new Side(tokens, label, mean);
    }

    private static void stopIfCancelled(JobContext context) {
        if (context.cancelled()) {
            throw new CancellationException("A/B comparison cancelled");
        }
    }
}
