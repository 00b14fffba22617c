package dev.scalpel.engine.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Every weight tensor of a loaded model by its Hugging Face name, float32 on the model's device, in load order.
 * This store owns them: they live as long as the model and are released by {@link #close()}. Architecture records
 * hold views into these tensors, so the forward pass always sees what this store holds.
 */
public final class Weights implements AutoCloseable {
    private final Map<String, Tensor> byName = new LinkedHashMap<>();

    /** Adds a weight; the store keeps a reference until closed. */
    public Tensor put(String name, Tensor tensor) {
        tensor.retainReference();
        Tensor old = byName.put(name, tensor);
        if (old != null) {
            old.releaseReference();
        }
        return tensor;
    }

    public Tensor get(String name) {
        return byName.get(name);
    }

    /** The shape of weight {@code name}, outermost first, or null when the model has no such weight. */
    public long[] shape(String name) {
        Tensor t = byName.get(name);
        return t == null ? null : Tensors.shape(t);
    }

    /** Read-only view, HF name → tensor. */
    public Map<String, Tensor> asMap() {
        return Collections.unmodifiableMap(byName);
    }

    /** Number of scalar parameters in all weights. */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : byName.values()) {
            n += t.numel();
        }
        return n;
    }

    @Override
    public void close() {
        byName.values().forEach(Tensor::releaseReference);
        byName.clear();
    }
}
