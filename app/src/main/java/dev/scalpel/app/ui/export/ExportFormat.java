package dev.scalpel.app.ui.export;

/** What the Export dialog can write, and whether it goes into a folder or to a {@code NAME.json} file. */
public enum ExportFormat {
    /** The model with the edits merged, as a Hugging Face folder. */
    HF_CHECKPOINT("HF merged checkpoint", true),
    /** The one LoRA or head-LoRA edit on the stack, as a PEFT adapter folder. */
    PEFT_ADAPTER("PEFT adapter", true),
    /** The heads marked for training, as a head-group file. */
    HEAD_GROUP("head group", false),
    /** The edit stack, as an edits file. */
    EDITS_FILE("edits file", false);

    private final String label;
    private final boolean folder;

    ExportFormat(String label, boolean folder) {
        this.label = label;
        this.folder = folder;
    }

    /** e.g. "HF merged checkpoint". */
    public String label() {
        return label;
    }

    /** True: the destination is a folder; false: a {@code NAME.json} file with {@code NAME.safetensors} beside it. */
    public boolean toFolder() {
        return folder;
    }

    @Override
    public String toString() {
        return label;
    }
}
