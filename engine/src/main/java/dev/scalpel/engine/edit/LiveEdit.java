package dev.scalpel.engine.edit;

import dev.scalpel.engine.model.LinearOverlay;
import java.util.List;

/**
 * Train while serving: readers (generation, evaluation, the A/B panel) {@link #acquire} the latest published frozen copy
 * of the edit and run with its overlay, never seeing a half-updated edit; the training thread {@link #publish}es a copy
 * after a step only when it is {@link #wanted} — after the first step, and after any step during which a reader asked —
 * so training without readers makes no per-step copies, and the writer never waits for a reader. A reader sees the
 * state of at most one step before its request. A copy is closed once it is replaced and no reader holds it.
 */
public final class LiveEdit implements AutoCloseable {
    private Snapshot current;
    private boolean requested = true;   // a reader asked since the last publication (or nothing is published yet)
    private long publications;
    private boolean closed;

    /** A published copy, which publication it was (1 = after the first step), and how many readers hold it. */
    private static final class Snapshot {
        final Edit edit;
        final long step;
        int readers;
        boolean replaced;

        Snapshot(Edit edit, long step) {
            this.edit = edit;
            this.step = step;
        }
    }

    /** A reader's hold on one published copy; close it when the forward pass is done. */
    public final class Lease implements AutoCloseable {
        private final Snapshot snapshot;

        private Lease(Snapshot snapshot) {
            this.snapshot = snapshot;
        }

        /** The overlay of the copy, or {@link LinearOverlay#NONE} before the first step was published. */
        public LinearOverlay overlay() {
            return snapshot == null ? LinearOverlay.NONE : new EditOverlay(List.of(snapshot.edit));
        }

        /** The optimizer step this copy shows, 0 before the first was published. */
        public long step() {
            return snapshot == null ? 0 : snapshot.step;
        }

        @Override
        public void close() {
            release(snapshot);
        }
    }

    /** Whether a reader is waiting for a newer copy than the published one: the writer then publishes after its step. */
    public synchronized boolean wanted() {
        return requested;
    }

    /** Publishes {@code frozenCopy} (from {@link Edit#copy()}) as the state after {@code step}; the live edit takes ownership of it. */
    public synchronized void publish(Edit frozenCopy, long step) {
        Snapshot old = current;
        current = new Snapshot(frozenCopy, step);
        requested = false;
        publications++;
        notifyAll();
        if (old != null) {
            old.replaced = true;
            closeIfUnused(old);
        }
    }

    /** How many copies have been published (one per step only while readers keep asking). */
    public synchronized long publications() {
        return publications;
    }

    /** The step of the latest published copy, 0 before the first. */
    public synchronized long publishedStep() {
        return current == null ? 0 : current.step;
    }

    /** The latest published copy, held until the lease is closed; asks the writer for a newer one after its next step. */
    public synchronized Lease acquire() {
        requested = true;
        if (current != null) {
            current.readers++;
        }
        return new Lease(current);
    }

    /**
     * As {@link #acquire}, but first waits (at most {@code timeoutMillis}) for the writer to publish the step it is on,
     * for readers off the training thread that want the newest weights (the A/B panel); on timeout, or once training
     * has ended, the latest published copy.
     */
    public synchronized Lease acquireFresh(long timeoutMillis) throws InterruptedException {
        long seen = publications;
        requested = true;
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (publications == seen && !closed && System.nanoTime() < deadline) {
            wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        }
        return acquire();
    }

    private synchronized void release(Snapshot s) {
        if (s != null) {
            s.readers--;
            closeIfUnused(s);
        }
    }

    private static void closeIfUnused(Snapshot s) {
        if (s.replaced && s.readers == 0) {
            s.edit.close();
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        notifyAll();
        if (current != null) {
            current.replaced = true;
            closeIfUnused(current);
            current = null;
        }
    }
}
