package dev.scalpel.app.ui.jobs;

/** What a running {@link Job} sees of the runner: where to report progress and whether the user asked it to stop. */
public interface JobContext {

    /**
     * Reports progress; callable from the job's thread at any rate (runners coalesce).
     *
     * @param fraction done so far in [0, 1], or a negative number when unknown
     * @param message  one line for the jobs panel, e.g. "step 12/40, loss 3.812"
     */
    void progress(double fraction, String message);

    /** Whether the user cancelled the job; checked by the job between steps. */
    boolean cancelled();
}
