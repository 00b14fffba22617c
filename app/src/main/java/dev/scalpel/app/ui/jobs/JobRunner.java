package dev.scalpel.app.ui.jobs;

import java.util.function.Consumer;

/**
 * Runs {@link Job}s off the UI thread and hands their outcome back on it. The app uses {@link FxJobRunner}; tests use
 * {@link DirectJobRunner}, which runs everything at once on the calling thread.
 */
public interface JobRunner {

    /**
     * Starts {@code job}. Exactly one callback runs afterwards, on the UI thread: {@code onSuccess} with what the job
     * returned, or {@code onFailure} with what it threw.
     */
    <T> JobHandle submit(Job<T> job, Consumer<? super T> onSuccess, Consumer<? super Throwable> onFailure);
}
