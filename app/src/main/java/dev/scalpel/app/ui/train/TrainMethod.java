package dev.scalpel.app.ui.train;

/** What the Train dialog trains: which kind of edit, on which part of the model. */
public enum TrainMethod {
    HEAD_LORA("head-LoRA on the marked heads", true, "head-lora"),
    HEAD_LORA_PER_HEAD_LR("head-LoRA, per-head LR from the map", true, "head-lora"),
    MODULE_LORA("module LoRA", false, "lora"),
    HEAD_FINETUNE("isolated head fine-tune on the marked heads", true, "head-finetune"),
    HEAD_FINETUNE_PER_HEAD_LR("head fine-tune, per-head LR from the map", true, "head-finetune"),
    DELTANET_DECAY("decay (A_log, dt_bias) of the marked Gated DeltaNet heads", true, "deltanet-decay"),
    PREFACTOR("scalar prefactors on the chosen components", false, "prefactor"),
    FULL("full fine-tune of every weight", false, "full");

    private final String label;
    private final boolean onMarkedHeads;
    private final String specMethod;

    TrainMethod(String label, boolean onMarkedHeads, String specMethod) {
        this.label = label;
        this.onMarkedHeads = onMarkedHeads;
        this.specMethod = specMethod;
    }

    /** The {@code "method"} of the engine's EditSpec this builds (a training spec file's name for it). */
    public String specMethod() {
        return specMethod;
    }

    /** Whether the edit trains the heads marked for training on the heatmap. */
    public boolean onMarkedHeads() {
        return onMarkedHeads;
    }

    /** Whether the LoRA rank setting applies. */
    public boolean usesLoraRank() {
        return this == HEAD_LORA || this == HEAD_LORA_PER_HEAD_LR || this == MODULE_LORA;
    }

    /** The label the method chooser shows. */
    @Override
    public String toString() {
        return label;
    }
}
