package dev.scalpel.engine.model;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** Hooks registered by hook point name ({@link HookPoints}); run in registration order. */
public final class Hooks {
    private final Map<String, List<Hook>> byPoint = new HashMap<>();

    public Hooks add(String point, Hook hook) {
        byPoint.computeIfAbsent(point, p -> new ArrayList<>()).add(hook);
        return this;
    }

    public boolean has(String point) {
        return byPoint.containsKey(point);
    }

    /** Runs every hook at {@code point} on {@code x}; returns x itself when none is registered. */
    public Tensor run(String point, Tensor x) {
        List<Hook> hooks = byPoint.get(point);
        if (hooks == null) {
            return x;
        }
        Tensor out = x;
        for (Hook h : hooks) {
            out = h.apply(out);
        }
        return out;
    }

    /**
     * Registers capture hooks that keep a detached copy of each named activation in the returned map.
     * The copies outlive any {@code PointerScope} of the forward pass; close them when done.
     */
    public Map<String, Tensor> capture(String... points) {
        Map<String, Tensor> captured = new LinkedHashMap<>();
        for (String p : points) {
            add(p, x -> {
                Tensor copy = x.detach().clone();
                copy.retainReference();
                Tensor old = captured.put(p, copy);
                if (old != null) {
                    old.releaseReference();
                }
                return x;
            });
        }
        return captured;
    }
}
