package dev.scalpel.app.ui.jobs;

/**
 * A long piece of work (importance, training, eval, export, generation) that the workbench runs off the UI thread.
 * It reports progress through its {@link JobContext} and checks {@link JobContext#cancelled()} between steps: a
 * cancelled job either returns what it completed (training keeps its finished steps) or throws
 * {@link java.util.concurrent.CancellationException} (nothing changed).
 *
 * @param <T> what the job produces; handed to the success callback on the UI thread
 */
public interface Job<T> {

    /** Shown in the jobs panel, e.g. "Train head-LoRA on L1H1,L2H1". */
    String title();

    /** Does the work on a background thread. */
    T run(JobContext context) throws Exception;
}
