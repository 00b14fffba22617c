package dev.scalpel.engine.session;

/**
 * Who may touch a model's weights now: any number of readers (jobs, each holding a lease while it reads), or one
 * writer (a head-group swap copying into the weights). A writer waits until no lease is held, and new leases wait while
 * it writes, so no job ever sees a half-swapped model.
 */
final class WeightLeases {
    private int readers;
    private boolean writing;

    /** Takes a lease, waiting while a writer is at work. */
    synchronized void acquire() {
        boolean interrupted = false;
        while (writing) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;   // a lease is not abandoned half-way; the interrupt is kept for the caller
            }
        }
        readers++;
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    synchronized void release() {
        if (readers == 0) {
            throw new IllegalStateException("a weight lease was released twice");
        }
        readers--;
        notifyAll();
    }

    /** Leases held now. */
    synchronized int held() {
        return readers;
    }

    /**
     * Runs {@code write} alone: after every lease is released (waiting for them when {@code wait}), with new leases
     * held back until it is done.
     *
     * @return false, without running it, when {@code wait} is false and leases are held
     */
    boolean exclusive(boolean wait, Runnable write) throws InterruptedException {
        synchronized (this) {
            if (!wait && (readers > 0 || writing)) {
                return false;
            }
            while (readers > 0 || writing) {
                wait();
            }
            writing = true;
        }
        try {
            write.run();
            return true;
        } finally {
            synchronized (this) {
                writing = false;
                notifyAll();
            }
        }
    }
}
