package dev.scalpel.app.ui.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs each job to the end on the calling thread, callbacks included: view-model logic becomes testable without a
 * toolkit or sleeps. {@link #cancelAfterProgressReports(int)} makes the next job see a cancel after that many reports,
 * which is how tests exercise cancellation.
 */
public final class DirectJobRunner implements JobRunner {
    private final List<String> messages = new ArrayList<>();
    private int cancelAfter = Integer.MAX_VALUE;

    /** The next job's {@link JobContext#cancelled()} turns true after {@code reports} progress reports. */
    public DirectJobRunner cancelAfterProgressReports(int reports) {
        cancelAfter = reports;
        return this;
    }

    /** Every progress message reported so far, in order. */
    public List<String> messages() {
        return messages;
    }

    @Override
    public <T> JobHandle submit(Job<T> job, Consumer<? super T> onSuccess, Consumer<? super Throwable> onFailure) {
        int[] reports = {0};
        int limit = cancelAfter;
        cancelAfter = Integer.MAX_VALUE;
        JobContext context = new JobContext() {
            @Override
            public void progress(double fraction, String message) {
                reports[0]++;
                messages.add(message);
            }

            @Override
            public boolean cancelled() {
                return reports[0] >= limit;
            }
        };
        T result;
        try {
            result = job.run(context);
        } catch (Exception | Error e) {
            onFailure.accept(JobFailures.reported(job.title(), e));
            return done();
        }
        onSuccess.accept(result);
        return done();
    }

    private static JobHandle done() {
        return new JobHandle() {
            @Override
            public void cancel() {}

            @Override
            public boolean isDone() {
                return true;
            }
        };
    }
}
