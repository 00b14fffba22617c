package dev.scalpel.app.ui.train;

import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobContext;
import dev.scalpel.engine.api.TrainingProgress;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.LiveEdit;
import dev.scalpel.engine.model.CausalLM;
import dev.scalpel.engine.spec.EditSpec;
import dev.scalpel.engine.train.FineTuner;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import dev.scalpel.engine.session.Snapshot;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One training run as a job: builds the edit from its recipe, trains it with {@link FineTuner} on a frozen model,
 * reports each step to the jobs panel and to a {@link Listener}, and returns the trained edit with the engine's
 * result. A cancel keeps the completed steps; a failure closes the edit before it propagates.
 */
final class TrainJob implements Job<TrainJob.Outcome> {
    /** What happens while the job runs, reported from the job's thread (implementations hand it to the UI thread). */
    interface Listener {
        /** Training starts: {@code live} will carry the edit as of each completed step until {@link #ended}. */
        void started(LiveEdit live);

        /** A step completed. */
        void step(TrainingProgress progress);

        /** A live evaluation completed. */
        void evaluated(EvalPoint point);

        /** Training ended (done, stopped or failed); the listener now owns {@code live} and closes it. */
        void ended(LiveEdit live);
    }

    /**
     * The trained edit (the receiver owns it), the engine's result, the wall time of the run, and the key of the weights
     * it trained on (the checkpoint's hash, or with head groups swapped in, a hash of it and the groups).
     */
    record Outcome(Edit edit, FineTuner.Result result, double seconds, String weightsKey) {}

    private final Supplier<Snapshot> snapshots;
    private final CausalLM model;
    private final EditSpec recipe;
    private final long seed;
    private final EditSpec.References maps;
    private final FineTuner.Spec spec;
    private final FineTuner.Data data;
    private final int evalEvery;
    private final Map<String, long[]> evalTexts;
    private final Listener listener;

    /**
     * @param snapshots takes the session's snapshot (a lease on its weights) for the run, e.g. {@code session::snapshot}
     * @param evalEvery evaluate {@code evalTexts} (name → ids, no BOS) every this many steps; 0 = never
     */
    TrainJob(Supplier<Snapshot> snapshots, CausalLM model, EditSpec recipe, long seed, EditSpec.References maps, FineTuner.Spec spec, FineTuner.Data data, int evalEvery,
             Map<String, long[]> evalTexts, Listener listener) {
        this.snapshots = snapshots;
        this.model = model;
        this.recipe = recipe;
        this.seed = seed;
        this.maps = maps;
        this.spec = spec;
        this.data = data;
        this.evalEvery = evalEvery;
        this.evalTexts = Collections.unmodifiableMap(new LinkedHashMap<>(evalTexts));
        this.listener = listener;
    }

    @Override
    public String title() {
        return "Train " + recipe.title();
    }

    /** Trains on the snapshot's weights: no head group is swapped in or out under the run. */
    @Override
    public Outcome run(JobContext context) {
        try (Snapshot snapshot = snapshots.get()) {
            return train(context, snapshot.weightsKey());
        }
    }

    private Outcome train(JobContext context, String weightsKey) {
        long start = System.nanoTime();
        Edit edit = recipe.build(model, seed, maps);
        FineTuner tuner = new FineTuner(model, edit, spec);
        listener.started(tuner.live());
        try {
            if (evalEvery > 0) {
                long[] evaluations = {0};
                tuner.evaluateEvery(evalEvery, evalTexts, losses -> {
                    long step = ++evaluations[0] * evalEvery;       // the tuner evaluates after steps k, 2k, 3k …
                    losses.forEach((name, loss) -> listener.evaluated(new EvalPoint(step, name, loss.ce())));
                });
            }
            FineTuner.Result result = tuner.run(data, p -> {
                listener.step(p);
                context.progress((double) p.step() / p.totalSteps(),
                        String.format(Locale.ROOT, "step %d/%d · loss %.3f", p.step(), p.totalSteps(), p.loss()));
            }, context::cancelled);
            return new Outcome(edit, result, (System.nanoTime() - start) / 1e9, weightsKey);
        } catch (RuntimeException | Error e) {
            edit.close();
            throw e;
        } finally {
            listener.ended(tuner.live());
        }
    }
}
