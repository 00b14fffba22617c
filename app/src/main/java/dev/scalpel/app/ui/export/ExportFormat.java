package dev.scalpel.app.ui.export;

import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.spec.ExportSpec;

/** What the Export dialog can write, and whether it goes into a folder or to a {@code NAME.json} file. */
public enum ExportFormat {
    /** The model with the edits merged, as a Hugging Face folder. */
    HF_CHECKPOINT("HF merged checkpoint", ExportSpec.Format.HF),
    /** The one LoRA or head-LoRA edit on the stack, as a PEFT adapter folder. */
    PEFT_ADAPTER("PEFT adapter", ExportSpec.Format.PEFT),
    /** The heads marked for training, as a head-group file. */
    HEAD_GROUP("head group", ExportSpec.Format.GROUP),
    /** The edit stack, as an edits file. */
    EDITS_FILE("edits file", ExportSpec.Format.EDITS);

    private final String label;
    private final ExportSpec.Format spec;

    ExportFormat(String label, ExportSpec.Format spec) {
        this.label = label;
        this.spec = spec;
    }

    /** The engine spec's format. */
    public ExportSpec.Format spec() {
        return spec;
    }

    /** e.g. "HF merged checkpoint". */
    public String label() {
        return label;
    }

    /** True: the destination is a folder; false: a {@code NAME.json} file with its tensors file beside it. */
    public boolean toFolder() {
        return spec.output().isFolder();
    }

    /** What the engine's output guard checks the destination as. */
    public OutputKind output() {
        return spec.output();
    }

    @Override
    public String toString() {
        return label;
    }
}
