package dev.scalpel.app.ui.components;

import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobContext;
import dev.scalpel.app.ui.jobs.JobRunner;
import dev.scalpel.app.ui.jobs.JobStatus;
import dev.scalpel.app.ui.jobs.LeasedJob;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.decompose.ParameterDecomposer;
import dev.scalpel.engine.files.Output;
import dev.scalpel.engine.files.OutputGuard;
import dev.scalpel.engine.files.OutputKind;
import dev.scalpel.engine.files.TextFiles;
import dev.scalpel.engine.spec.DecomposeSpec;
import dev.scalpel.engine.train.TokenCorpus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.LongProperty;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleIntegerProperty;
import javafx.beans.property.SimpleLongProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;

/**
 * The Decompose dialog's state without UI: every field of the engine's {@link DecomposeSpec} (the flags of {@code
 * scalpel decompose}) as a property, and {@link #start()}, which runs the decomposition as a cancellable job on the
 * model's train-sample texts (the open texts when the model ships none — then they are no longer held out) and hands
 * the finished file to the Components view. Cancelling checkpoints; starting again with the same settings resumes.
 */
public final class DecomposeViewModel {
    private static final DecomposeSpec DEFAULTS = new DecomposeSpec("*", 1, null, null, null, null, null, null, null, null, null,
            null, null, "d.safetensors");

    private final Session session;
    private final JobRunner jobs;
    private final Consumer<Path> finished;
    private final StringProperty modules = new SimpleStringProperty(this, "modules");
    private final IntegerProperty components = new SimpleIntegerProperty(this, "components");
    private final IntegerProperty steps = new SimpleIntegerProperty(this, "steps", DEFAULTS.steps());
    private final IntegerProperty warmupSteps = new SimpleIntegerProperty(this, "warmupSteps", DEFAULTS.warmupSteps());
    private final IntegerProperty batchSize = new SimpleIntegerProperty(this, "batchSize", DEFAULTS.batchSize());
    private final IntegerProperty context = new SimpleIntegerProperty(this, "context", DEFAULTS.context());
    private final DoubleProperty lr = new SimpleDoubleProperty(this, "lr", DEFAULTS.lr());
    private final LongProperty seed = new SimpleLongProperty(this, "seed", DEFAULTS.seed());
    private final IntegerProperty ciHidden = new SimpleIntegerProperty(this, "ciHidden", DEFAULTS.ciHidden());
    private final DoubleProperty pFinal = new SimpleDoubleProperty(this, "pFinal", DEFAULTS.pFinal());
    private final DoubleProperty importanceCoeff = new SimpleDoubleProperty(this, "importanceCoeff", DEFAULTS.importanceCoeff());
    private final DoubleProperty faithfulnessCoeff = new SimpleDoubleProperty(this, "faithfulnessCoeff", DEFAULTS.faithfulnessCoeff());
    private final IntegerProperty checkpointEvery = new SimpleIntegerProperty(this, "checkpointEvery", DEFAULTS.checkpointEvery());
    private final StringProperty out = new SimpleStringProperty(this, "out", "");
    private final JobStatus job = new JobStatus("Set the matrices and the number of subcomponents, then Start.");

    /**
     * @param module   the matrix to propose (the Components view's), e.g. model.layers.5.self_attn.v_proj
     * @param finished receives the decomposition file once every step is done
     */
    public DecomposeViewModel(Session session, JobRunner jobs, String module, Consumer<Path> finished) {
        this.session = session;
        this.jobs = jobs;
        this.finished = finished;
        modules.set(module);
        if (module != null) {
            long[] shape = session.model().model().weights().shape(module + ".weight");           // [out, in]
            components.set(shape == null ? 256 : (int) Math.max(shape[0], shape[1]) * 3 / 2);    // C ≈ 1.5 × the larger side
        }
    }

    public StringProperty modulesProperty() {
        return modules;
    }

    public IntegerProperty componentsProperty() {
        return components;
    }

    public IntegerProperty stepsProperty() {
        return steps;
    }

    public IntegerProperty warmupStepsProperty() {
        return warmupSteps;
    }

    public IntegerProperty batchSizeProperty() {
        return batchSize;
    }

    public IntegerProperty contextProperty() {
        return context;
    }

    public DoubleProperty lrProperty() {
        return lr;
    }

    public LongProperty seedProperty() {
        return seed;
    }

    public IntegerProperty ciHiddenProperty() {
        return ciHidden;
    }

    public DoubleProperty pFinalProperty() {
        return pFinal;
    }

    public DoubleProperty importanceCoeffProperty() {
        return importanceCoeff;
    }

    public DoubleProperty faithfulnessCoeffProperty() {
        return faithfulnessCoeff;
    }

    public IntegerProperty checkpointEveryProperty() {
        return checkpointEvery;
    }

    /** The decomposition file to write (and to resume from), NAME.safetensors. */
    public StringProperty outProperty() {
        return out;
    }

