package dev.scalpel.app.ui.train;

import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobContext;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.job.JobResult;
import dev.scalpel.engine.model.ModelHash;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * File ▸ Import job…: what a job folder's {@code run.py} computed (torchrun / accelerate / Slurm), read off the UI
 * thread for the session's model: a trained edit, or an importance map. {@link Imported#applyTo} puts it into the
 * session on the UI thread.
 */
public final class JobImport implements Job<JobImport.Imported> {
    private final Session session;
    private final Path jobDir;

    /** The trained edit (null for an importance job) or the map (null for a training job), and how it was made. */
    public record Imported(Edit edit, ImportanceMap map, JobResult.Run run) {
        /** The edit onto the edit stack (undoable), or the map onto the heatmap; returns a line for the status bar. */
        public String applyTo(Session session) {
            if (edit != null) {
                session.addEdit(edit);
            } else {
                session.showMap(map);
            }
            return summary();
        }

        /** One line for the status bar. */
        public String summary() {
            if (map != null) {
                return String.format(Locale.ROOT, "imported the %s map of %s (%,d positions), computed by run.py on %d process(es)",
                        map.method(), map.domain(), map.tokens(), run.processes());
            }
            var metrics = run.metrics();
            return String.format(Locale.ROOT, "imported %s, trained by run.py on %d process(es) in %d steps%s; base weights unchanged: %s",
                    edit.describe(), run.processes(), metrics.size(),
                    metrics.isEmpty() ? "" : String.format(Locale.ROOT, ", last loss %.4f", metrics.get(metrics.size() - 1).loss()),
                    run.baseWeightsUnchanged() ? "yes" : "NO");
        }
    }

    public JobImport(Session session, Path jobDir) {
        this.session = session;
        this.jobDir = jobDir;
    }

    @Override
    public String title() {
        return "Import job " + jobDir.getFileName();
    }

    @Override
    public Imported run(JobContext context) {
        JobResult.Run run = JobResult.read(jobDir);
        if (!run.isTraining()) {
            ImportanceMap map = JobResult.map(run);
            if (!map.modelHash().equals(session.modelHash())) {
                throw new ScalpelException("The job's map was computed for another model (hash " + ModelHash.shortHash(map.modelHash())
                        + ", this model " + ModelHash.shortHash(session.modelHash()) + "); open the model the job was exported for.");
            }
            return new Imported(null, map, run);
        }
        List<Edit> edits = JobResult.edits(run, session.model().model(), session.modelHash());
        if (edits.size() != 1) {
            edits.forEach(Edit::close);
            throw new ScalpelException("The job's result/edits.json holds " + edits.size() + " edits, not the one a job trains; "
                    + "run the job again.");
        }
        return new Imported(edits.get(0), null, run);
    }
}
