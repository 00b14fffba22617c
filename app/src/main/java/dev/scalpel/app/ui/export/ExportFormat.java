package dev.scalpel.app.ui.export;

import dev.scalpel.engine.files.OutputKind;

/** What the Export dialog can write, and whether it goes into a folder or to a {@code NAME.json} file. */
public enum ExportFormat {
    /** The model with the edits merged, as a Hugging Face folder. */
    HF_CHECKPOINT("HF merged checkpoint", OutputKind.HF_CHECKPOINT),
    /** The one LoRA or head-LoRA edit on the stack, as a PEFT adapter folder. */
    PEFT_ADAPTER("PEFT adapter", OutputKind.PEFT_ADAPTER),
    /** The heads marked for training, as a head-group file. */
    HEAD_GROUP("head group", OutputKind.HEAD_GROUP),
    /** The edit stack, as an edits file. */
    EDITS_FILE("edits file", OutputKind.EDITS);

    private final String label;
    private final OutputKind output;

    ExportFormat(String label, OutputKind output) {
        this.label = label;
        this.output = output;
    }

    /** e.g. "HF merged checkpoint". */
    public String label() {
        return label;
    }

    /** True: the destination is a folder; false: a {@code NAME.json} file with its tensors file beside it. */
    public boolean toFolder() {
        return output.isFolder();
    }

    /** What the engine's output guard checks the destination as. */
    public OutputKind output() {
        return output;
    }

    @Override
    public String toString() {
        return label;
    }
}
