package dev.scalpel.app.ui.compare;

import dev.scalpel.app.ui.jobs.LeasedJob;
import dev.scalpel.app.ui.jobs.JobStatus;
import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.JobRunner;
import dev.scalpel.engine.edit.LiveEdit;
import dev.scalpel.engine.infer.SamplingOptions;
import dev.scalpel.engine.model.TextTokenizer;
import dev.scalpel.views.compare.ScoredToken;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executor;
import javafx.beans.property.BooleanProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.ReadOnlyStringWrapper;
import javafx.beans.property.SimpleBooleanProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;

/**
 * State and actions of the A/B compare view, without UI. {@link #generate()} runs the same prompt with the same
 * sampling seed through the base model and the edited one (the session's edits, or, with {@link #followLiveProperty()}
 * on while a training job runs, its latest published step) and fills {@link #base()} and {@link #edited()} with the
 * generated tokens, streamed as they come. With a reference text it scores that text after the prompt under both
 * models instead, each token with its cross-entropy. Numeric inputs are object properties so that spinners bind to
 * them directly. Lives on the UI thread; streamed tokens arrive through the {@code ui} executor.
 */
public final class CompareViewModel {
    /** Tokens generated per side by default. */
    public static final int DEFAULT_MAX_TOKENS = 40;
    /** Sampling temperature by default (0 would be greedy, where the seed does not matter). */
    public static final double DEFAULT_TEMPERATURE = 0.8;

    private final Session session;
    private final JobRunner jobs;
    private final Executor ui;
    private final StringProperty prompt = new SimpleStringProperty(this, "prompt", "");
    private final StringProperty reference = new SimpleStringProperty(this, "reference", "");
    private final ObjectProperty<Integer> seed = new SimpleObjectProperty<>(this, "seed", 0);
    private final ObjectProperty<Integer> maxTokens = new SimpleObjectProperty<>(this, "maxTokens", DEFAULT_MAX_TOKENS);
    private final ObjectProperty<Double> temperature = new SimpleObjectProperty<>(this, "temperature", DEFAULT_TEMPERATURE);
    private final BooleanProperty followLive = new SimpleBooleanProperty(this, "followLive", true);
    private final ObservableList<ScoredToken> base = FXCollections.observableArrayList();
    private final ObservableList<ScoredToken> edited = FXCollections.observableArrayList();
    private final ReadOnlyStringWrapper baseSubtitle = new ReadOnlyStringWrapper(this, "baseSubtitle", "base");
    private final ReadOnlyStringWrapper editedSubtitle = new ReadOnlyStringWrapper(this, "editedSubtitle", "");
    private final JobStatus job;

    public CompareViewModel(Session session, JobRunner jobs, Executor ui) {
        this.session = session;
        this.jobs = jobs;
        this.ui = ui;
        this.job = new JobStatus("Type a prompt (and optionally a reference text to score), then Generate.");
    }

    /** The text both models continue. */
    public StringProperty promptProperty() {
        return prompt;
    }

    /** A text to score after the prompt instead of generating; empty to generate. */
    public StringProperty referenceProperty() {
        return reference;
    }

    /** The sampling seed both sides use. */
    public ObjectProperty<Integer> seedProperty() {
        return seed;
    }

    /** Tokens to generate per side (default {@value #DEFAULT_MAX_TOKENS}). */
    public ObjectProperty<Integer> maxTokensProperty() {
        return maxTokens;
    }

    /** Sampling temperature; 0 is greedy. */
    public ObjectProperty<Double> temperatureProperty() {
        return temperature;
    }

    /** While a training job runs: compare against its latest step instead of the edit stack. */
    public BooleanProperty followLiveProperty() {
        return followLive;
    }

    /** The base model's tokens. */
    public ObservableList<ScoredToken> base() {
        return base;
    }

    /** The edited model's tokens. */
    public ObservableList<ScoredToken> edited() {
        return edited;
    }

    /** e.g. "base" or "base · mean CE 3.412 nats". */
    public ReadOnlyStringProperty baseSubtitleProperty() {
        return baseSubtitle.getReadOnlyProperty();
    }

    /** e.g. "2 edits", "live training edit", "no edits · mean CE 3.412 nats". */
    public ReadOnlyStringProperty editedSubtitleProperty() {
        return editedSubtitle.getReadOnlyProperty();
    }

