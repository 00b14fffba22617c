package dev.scalpel.app.ui.compare;

import dev.scalpel.app.ui.jobs.LeasedJob;
import dev.scalpel.app.ui.jobs.JobStatus;
import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.JobRunner;
import dev.scalpel.engine.api.LanguageLoss;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Locale;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;

/**
 * State and action of the per-language eval: {@link #evaluate()} measures the mean cross-entropy of the base model
 * and of the edited model (the session's edits) on every session text, for a chart of "what the edit did to each
 * language" next to the uniform baseline ln V. Lives on the UI thread.
 */
public final class LanguageEvalViewModel {
    /** Longest evaluation window, in tokens (the model's max positions when smaller). */
    public static final int CONTEXT = 256;

    private final Session session;
    private final JobRunner jobs;
    private final ObjectProperty<Integer> maxTokens = new SimpleObjectProperty<>(this, "maxTokens", Session.TEXT_TOKENS);
    private final ObservableList<LanguageLoss> base = FXCollections.observableArrayList();
    private final ObservableList<LanguageLoss> edited = FXCollections.observableArrayList();
    private final JobStatus job;

    public LanguageEvalViewModel(Session session, JobRunner jobs) {
        this.session = session;
        this.jobs = jobs;
        this.job = new JobStatus("Evaluate to see each language's CE before and after the edits.");
    }

    /** Each text is scored on at most its first this many tokens (default all that the session keeps). */
    public ObjectProperty<Integer> maxTokensProperty() {
        return maxTokens;
    }

    /** Base model CE per text, in the session's text order. */
    public ObservableList<LanguageLoss> base() {
        return base;
    }

    /** Edited model CE per text, same order; empty when there were no edits. */
    public ObservableList<LanguageLoss> edited() {
        return edited;
    }

    /** ln V, the CE of a uniform guess, in nats. */
    public double uniformCe() {
        return session.uniformCe();
    }

    public ReadOnlyStringProperty statusProperty() {
        return job.statusProperty();
    }

    /** What is wrong, with what to do; "" when nothing is. */
    public ReadOnlyStringProperty problemProperty() {
        return job.problemProperty();
    }

    public ReadOnlyBooleanProperty busyProperty() {
        return job.busyProperty();
    }

    /** Evaluates base and edited model on every session text, off the UI thread. */
    public void evaluate() {
        if (job.refuseIfBusy()) {
            return;
        }
        if (session.texts().isEmpty()) {
            job.problem("There are no texts to evaluate on; add a text file first.");
            return;
        }
        Integer n = maxTokens.get();
        if (n == null || n < 2) {
            job.problem("Tokens per text must be at least 2; got " + n + ".");
            return;
        }
        Map<String, long[]> texts = new LinkedHashMap<>();
        session.texts().forEach((name, ids) -> texts.put(name, Arrays.copyOf(ids, Math.min(ids.length, n))));
        int edits = session.edits().size();
        job.submit(jobs, new LeasedJob<>(session::snapshot, new LanguageEvalJob(session.model(), texts, session.overlay(),
                Math.min(CONTEXT, session.summary().maxPositions()))), result -> {
            base.setAll(result.base());
            edited.setAll(result.edited());
            job.status(edits == 0
                    ? String.format(Locale.ROOT, "No edits: only the base model was evaluated on %d texts (uniform ln V = %.3f nats).",
                            result.base().size(), uniformCe())
                    : String.format(Locale.ROOT, "Base and %d edit%s evaluated on %d texts (uniform ln V = %.3f nats).",
                            edits, edits == 1 ? "" : "s", result.base().size(), uniformCe()));
        });
    }
}
