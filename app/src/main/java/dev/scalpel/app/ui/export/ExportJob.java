package dev.scalpel.app.ui.export;

import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobContext;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.export.Exporter;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.spec.ExportSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;

/**
 * One export as the engine's {@link ExportSpec} (the same record {@code scalpel export} builds from its flags), with
 * the edits taken from the session on the UI thread; runs on a worker through {@link Exporter} and returns the bytes
 * it wrote. All writes go through the output guard: never into a model folder.
 *
 * @param label what is exported, in words ("HF merged checkpoint")
 */
record ExportJob(LoadedModel model, String modelHash, String label, ExportSpec spec, List<Edit> edits) implements Job<Long> {

    ExportJob {
        edits = List.copyOf(edits);
    }

    @Override
    public String title() {
        return "Export " + label + " to " + spec.out();
    }

    /** Where it writes. */
    Path destination() {
        return Path.of(spec.out());
    }

    @Override
    public Long run(JobContext context) throws IOException {
        if (context.cancelled()) {
            throw new CancellationException("export cancelled before anything was written");
        }
        context.progress(-1, "writing " + label + " …");
        long bytes = 0;
        for (Path f : Exporter.export(model, modelHash, edits, spec, provenance())) {
            bytes += Files.size(f);
        }
        context.progress(1, "wrote " + spec.out());
        return bytes;
    }

    private Map<String, Object> provenance() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", model.dir().toAbsolutePath().toString());
        out.put("edits", edits.isEmpty() ? "none" : edits.stream().map(Edit::describe).toList());
        return out;
    }
}
