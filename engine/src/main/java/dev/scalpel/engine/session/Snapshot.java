package dev.scalpel.engine.session;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadMark;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditOverlay;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.LoadedModel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A model session as it was when a job started: the edits on the stack, the head groups swapped in, the texts and marks,
 * plus a lease on the weights that keeps head groups from being swapped until {@link #close}. A job reads only through
 * its snapshot, so what it computes is what it would compute alone on that state, and it records {@link #weightsKey}.
 */
public final class Snapshot implements AutoCloseable {
    private final LoadedModel model;
    private final String weightsKey;
    private final List<Edit> edits;
    private final Map<String, HeadSet> groups;
    private final Map<String, long[]> texts;
    private final Map<HeadId, HeadMark> marks;
    private final WeightLeases leases;
    private final AtomicBoolean released = new AtomicBoolean();

    Snapshot(LoadedModel model, String weightsKey, List<Edit> edits, Map<String, HeadSet> groups, Map<String, long[]> texts,
             Map<HeadId, HeadMark> marks, WeightLeases leases) {
        this.model = model;
        this.weightsKey = weightsKey;
        this.edits = List.copyOf(edits);
        this.groups = Map.copyOf(groups);
        this.texts = Map.copyOf(texts);
        this.marks = Map.copyOf(marks);
        this.leases = leases;
    }

    /** The model; its weights hold the snapshot's head groups for as long as the snapshot is open. */
    public LoadedModel model() {
        return model;
    }

    /**
     * Names the weights the job sees: the checkpoint's content hash when no group is swapped in, else a hash of it with
     * every loaded group's name, heads and tensors. Caches key on it; maps and results record it.
     */
    public String weightsKey() {
        return weightsKey;
    }

    /** The edit stack, oldest first (the edits stay open while the session is). */
    public List<Edit> edits() {
        return edits;
    }

    /** The edits as an overlay, or null for none (the weights as they are). */
    public LinearOverlay overlay() {
        return edits.isEmpty() ? null : new EditOverlay(edits);
    }

    /** Loaded group name → the heads it took. */
    public Map<String, HeadSet> groups() {
        return groups;
    }

    /** Text name → token ids. */
    public Map<String, long[]> texts() {
        return texts;
    }

    /** The head marks. */
    public Map<HeadId, HeadMark> marks() {
        return marks;
    }

    /** Releases the lease on the weights (once; later calls do nothing). */
    @Override
    public void close() {
        if (released.compareAndSet(false, true)) {
            leases.release();
        }
    }
}