    public ReadOnlyStringProperty statusProperty() {
        return job.statusProperty();
    }

    /** What is wrong with the input or the last run, with what to do; "" when nothing is. */
    public ReadOnlyStringProperty problemProperty() {
        return job.problemProperty();
    }

    public ReadOnlyBooleanProperty busyProperty() {
        return job.busyProperty();
    }

    /** Generates (or scores the reference) with base and edited model, off the UI thread. */
    public void generate() {
        if (job.refuseIfBusy()) {
            return;
        }
        TextTokenizer tokenizer = session.model().tokenizer();
        long[] promptIds = tokenizer.encodePrompt(prompt.get() == null ? "" : prompt.get());
        String referenceText = reference.get() == null ? "" : reference.get();
        long[] referenceIds = referenceText.isBlank() ? null : tokenizer.encode(referenceText);
        String problem = inputProblem(promptIds, referenceIds);
        if (problem != null) {
            job.problem(problem);
            return;
        }
        SamplingOptions sampling = new SamplingOptions(referenceIds == null ? maxTokens.get() : 0, temperature.get(), 1.0,
                seed.get(), true);
        CompareJob.Edited editedModel = editedModel();
        base.clear();
        edited.clear();
        baseSubtitle.set("base");
        editedSubtitle.set(editedModel.label());
        job.submit(jobs, new LeasedJob<>(session::snapshot, new CompareJob(session.model(), promptIds, referenceIds, sampling,
                editedModel, t -> ui.execute(() -> base.add(t)), t -> ui.execute(() -> edited.add(t)))), this::show);
    }

    /** The session's edits, or the live training edit when following it and one runs. */
    private CompareJob.Edited editedModel() {
        LiveEdit live = followLive.get() ? session.liveProperty().get() : null;
        if (live != null) {
            return new CompareJob.Edited(null, live, "live training edit");
        }
        int n = session.edits().size();
        return new CompareJob.Edited(session.overlay(), null, n == 0 ? "no edits" : n == 1 ? "1 edit" : n + " edits");
    }

    private void show(CompareJob.Result result) {
        base.setAll(result.base().tokens());
        edited.setAll(result.edited().tokens());
        baseSubtitle.set(result.base().subtitle());
        editedSubtitle.set(result.edited().subtitle());
        job.status(Double.isNaN(result.base().meanLoss()) ? generatedSummary(result) : String.format(Locale.ROOT,
                "Scored %d reference tokens: mean CE %.3f nats base, %.3f nats %s (%+.3f).", result.base().tokens().size(),
                result.base().meanLoss(), result.edited().meanLoss(), result.edited().label(),
                result.edited().meanLoss() - result.base().meanLoss()));
    }

    private static String generatedSummary(CompareJob.Result result) {
        List<ScoredToken> a = result.base().tokens();
        List<ScoredToken> b = result.edited().tokens();
        int same = 0;
        while (same < Math.min(a.size(), b.size()) && a.get(same).text().equals(b.get(same).text())) {
            same++;
        }
        String how = same == a.size() && same == b.size() ? "identical" : "the same for " + same + " tokens, then differ";
        return "Generated " + a.size() + " and " + b.size() + " tokens: " + how + ".";
    }

    /** Why the comparison cannot run, or null when it can. */
    private String inputProblem(long[] promptIds, long[] referenceIds) {
        int positions = session.summary().maxPositions();
        if (promptIds.length == 0) {
            return "Type a prompt: this model has no BOS token to start from.";
        }
        if (seed.get() == null || temperature.get() == null || !(temperature.get() >= 0) || temperature.get().isInfinite()) {
            return "Set a seed and a temperature ≥ 0 (0 = greedy).";
        }
        if (referenceIds != null) {
            if (promptIds.length + referenceIds.length > positions) {
                return "The prompt and reference are " + (promptIds.length + referenceIds.length) + " tokens; the model reads at most "
                        + positions + ". Shorten the reference.";
            }
            return null;
        }
        Integer n = maxTokens.get();
        if (n == null || n < 1) {
            return "Max tokens must be at least 1; got " + n + ".";
        }
        if (promptIds.length + n > positions) {
            return "The prompt (" + promptIds.length + " tokens) plus " + n + " new tokens exceed the model's " + positions
                    + " positions; shorten the prompt or lower max tokens.";
        }
        return null;
    }
}