    /** One line on the run: its live losses while it runs, the result after. */
    public ReadOnlyStringProperty statusProperty() {
        return job.statusProperty();
    }

    public ReadOnlyStringProperty problemProperty() {
        return job.problemProperty();
    }

    public ReadOnlyBooleanProperty busyProperty() {
        return job.busyProperty();
    }

    /** The settings as the engine's spec. @throws ScalpelException naming the bad field */
    public DecomposeSpec spec() {
        return new DecomposeSpec(modules.get(), components.get(), steps.get(), warmupSteps.get(), batchSize.get(), context.get(),
                lr.get(), seed.get(), ciHidden.get(), pFinal.get(), importanceCoeff.get(), faithfulnessCoeff.get(),
                checkpointEvery.get(), out.get() == null || out.get().isBlank() ? null : out.get().trim());
    }

    /** Which texts the run trains on, for the dialog. */
    public String trainingTexts() {
        Path bundled = session.modelDir().resolve("train-sample");
        return Files.isDirectory(bundled) ? "the model's train-sample texts " + TextFiles.inFolder(bundled).keySet()
                : "the open texts " + session.texts().keySet() + " (the model ships no train-sample/; they are then no longer held out)";
    }

    /** Starts (or resumes) the decomposition as a job; problems go to the problem line. */
    public void start() {
        if (job.refuseIfBusy()) {
            return;
        }
        DecomposeSpec spec;
        Output output;
        TokenCorpus corpus;
        try {
            spec = spec();
            Path file = Path.of(spec.out());
            output = OutputGuard.files(OutputKind.DECOMPOSITION, List.of(session.modelDir()), file, ParameterDecomposer.optimizerFile(file));
            corpus = corpus();
        } catch (ScalpelException e) {
            job.problem(e.getMessage());
            return;
        }
        job.problem("");
        job.submit(jobs, new LeasedJob<>(session::snapshot, new DecomposeJob(spec, corpus, output)), result -> {
            job.status(String.format(Locale.ROOT, "%s %s after %d of %d steps in %.1f s%s", result.completed() ? "wrote" : "checkpointed",
                    spec.out(), result.step(), result.totalSteps(), result.seconds(),
                    result.completed() ? "; its subcomponents are shown in the Components view" : "; Start again to resume"));
            if (result.completed()) {
                finished.accept(Path.of(spec.out()));
            }
        });
    }

    /** Equal parts of each training text. */
    private TokenCorpus corpus() {
        Path bundled = session.modelDir().resolve("train-sample");
        Map<String, int[]> tokens = new LinkedHashMap<>();
        if (Files.isDirectory(bundled)) {
            TextFiles.inFolder(bundled).forEach((name, file) -> tokens.put(name,
                    Arrays.stream(session.model().tokenizer().encode(TextFiles.readUtf8(file))).mapToInt(Math::toIntExact).toArray()));
        } else {
            session.texts().forEach((name, ids) -> tokens.put(name, Arrays.stream(ids).mapToInt(Math::toIntExact).toArray()));
        }
        if (tokens.isEmpty()) {
            throw new ScalpelException("There is no text to decompose on: add a text first.");
        }
        Map<String, Double> mix = new LinkedHashMap<>();
        tokens.keySet().forEach(n -> mix.put(n, 1.0 / tokens.size()));
        Integer bos = session.model().tokenizer().bosForPrompts();
        return new TokenCorpus(tokens, mix, bos != null ? bos : session.model().config().bosTokenId());
    }

    /** The engine's decomposer as a job: its losses as progress messages, cancel = checkpoint and stop. */
    private final class DecomposeJob implements Job<ParameterDecomposer.Result> {
        private final DecomposeSpec spec;
        private final TokenCorpus corpus;
        private final Output output;

        DecomposeJob(DecomposeSpec spec, TokenCorpus corpus, Output output) {
            this.spec = spec;
            this.corpus = corpus;
            this.output = output;
        }

        @Override
        public String title() {
            return "Decompose " + spec.modules() + " into " + spec.components() + " subcomponents";
        }

        @Override
        public ParameterDecomposer.Result run(JobContext context) {
            var decomposer = new ParameterDecomposer(session.model().model(), session.modelHash(), spec, corpus, output);
            return decomposer.run(p -> context.progress(p.step() / (double) p.totalSteps(), p.phase().equals("warm-up")
                    ? String.format(Locale.ROOT, "warm-up %d/%d · faithfulness %.3g", p.step(), p.totalSteps(), p.faithfulness())
                    : String.format(Locale.ROOT, "step %d/%d · KL %.4f · minimality %.1f · faithfulness %.2g · active %.1f/token",
                            p.step(), p.totalSteps(), p.stochastic(), p.importance(), p.faithfulness(), p.activePerToken())),
                    context::cancelled);
        }
    }
}
