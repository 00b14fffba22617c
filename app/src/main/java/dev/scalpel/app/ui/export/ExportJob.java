package dev.scalpel.app.ui.export;

import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobContext;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditsFile;
import dev.scalpel.engine.edit.LoraEdit;
import dev.scalpel.engine.export.MergedCheckpointExporter;
import dev.scalpel.engine.export.PeftAdapterExporter;
import dev.scalpel.engine.groups.HeadGroup;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.TensorPairFile;
import dev.scalpel.engine.model.safetensors.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.stream.Stream;

/**
 * One export, with everything it needs taken from the session on the UI thread; runs on a worker and returns the
 * bytes it wrote. All writes are atomic and never go into the base model's folder (the engine's writers refuse).
 *
 * @param heads     for {@link ExportFormat#HEAD_GROUP}: the heads to save
 * @param groupName for {@link ExportFormat#HEAD_GROUP}: the group's name
 * @param dtype     for {@link ExportFormat#HF_CHECKPOINT}: F32, F16 or BF16
 */
record ExportJob(LoadedModel model, String modelHash, ExportFormat format, Path destination, List<Edit> edits,
                 DType dtype, HeadSet heads, String groupName) implements Job<Long> {

    ExportJob {
        edits = List.copyOf(edits);
    }

    @Override
    public String title() {
        return "Export " + format.label() + " to " + destination;
    }

    @Override
    public Long run(JobContext context) throws IOException {
        if (context.cancelled()) {
            throw new CancellationException("export cancelled before anything was written");
        }
        context.progress(-1, "writing " + format.label() + " …");
        switch (format) {
            case HF_CHECKPOINT -> MergedCheckpointExporter.write(model, edits, destination, dtype);
            case PEFT_ADAPTER -> PeftAdapterExporter.write(model, (LoraEdit) edits.get(0), destination);
            case HEAD_GROUP -> {
                HeadGroup group = HeadGroup.extract(model.model(), modelHash, groupName, heads, edits, provenance());
                try {
                    group.write(destination, List.of(model.dir()));
                } finally {
                    group.close();
                }
            }
            case EDITS_FILE -> EditsFile.write(destination, modelHash, edits, List.of(model.dir()));
        }
        long bytes = bytesWritten();
        context.progress(1, "wrote " + destination);
        return bytes;
    }

    private Map<String, Object> provenance() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", model.dir().toAbsolutePath().toString());
        out.put("edits", edits.isEmpty() ? "none" : edits.stream().map(Edit::describe).toList());
        return out;
    }

    /** The size of what was written: the folder's files, or the JSON and the safetensors beside it. */
    private long bytesWritten() throws IOException {
        List<Path> files;
        if (format.toFolder()) {
            try (Stream<Path> list = Files.list(destination)) {
                files = list.filter(Files::isRegularFile).toList();
            }
        } else {
            files = TensorPairFile.files(destination);
        }
        long total = 0;
        for (Path f : files) {
            total += Files.size(f);
        }
        return total;
    }
}
