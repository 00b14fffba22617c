package dev.scalpel.engine.edit;

import dev.scalpel.engine.model.LinearOverlay;
import java.util.List;

/**
 * Train while serving: the training thread {@link #publish}es a frozen copy of the edit after each optimizer step;
 * readers (generation, evaluation, the A/B panel) {@link #acquire} the latest copy and run with its overlay, never
 * seeing a half-updated edit. A copy is closed once it is replaced and no reader holds it.
 */
public final class LiveEdit implements AutoCloseable {
    private Snapshot current;
    private long published;

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

        /** How many copies had been published when this one was (the optimizer step it shows), 0 before the first. */
        public long step() {
            return snapshot == null ? 0 : snapshot.step;
        }

        @Override
        public void close() {
            release(snapshot);
        }
    }

    /** Publishes {@code frozenCopy} (from {@link Edit#copy()}); the live edit takes ownership of it. */
    public synchronized void publish(Edit frozenCopy) {
        Snapshot old = current;
        current = new Snapshot(frozenCopy, ++published);
        if (old != null) {
            old.replaced = true;
            closeIfUnused(old);
        }
    }

    /** The latest published copy, held until the lease is closed. */
    public synchronized Lease acquire() {
        if (current != null) {
            current.readers++;
        }
        return new Lease(current);
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
        if (current != null) {
            current.replaced = true;
            closeIfUnused(current);
            current = null;
        }
    }
}
