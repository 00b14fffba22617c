package dev.scalpel.app.ui.train;

import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobContext;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.job.TrainingJobResult;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * File ▸ Import job…: the edit a job folder's {@code run.py} trained (torchrun / accelerate / Slurm), read and rebuilt
 * for the session's model off the UI thread. The caller puts it on the session's edit stack (undoable).
 */
public final class TrainingJobImport implements Job<TrainingJobImport.Imported> {
    private final Session session;
    private final Path jobDir;

    /** The trained edit and how it was trained. */
    public record Imported(Edit edit, TrainingJobResult.Run run) {
        /** One line for the status bar. */
        public String summary() {
            var metrics = run.metrics();
            return String.format(Locale.ROOT, "imported %s, trained by run.py on %d process(es) in %d steps%s; base weights unchanged: %s",
                    edit.describe(), run.processes(), metrics.size(),
                    metrics.isEmpty() ? "" : String.format(Locale.ROOT, ", last loss %.4f", metrics.get(metrics.size() - 1).loss()),
                    run.baseWeightsUnchanged() ? "yes" : "NO");
        }
    }

    public TrainingJobImport(Session session, Path jobDir) {
        this.session = session;
        this.jobDir = jobDir;
    }

    @Override
    public String title() {
        return "Import job " + jobDir.getFileName();
    }

    @Override
    public Imported run(JobContext context) {
        TrainingJobResult.Run run = TrainingJobResult.read(jobDir);
        List<Edit> edits = TrainingJobResult.edits(run, session.model().model(), session.modelHash());
        if (edits.size() != 1) {
            edits.forEach(Edit::close);
            throw new ScalpelException("The job's result/edits.json holds " + edits.size() + " edits, not the one a job trains; "
                    + "run the job again.");
        }
        return new Imported(edits.get(0), run);
    }
}
