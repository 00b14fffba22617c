package dev.scalpel.app.ui.train;

/** What the Train dialog trains: which kind of edit, on which part of the model. */
public enum TrainMethod {
    HEAD_LORA("head-LoRA on the marked heads", true),
    MODULE_LORA("module LoRA", false),
    HEAD_FINETUNE("isolated head fine-tune on the marked heads", true),
    HEAD_FINETUNE_PER_HEAD_LR("head fine-tune, per-head LR from the map", true),
    PREFACTOR("scalar prefactor on the chosen component", false);

    private final String label;
    private final boolean onMarkedHeads;

    TrainMethod(String label, boolean onMarkedHeads) {
        this.label = label;
        this.onMarkedHeads = onMarkedHeads;
    }

    /** Whether the edit trains the heads marked for training on the heatmap. */
    public boolean onMarkedHeads() {
        return onMarkedHeads;
    }

    /** Whether the LoRA rank setting applies. */
    public boolean usesLoraRank() {
        return this == HEAD_LORA || this == MODULE_LORA;
    }

    /** The label the method chooser shows. */
    @Override
    public String toString() {
        return label;
    }
}
