package dev.scalpel.app.ui.jobs;

import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyBooleanWrapper;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.ReadOnlyStringWrapper;

/**
 * The status line, problem line and busy flag of a view that runs one job at a time: a job sets busy while it runs,
 * its title in the status line, and on failure its message (a {@link dev.scalpel.engine.api.ScalpelException}'s plain
 * sentence) in the problem line; a cancel is reported as such. UI thread only.
 */
public final class JobStatus {
    private final ReadOnlyStringWrapper status = new ReadOnlyStringWrapper(this, "status", "");
    private final ReadOnlyStringWrapper problem = new ReadOnlyStringWrapper(this, "problem", "");
    private final ReadOnlyBooleanWrapper busy = new ReadOnlyBooleanWrapper(this, "busy");

    public JobStatus(String initialStatus) {
        status.set(initialStatus);
    }

    /** One line on what happened last. */
    public ReadOnlyStringProperty statusProperty() {
        return status.getReadOnlyProperty();
    }

    /** What is wrong with the input or the last job, with what to do about it; "" when nothing is. */
    public ReadOnlyStringProperty problemProperty() {
        return problem.getReadOnlyProperty();
    }

    /** True while the view's job runs. */
    public ReadOnlyBooleanProperty busyProperty() {
        return busy.getReadOnlyProperty();
    }

    public void status(String line) {
        status.set(line);
    }

    /** Shows a problem; "" clears it. */
    public void problem(String line) {
        problem.set(line);
    }

    /** True, with a problem line saying so, when the view's job still runs. */
    public boolean refuseIfBusy() {
        if (busy.get()) {
            problem.set("A job of this view is still running; wait for it to finish or cancel it in the jobs panel.");
        }
        return busy.get();
    }

    /** Submits {@code job} (call when {@link #refuseIfBusy()} said no); {@code onSuccess} runs once busy is cleared. */
    public <T> void submit(JobRunner runner, Job<T> job, Consumer<? super T> onSuccess) {
        busy.set(true);
        problem.set("");
        status.set(job.title() + " …");
        runner.submit(job, result -> {
            busy.set(false);
            onSuccess.accept(result);
        }, failure -> {
            busy.set(false);
            if (failure instanceof CancellationException) {
                status.set(job.title() + ": cancelled.");
            } else {
                status.set(job.title() + ": failed.");
                problem.set(failure.getMessage() != null ? failure.getMessage() : failure.toString());
            }
        });
    }
}
