package dev.scalpel.engine.groups;

import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.HeadLayout;
import dev.scalpel.engine.edit.Slice;
import dev.scalpel.engine.model.CausalLM;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Head groups swapped in and out of a loaded model in place (no reload). The registry knows which group owns which
 * head (and, with GQA, which kv head) and keeps the weights each group displaced, so swapping a group out restores
 * them bit for bit. Two groups claiming the same head is a conflict, resolved only as the caller says.
 */
public final class HeadGroupRegistry implements AutoCloseable {
    /** What to do when a group claims heads another loaded group owns. */
    public enum OnConflict { CANCEL, REPLACE, KEEP }

    /** A refused apply: which heads are contested and by whom. */
    public static final class ConflictException extends ScalpelException {
        private static final long serialVersionUID = 1L;
        private final transient Map<HeadId, String> contested;

        ConflictException(String group, Map<HeadId, String> contested) {
            super("Head group '" + group + "' claims heads that loaded groups own: " + describe(contested)
                    + "; choose replace (swap those groups out), keep (apply only the free heads) or cancel.");
            this.contested = Map.copyOf(contested);
        }

        public Map<HeadId, String> contested() {
            return contested;
        }

        private static String describe(Map<HeadId, String> contested) {
            StringBuilder b = new StringBuilder();
            contested.forEach((h, g) -> b.append(b.length() == 0 ? "" : ", ").append(h).append(" (").append(g).append(")"));
            return b.toString();
        }
    }

    /**
     * One loaded group: the heads it took and the weights it displaced, once per weight slice (with GQA two heads of a
     * group share their k/v slices).
     */
    private record Loaded(HeadSet heads, Map<Slice, Tensor> displaced) {}

    private final CausalLM model;
    private final HeadLayout layout;
    private final Map<String, Loaded> loaded = new LinkedHashMap<>();

    public HeadGroupRegistry(CausalLM model) {
        this.model = model;
        this.layout = new HeadLayout(model.config());
    }

    /** Loaded group name → the heads it owns. */
    public Map<String, HeadSet> loaded() {
        Map<String, HeadSet> out = new LinkedHashMap<>();
        loaded.forEach((name, l) -> out.put(name, l.heads()));
        return out;
    }

    /** Heads of {@code group} that a loaded group owns (directly, or through a shared kv head), with the owner. */
    public Map<HeadId, String> conflicts(HeadGroup group) {
        Map<HeadId, String> contested = new LinkedHashMap<>();
        for (HeadId h : group.heads().heads()) {
            for (var e : loaded.entrySet()) {
                if (!e.getKey().equals(group.name()) && (e.getValue().heads().contains(h) || sharesKvHead(e.getValue().heads(), h))) {
                    contested.put(h, e.getKey());
                }
            }
        }
        return contested;
    }

    /** Whether a head of {@code owned} shares a weight slice with {@code h} (a GQA kv head, a DeltaNet key head). */
    private boolean sharesKvHead(HeadSet owned, HeadId h) {
        return Arrays.stream(HeadLayout.Projection.values()).anyMatch(p -> layout.sharing(h, p).stream().anyMatch(owned::contains));
    }

    /** Swaps {@code group} in; returns the heads it took (fewer than its own with KEEP). */
    public HeadSet apply(HeadGroup group, OnConflict onConflict) {
        group.checkCompatible(model.config());
        if (loaded.containsKey(group.name())) {
            throw new ScalpelException("A head group named '" + group.name() + "' is already loaded; swap it out first.");
        }
        Map<HeadId, String> contested = conflicts(group);
        Set<HeadId> take = new LinkedHashSet<>(group.heads().heads());
        if (!contested.isEmpty()) {
            switch (onConflict) {
                case CANCEL -> throw new ConflictException(group.name(), contested);
                case REPLACE -> new LinkedHashSet<>(contested.values()).forEach(this::swapOut);
                case KEEP -> take.removeAll(contested.keySet());
            }
        }
        Map<Slice, Tensor> displaced = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (HeadId h : take) {
                for (HeadLayout.Projection p : HeadLayout.Projection.values()) {
                    Slice s = layout.slice(h, p);
                    Tensor slot = slot(s);
                    if (!displaced.containsKey(s)) {
                        Tensor original = slot.clone();
                        original.retainReference();
                        displaced.put(s, original);
                    }
                    slot.copy_(group.tensors().get(HeadGroup.key(h, p)));
                }
            }
        }
        HeadSet taken = HeadSet.of(take);
        loaded.put(group.name(), new Loaded(taken, displaced));
        return taken;
    }

    /** Swaps a loaded group out, restoring exactly the weights it displaced. */
    public void swapOut(String name) {
        Loaded l = loaded.remove(name);
        if (l == null) {
            throw new ScalpelException("No head group named '" + name + "' is loaded; loaded: " + loaded.keySet() + ".");
        }
        try (NoGradGuard g = new NoGradGuard()) {
            l.displaced().forEach((slice, original) -> slot(slice).copy_(original));
        }
        l.displaced().values().forEach(Tensor::releaseReference);
    }

    /** The in-place view of a slice of the model's weights. */
    private Tensor slot(Slice s) {
        return model.weights().get(s.weightName()).narrow(s.dim(), s.indices().get(0), s.size());
    }

    @Override
    public void close() {
        new ArrayList<>(loaded.keySet()).forEach(this::swapOut);
    }
}
