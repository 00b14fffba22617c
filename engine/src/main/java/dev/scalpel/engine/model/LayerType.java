package dev.scalpel.engine.model;

import dev.scalpel.engine.api.ScalpelException;

/** What a decoder layer's attention sees, as config.json's {@code layer_types} names it. */
public enum LayerType {
    /** Every earlier position. */
    FULL_ATTENTION("full_attention"),
    /** At most {@code sliding_window} positions back (the query's own position included). */
    SLIDING_ATTENTION("sliding_attention"),
    /** A Gated DeltaNet layer (Qwen3.5): linear attention through a per-head recurrent state instead of softmax. */
    LINEAR_ATTENTION("linear_attention");

    private final String configName;

    LayerType(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    /** The type config.json calls {@code name}; refuses a kind of layer Scalpel does not run. */
    public static LayerType of(String name) {
        for (LayerType t : values()) {
            if (t.configName.equals(name)) {
                return t;
            }
        }
        throw new ScalpelException("Unsupported layer type '" + name + "' in layer_types; Scalpel runs full_attention, "
                + "sliding_attention and (Qwen3.5) linear_attention layers.");
    }
}
