package dev.scalpel.app.ui.jobs;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import javafx.application.Platform;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;
import javafx.concurrent.Task;

/**
 * Runs jobs on daemon worker threads as JavaFX {@link Task}s, which the jobs panel (a ControlsFX TaskProgressView) shows
 * with progress, message and a cancel button. Several jobs may run at once (an A/B generation while a training job
 * runs is the point of train-while-serving). Cancel only sets a flag the job checks; the thread is never interrupted.
 */
public final class FxJobRunner implements JobRunner, AutoCloseable {
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "scalpel-job");
        t.setDaemon(true);
        return t;
    });
    private final ObservableList<Task<?>> running = FXCollections.observableArrayList();

    /** The jobs now running (FX thread only); a task leaves the list when it ends. */
    public ObservableList<Task<?>> running() {
        return running;
    }

    @Override
    public <T> JobHandle submit(Job<T> job, Consumer<? super T> onSuccess, Consumer<? super Throwable> onFailure) {
        JobTask<T> task = new JobTask<>(job, onSuccess, onFailure);
        running.add(task);
        task.runningProperty().addListener((obs, was, now) -> {
            if (!now && task.isDone()) {
                running.remove(task);
            }
        });
        workers.execute(task);
        return new JobHandle() {
            @Override
            public void cancel() {
                task.cancel(false);
            }

            @Override
            public boolean isDone() {
                return task.isDone();
            }
        };
    }

    @Override
    public void close() {
        workers.shutdownNow();
    }

    /** One job as a Task: the callbacks run on the FX thread whether or not the user cancelled. */
    private static final class JobTask<T> extends Task<T> {
        private final Job<T> job;
        private final Consumer<? super T> onSuccess;
        private final Consumer<? super Throwable> onFailure;
        private final AtomicBoolean cancelRequested = new AtomicBoolean();

        JobTask(Job<T> job, Consumer<? super T> onSuccess, Consumer<? super Throwable> onFailure) {
            this.job = job;
            this.onSuccess = onSuccess;
            this.onFailure = onFailure;
            updateTitle(job.title());
            updateMessage("waiting");
        }

        @Override
        protected T call() throws Exception {
            JobContext context = new JobContext() {
                @Override
                public void progress(double fraction, String message) {
                    updateProgress(fraction < 0 ? -1 : Math.min(1, fraction), 1);
                    updateMessage(message);
                }

                @Override
                public boolean cancelled() {
                    return cancelRequested.get();
                }
            };
            T result;
            try {
                result = job.run(context);
            } catch (Exception | Error e) {
                Throwable reported = JobFailures.reported(job.title(), e);
                Platform.runLater(() -> onFailure.accept(reported));
                throw e;
            }
            Platform.runLater(() -> onSuccess.accept(result));
            return result;
        }

        /** The panel's cancel button: a flag for the job, never a thread interrupt. */
        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            cancelRequested.set(true);
            updateMessage("cancelling …");
            return true;
        }
    }
}
