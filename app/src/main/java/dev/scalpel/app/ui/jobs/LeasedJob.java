package dev.scalpel.app.ui.jobs;

import dev.scalpel.engine.session.Snapshot;
import java.util.function.Supplier;

/**
 * A job that reads the model's weights, run while it holds a snapshot of the session (a lease on the weights), so no
 * head group can be swapped in or out under it: what it computes is what it would compute alone.
 */
public final class LeasedJob<T> implements Job<T> {
    private final Supplier<Snapshot> snapshots;
    private final Job<T> job;

    /** @param snapshots takes the session's snapshot, e.g. {@code session::snapshot}; called on the job's thread */
    public LeasedJob(Supplier<Snapshot> snapshots, Job<T> job) {
        this.snapshots = snapshots;
        this.job = job;
    }

    @Override
    public String title() {
        return job.title();
    }

    @Override
    public T run(JobContext context) throws Exception {
        try (Snapshot lease = snapshots.get()) {
            return job.run(context);
        }
    }
}
