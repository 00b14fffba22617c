package dev.scalpel.engine.export;

import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.groups.HeadGroup;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.TensorPairFile;
import dev.scalpel.engine.spec.ExportSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs an {@link ExportSpec}: the model as loaded (head groups swapped in included) with {@code edits} merged, as an HF
 * checkpoint, the one LoRA edit as a PEFT adapter, the spec's heads as a head group, or the edits as an edits file.
 * Every writer goes through the output guard; the base model is never written.
 */
public final class Exporter {
    private Exporter() {}

    /**
     * @param modelHash  the checkpoint's content hash (edits files and head groups name it)
     * @param provenance recorded in a head group
     * @return the files written
     */
    public static List<Path> export(LoadedModel m, String modelHash, List<Edit> edits, ExportSpec spec,
                                    Map<String, Object> provenance) throws IOException {
        Path out = Path.of(spec.out());
        switch (spec.format()) {
            case HF -> MergedCheckpointExporter.write(m, edits, out, spec.dtypeOrInput(), spec.allowNonFinite());
            case PEFT -> PeftAdapterExporter.write(m, peftEdit(edits), out, spec.allowNonFinite());
            case GROUP -> {
                HeadGroup group = HeadGroup.extract(m.model(), modelHash, spec.groupName(),
                        HeadSet.parse(spec.heads(), m.config().headGrid()), edits, provenance);
                try {
                    group.write(out, List.of(m.dir()));
                } finally {
                    group.close();
                }
            }
            case EDITS -> EditsFile.write(out, modelHash, edits, List.of(m.dir()));
        }
        if (spec.format().output().isFolder()) {
            try (Stream<Path> files = Files.list(out)) {
                return files.filter(Files::isRegularFile).sorted().toList();
            }
        }
        return TensorPairFile.files(out);
    }

    /** The stack's only edit when it is a LoRA or head-LoRA; otherwise a refusal that says why. */
    public static LoraEdit peftEdit(List<Edit> edits) {
        if (edits.size() != 1 || !(edits.get(0) instanceof LoraEdit lora)) {
            throw new ScalpelException("A PEFT adapter holds one LoRA or head-LoRA edit; the edits are "
                    + edits.stream().map(Edit::kind).toList() + ". Export them as an hf checkpoint instead.");
        }
        return lora;
    }
}
