package dev.scalpel.app.ui.jobs;

/** A submitted job, as its submitter sees it. */
public interface JobHandle {

    /** Asks the job to stop at its next check; never interrupts the thread (that would close memory-mapped files). */
    void cancel();

    /** Whether the job has finished (returned, failed or stopped after a cancel). */
    boolean isDone();
}
