package dev.scalpel.engine.session;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadMark;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.groups.HeadGroup;
import dev.scalpel.engine.groups.HeadGroupRegistry;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelHash;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one owner of a loaded model and every change to it: the edit stack, the head groups swapped in, the named texts
 * and the user's head marks.
 * Jobs do not read this object's state as it changes; each takes a {@link Snapshot} (state + a lease on the weights) and
 * reads only that. The checkpoint's weights change only when a head group is swapped in or out, in place, and only while
 * no snapshot is open: such a swap waits for running jobs ({@link Busy#WAIT}) or is refused ({@link Busy#REFUSE}, for a
 * UI that must not block). Edits are overlays and never change the weights. Thread-safe.
 */
public final class ModelSession implements AutoCloseable {
    /** What a head-group swap does while jobs hold snapshots. */
    public enum Busy { WAIT, REFUSE }

    private final LoadedModel model;
    private final String modelHash;
    private final HeadGroupRegistry registry;
    private final WeightLeases leases = new WeightLeases();
    /** Loaded group name → its content hash, for {@link Snapshot#weightsKey}. */
    private final Map<String, String> groupHashes = new TreeMap<>();
    private List<Edit> edits = List.of();
    private Map<String, long[]> texts = Map.of();
    private Map<HeadId, HeadMark> marks = Map.of();

    public ModelSession(LoadedModel model) {
        this.model = model;
        this.modelHash = ModelHash.of(model.dir());
        this.registry = new HeadGroupRegistry(model.model());
    }

    public LoadedModel model() {
        return model;
    }

    /** The checkpoint's content hash (what edits files and head groups name). */
    public String modelHash() {
        return modelHash;
    }

    /** The state now, with a lease on the weights until the snapshot is closed. Waits while a head group is being swapped. */
    public Snapshot snapshot() {
        leases.acquire();
        synchronized (this) {
            return new Snapshot(model, weightsKey(), edits, registry.loaded(), texts, marks, leases);
        }
    }

    /** Snapshots open now (jobs reading the weights). */
    public int runningReaders() {
        return leases.held();
    }

    /** The edit stack, oldest first. */
    public synchronized List<Edit> edits() {
        return edits;
    }

    /** Replaces the edit stack (the edits themselves are owned by the caller, e.g. an undo history). */
    public synchronized void setEdits(List<Edit> stack) {
        edits = List.copyOf(stack);
    }

    /** Text name → token ids. */
    public synchronized Map<String, long[]> texts() {
        return texts;
    }

    /** Adds or replaces a named text. */
    public synchronized void putText(String name, long[] ids) {
        Map<String, long[]> next = new LinkedHashMap<>(texts);
        next.put(name, Arrays.copyOf(ids, ids.length));
        texts = java.util.Collections.unmodifiableMap(next);
    }

    /** The user's head marks (heads absent are unmarked). */
    public synchronized Map<HeadId, HeadMark> marks() {
        return marks;
    }

    /** Replaces the head marks. */
    public synchronized void setMarks(Map<HeadId, HeadMark> now) {
        marks = Map.copyOf(now);
    }

    /** Loaded group name → the heads it took. */
    public synchronized Map<String, HeadSet> loadedGroups() {
        return registry.loaded();
    }

    /** Heads {@code group} would take that loaded groups own, with their owner. */
    public synchronized Map<HeadId, String> conflicts(HeadGroup group) {
        return registry.conflicts(group);
    }

    /**
     * Swaps {@code group} into the weights.
     *
     * @throws ScalpelException when {@code busy} is REFUSE and jobs are reading the weights, or the group does not fit
     * @throws HeadGroupRegistry.ConflictException with {@link HeadGroupRegistry.OnConflict#CANCEL} and a conflict
     */
    public HeadSet applyGroup(HeadGroup group, HeadGroupRegistry.OnConflict onConflict, Busy busy) {
        HeadSet[] taken = new HeadSet[1];
        write("swap in head group " + group.name(), busy, () -> {
            taken[0] = registry.apply(group, onConflict);
            groupHashes.keySet().retainAll(registry.loaded().keySet());   // REPLACE swapped others out
            groupHashes.put(group.name(), group.contentHash());
        });
        return taken[0];
    }

    /** Swaps a loaded group out, restoring exactly the weights it displaced. */
    public void swapOutGroup(String name, Busy busy) {
        write("swap out head group " + name, busy, () -> {
            registry.swapOut(name);
            groupHashes.remove(name);
        });
    }

    private void write(String what, Busy busy, Runnable change) {
        boolean done;
        try {
            done = leases.exclusive(busy == Busy.WAIT, () -> {
                synchronized (this) {
                    change.run();
                }
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ScalpelException("Interrupted while waiting for running jobs to " + what + "; nothing was changed.", e);
        }
        if (!done) {
            int n = leases.held();
            throw new ScalpelException("Cannot " + what + " now: " + n + (n == 1 ? " running job reads" : " running jobs read")
                    + " the weights; swap when " + (n == 1 ? "it ends" : "they end") + ", or cancel " + (n == 1 ? "it" : "them") + ".");
        }
    }

    /** The checkpoint's hash alone, or a hash of it with each loaded group's name, heads and content. */
    private String weightsKey() {
        if (groupHashes.isEmpty()) {
            return modelHash;
        }
        List<String> parts = new ArrayList<>(List.of(modelHash));
        Map<String, HeadSet> loaded = registry.loaded();
        groupHashes.forEach((name, hash) -> parts.add(name + "|" + loaded.get(name) + "|" + hash));
        return ModelHash.ofText(String.join("\n", parts));
    }

    /** Swaps every group out and closes the model; the edits belong to whoever made them. */
    @Override
    public void close() {
        synchronized (this) {
            registry.close();
        }
        model.close();
    }
}
