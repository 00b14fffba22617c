package dev.scalpel.app.ui.train;

import dev.scalpel.engine.files.TextFiles;
import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobContext;
import dev.scalpel.app.ui.jobs.JobHandle;
import dev.scalpel.app.ui.jobs.LeasedJob;
import dev.scalpel.app.ui.jobs.JobRunner;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.api.TrainingProgress;
import dev.scalpel.engine.edit.LiveEdit;
import dev.scalpel.engine.job.TrainingJobExport;
import dev.scalpel.engine.model.ModelConfig;
import dev.scalpel.engine.model.ModelHash;
import dev.scalpel.engine.spec.EditSpec;
import dev.scalpel.engine.spec.TrainSpec;
import dev.scalpel.engine.train.FineTuner;
import dev.scalpel.engine.train.PerHeadRates;
import dev.scalpel.engine.api.HeadMark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.ToDoubleFunction;
import javafx.beans.InvalidationListener;
import javafx.beans.Observable;
import javafx.beans.property.DoubleProperty;
import javafx.beans.property.IntegerProperty;
import javafx.beans.property.LongProperty;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyBooleanWrapper;
import javafx.beans.property.ReadOnlyLongProperty;
import javafx.beans.property.ReadOnlyLongWrapper;
import javafx.beans.property.ReadOnlyObjectProperty;
import javafx.beans.property.ReadOnlyObjectWrapper;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.ReadOnlyStringWrapper;
import javafx.beans.property.SimpleDoubleProperty;
import javafx.beans.property.SimpleIntegerProperty;
import javafx.beans.property.SimpleLongProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;

/**
 * The Train dialog's state and action without any UI: which edit to train (method, heads from the heatmap's train
 * marks, modules, the chosen component), on which data (target / retain / general texts of the session), with which
 * objective and optimizer settings; the trainable-parameter count and the one-line problem that blocks a launch,
 * both kept current as inputs change; and {@link #launch()}, which trains as a job, streams losses and live
 * evaluations, publishes the live edit while it runs and puts the trained edit on the session's (undoable) stack.
 * Use one per session, on the UI thread.
 */
public final class TrainViewModel {
    /** Optimizers the engine knows ({@code Optimizers.create}). */
    public static final List<String> OPTIMIZERS = TrainSpec.OPTIMIZERS;
    /** Every objective; match-teacher takes the teacher's steering vector. */
    public static final List<FineTuner.Objective> OBJECTIVES = List.of(FineTuner.Objective.values());
    /** Live evaluation reads this many tokens of each text. */
    public static final int EVAL_TOKENS = 1024;
    private static final String GENERAL_TEXT = "en";

    private final Session session;
    private final JobRunner jobs;
    private final Executor ui;
    private final ModelConfig config;

    private final ObjectProperty<TrainMethod> method = new SimpleObjectProperty<>(this, "method", TrainMethod.HEAD_LORA);
    private final ObjectProperty<FineTuner.Objective> objective = new SimpleObjectProperty<>(this, "objective", FineTuner.Objective.LEARN);
    private final DoubleProperty retainWeight = new SimpleDoubleProperty(this, "retainWeight", 0.0);
    private final StringProperty target = new SimpleStringProperty(this, "target");
    private final StringProperty retain = new SimpleStringProperty(this, "retain");
    private final StringProperty general = new SimpleStringProperty(this, "general");
    private final DoubleProperty generalRatio = new SimpleDoubleProperty(this, "generalRatio", 0.25);
    private final IntegerProperty tokenBudget = new SimpleIntegerProperty(this, "tokenBudget", Session.TEXT_TOKENS);
    private final StringProperty optimizer = new SimpleStringProperty(this, "optimizer", "adamw");
    private final DoubleProperty lr = new SimpleDoubleProperty(this, "lr", 1e-3);
    private final IntegerProperty steps = new SimpleIntegerProperty(this, "steps", 100);
    private final IntegerProperty rank = new SimpleIntegerProperty(this, "rank", 4);
    private final IntegerProperty batchSize = new SimpleIntegerProperty(this, "batchSize", 4);
    private final IntegerProperty context = new SimpleIntegerProperty(this, "context");
    private final LongProperty seed = new SimpleLongProperty(this, "seed", 0);
    private final IntegerProperty evalEvery = new SimpleIntegerProperty(this, "evalEvery", 0);
    private final StringProperty modules = new SimpleStringProperty(this, "modules", "q_proj,v_proj");
    private final StringProperty layers = new SimpleStringProperty(this, "layers", "");
    private final DoubleProperty freezeAbove = new SimpleDoubleProperty(this, "freezeAbove", 0.8);
    private final DoubleProperty lrFloor = new SimpleDoubleProperty(this, "lrFloor", 0.05);
    private final ReadOnlyStringWrapper perHeadLrMap = new ReadOnlyStringWrapper(this, "perHeadLrMap", "");
    private final DoubleProperty alpha = new SimpleDoubleProperty(this, "alpha", 8.0);
    /** Where every prefactor starts (the spec's "start"; 1 = the unmodified model). */
    private final DoubleProperty start = new SimpleDoubleProperty(this, "start", 1.0);
    private final DoubleProperty dropout = new SimpleDoubleProperty(this, "dropout", 0.0);
    private final StringProperty projections = new SimpleStringProperty(this, "projections", String.join(",", EditSpec.ALL_PROJECTIONS));
    private final StringProperty rankPattern = new SimpleStringProperty(this, "rankPattern", "");
    private final IntegerProperty frozenContext = new SimpleIntegerProperty(this, "frozenContext", 0);
    /** APOLLO's settings (the spec's "apollo"); rank 0 and scale 0 mean the variant's default (256 or Mini's 1; √(k/r)). */
    private final IntegerProperty apolloRank = new SimpleIntegerProperty(this, "apolloRank", 0);
    private final DoubleProperty apolloScale = new SimpleDoubleProperty(this, "apolloScale", 0);
    private final IntegerProperty apolloRefreshPeriod = new SimpleIntegerProperty(this, "apolloRefreshPeriod",
            dev.scalpel.engine.train.Apollo.Options.defaults().refreshPeriod());
    private final DoubleProperty apolloNormGrowthLimit = new SimpleDoubleProperty(this, "apolloNormGrowthLimit",
            dev.scalpel.engine.train.Apollo.Options.defaults().normGrowthLimit());
    private final DoubleProperty apolloWeightDecay = new SimpleDoubleProperty(this, "apolloWeightDecay", 0);
    private final StringProperty teacherSteerVector = new SimpleStringProperty(this, "teacherSteerVector", "");
    private final DoubleProperty teacherSteerCoefficient = new SimpleDoubleProperty(this, "teacherSteerCoefficient", 1.0);

    private final ReadOnlyObjectWrapper<HeadSet> heads = new ReadOnlyObjectWrapper<>(this, "heads", HeadSet.empty());
    private final ReadOnlyLongWrapper trainableParameters = new ReadOnlyLongWrapper(this, "trainableParameters");
    private final ReadOnlyStringWrapper problem = new ReadOnlyStringWrapper(this, "problem", "");
    private final ReadOnlyStringWrapper status = new ReadOnlyStringWrapper(this, "status", "");
    private final ReadOnlyStringWrapper lastWeightsKey = new ReadOnlyStringWrapper(this, "lastWeightsKey");
    private final ReadOnlyBooleanWrapper running = new ReadOnlyBooleanWrapper(this, "running");
    /** Read-only views made once: a listener on a view lives only as long as the view. */
    private final ObservableList<TrainingProgress> lossHistory = FXCollections.observableArrayList();
    private final ObservableList<TrainingProgress> lossHistoryView = FXCollections.unmodifiableObservableList(lossHistory);
    private final ObservableList<EvalPoint> evalHistory = FXCollections.observableArrayList();
    private final ObservableList<EvalPoint> evalHistoryView = FXCollections.unmodifiableObservableList(evalHistory);

    /**
     * @param ui runs UI updates posted from the job's thread: {@code Platform::runLater} in the app, {@code Runnable::run}
     *           in tests
     */
    public TrainViewModel(Session session, JobRunner jobs, Executor ui) {
        this.session = session;
        this.jobs = jobs;
        this.ui = ui;
        this.config = session.model().config();
        List<String> textNames = session.textNames();
        general.set(textNames.contains(GENERAL_TEXT) ? GENERAL_TEXT : null);
        retain.set(general.get());
        target.set(textNames.stream().filter(name -> !name.equals(general.get())).findFirst().orElse(null));
        context.set(Math.min(128, config.maxPositions()));
        InvalidationListener inputsChanged = o -> refresh();
        for (Observable input : List.of(method, objective, retainWeight, target, retain, general, generalRatio, tokenBudget,
                optimizer, lr, steps, rank, batchSize, context, seed, evalEvery, modules, layers, freezeAbove, lrFloor,
                alpha, start, dropout, projections, rankPattern, frozenContext, teacherSteerVector, teacherSteerCoefficient,
                apolloRank, apolloScale, apolloRefreshPeriod, apolloNormGrowthLimit, apolloWeightDecay,
                session.marks(), session.mapProperty(), session.componentProperty())) {
            input.addListener(inputsChanged);
        }
        rank.addListener((o, was, now) -> {
            if (alpha.get() == 2.0 * was.intValue()) {        // α still at its default follows the rank
                alpha.set(2.0 * now.intValue());
            }
        });
        refresh();
    }

    public ObjectProperty<TrainMethod> method() {
        return method;
    }

    /** learn, unlearn or unlearn-uniform (one of {@link #OBJECTIVES}). */
    public ObjectProperty<FineTuner.Objective> objective() {
        return objective;
    }

    /** λ of the KL(base ‖ edited) term on the retain text; 0 = no retain term. */
    public DoubleProperty retainWeight() {
        return retainWeight;
    }

    /** Name of the session text to learn or unlearn. */
    public StringProperty target() {
        return target;
    }

    /** Name of the session text whose predictions the retain term keeps (used when the retain weight is above 0). */
    public StringProperty retain() {
        return retain;
    }

    /** Name of the session text mixed into learn batches, or null for none (default "en" when the model has it). */
    public StringProperty general() {
        return general;
    }

    /** Share of each learn batch's rows taken from the general text, in [0, 1). */
    public DoubleProperty generalRatio() {
        return generalRatio;
    }

    /** Target tokens training may see (the target text is cut to this many). */
    public IntegerProperty tokenBudget() {
        return tokenBudget;
    }

    /** One of {@link #OPTIMIZERS}. */
    public StringProperty optimizer() {
        return optimizer;
    }

    public DoubleProperty lr() {
        return lr;
    }

    public IntegerProperty steps() {
        return steps;
    }

    /** LoRA rank (head-LoRA and module LoRA). */
    public IntegerProperty rank() {
        return rank;
    }

    /** Rows per batch. */
    public IntegerProperty batchSize() {
        return batchSize;
    }

    /** Tokens per row, BOS included. */
    public IntegerProperty context() {
        return context;
    }

    public LongProperty seed() {
        return seed;
    }

    /** Evaluate every session text every this many steps while training; 0 = never. */
    public IntegerProperty evalEvery() {
        return evalEvery;
    }

    /** Module LoRA: module names, comma-separated, e.g. "q_proj,v_proj". */
    public StringProperty modules() {
        return modules;
    }

    /** Module LoRA: layer numbers, comma-separated; blank for every layer. */
    public StringProperty layers() {
        return layers;
    }

    /** Per-head LR: heads whose rank in the map (1 = most important) is above this are frozen (left out). */
    public DoubleProperty freezeAbove() {
        return freezeAbove;
    }

    /** Per-head LR: a head trains at lr × ((1 − rank) + floor). */
    public DoubleProperty lrFloor() {
        return lrFloor;
    }

    /** LoRA's α; it follows 2 × rank (the CLI's default) until set to something else. */
    public DoubleProperty alpha() {
        return alpha;
    }

    public DoubleProperty start() {
        return start;
    }

    /** LoRA dropout on the adapter's input, in [0, 1). */
    public DoubleProperty dropout() {
        return dropout;
    }

    /** The projections head methods train, e.g. "q,k,v,o" or "q,o". */
    public StringProperty projections() {
        return projections;
    }

    /** Per-module ranks of module LoRA, PEFT's rank_pattern, e.g. "v_proj=8,o_proj=2" (blank: the rank everywhere). */
    public StringProperty rankPattern() {
        return rankPattern;
    }

    /** Leading positions of each target row run once as fixed context, not trained through (0 = off). */
    public IntegerProperty frozenContext() {
        return frozenContext;
    }

    /** APOLLO's projected rank; 0: the variant's (apollo 256, apollo-mini 1). */
    public IntegerProperty apolloRank() {
        return apolloRank;
    }

    /** APOLLO's scale α; 0: √(k/r) per matrix. */
    public DoubleProperty apolloScale() {
        return apolloScale;
    }

    /** Steps between APOLLO's projection redraws. */
    public IntegerProperty apolloRefreshPeriod() {
        return apolloRefreshPeriod;
    }

    /** APOLLO's norm-growth limit γ (≥ 1). */
    public DoubleProperty apolloNormGrowthLimit() {
        return apolloNormGrowthLimit;
    }

    /** APOLLO's decoupled weight decay λ. */
    public DoubleProperty apolloWeightDecay() {
        return apolloWeightDecay;
    }

    /** The teacher of match-teacher: a llama.cpp control vector (GGUF) the base model is steered with. */
    public StringProperty teacherSteerVector() {
        return teacherSteerVector;
    }

    /** The teacher's steering coefficient. */
    public DoubleProperty teacherSteerCoefficient() {
        return teacherSteerCoefficient;
    }

    /** The name of the importance map per-head rates come from: the one the heatmap shows ("" when none). */
    public ReadOnlyStringProperty perHeadLrMap() {
        return perHeadLrMap.getReadOnlyProperty();
    }

    /** The heads marked for training on the heatmap, which the head methods train. */
    public ReadOnlyObjectProperty<HeadSet> heads() {
        return heads.getReadOnlyProperty();
    }

    /** The key of the weights the last finished run trained on (its snapshot's), or null before one finished. */
    public ReadOnlyStringProperty lastWeightsKey() {
        return lastWeightsKey.getReadOnlyProperty();
    }

    /** The component chosen in the Components view, which the prefactor method trains (null: none chosen). */
    public ReadOnlyObjectProperty<Session.ComponentChoice> component() {
        return session.componentProperty();
    }

    /** Scalar parameters the edit would train as set up now (0 while the edit itself cannot be set up). */
    public ReadOnlyLongProperty trainableParameters() {
        return trainableParameters.getReadOnlyProperty();
    }

    /** Scalar parameters of the model. */
    public long totalParameters() {
        return session.summary().parameters();
    }

    /** Empty when {@link #launch()} can start; else one line naming what is wrong and how to fix it. */
    public ReadOnlyStringProperty problem() {
        return problem.getReadOnlyProperty();
    }

    /** What the last launch did, e.g. "trained head-LoRA on L1H1 in 12.3 s, last loss 3.21". */
    public ReadOnlyStringProperty status() {
        return status.getReadOnlyProperty();
    }

    /** Whether a training run is going. */
    public ReadOnlyBooleanProperty running() {
        return running.getReadOnlyProperty();
    }

    /** Names of the session's texts, for the target / retain / general choosers. */
    public ObservableList<String> textNames() {
        return session.textNames();
    }

    /** The running (or last) run's training loss, one point per completed step. */
    public ObservableList<TrainingProgress> lossHistory() {
        return lossHistoryView;
    }

    /** The running (or last) run's live evaluations: per text, every {@link #evalEvery()} steps. */
    public ObservableList<EvalPoint> evalHistory() {
        return evalHistoryView;
    }

    /**
     * Reads a UTF-8 text file into the session under its file name (without extension; numbered when taken).
     *
     * @return the name it was added under
     * @throws ScalpelException naming the file and what is wrong with it, when it cannot be read, is not UTF-8 or is empty
     */
    public String addTextFile(Path file) {
        String text = TextFiles.readUtf8(file);
        if (text.isBlank()) {
            throw new ScalpelException("Text file " + file + " is empty; choose a file with text to train on.");
        }
        String base = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        String name = base;
        for (int n = 2; session.texts().containsKey(name); n++) {
            name = base + " (" + n + ")";
        }
        session.addText(name, text);
        refresh();
        return name;
    }

    /**
     * Starts training as set up now: the trained edit goes onto the session's edit stack when the run completes or
     * is cancelled after at least one step; {@link #status()} says what happened.
     *
     * @return the job, or null when it was not started ({@link #problem()} or a run already going; see {@link #status()})
     */
    public JobHandle launch() {
        if (running.get()) {
            status.set("A training run is going; wait for it to end or cancel it in the jobs panel.");
            return null;
        }
        refresh();
        if (!problem.get().isEmpty()) {
            status.set(problem.get());
            return null;
        }
        Map<String, long[]> evalTexts = new LinkedHashMap<>();
        if (evalEvery.get() > 0) {
            session.texts().forEach((name, ids) -> evalTexts.put(name, Arrays.copyOf(ids, Math.min(ids.length, EVAL_TOKENS))));
        }
        TrainSpec run = trainSpec();
        EditSpec recipe = run.edit();
        FineTuner.Data data = data();
        if (run.teacherSteer() != null) {
            try {
                data = new FineTuner.Data(data.target(), data.general(), data.retain(), data.bos(),
                        run.teacherHooks(session.model().model(), Path.of("")));
            } catch (ScalpelException e) {
                status.set(e.getMessage());
                return null;
            }
        }
        TrainJob job = new TrainJob(session::snapshot, session.model().model(), recipe, run.seed(), shownMap(), run.fineTunerSpec(), data,
                evalEvery.get(), evalTexts, new ToUi());
        lossHistory.clear();
        evalHistory.clear();
        running.set(true);
        status.set("training " + recipe.title() + " …");
        long totalSteps = steps.get();
        return jobs.submit(job, outcome -> finished(recipe, totalSteps, outcome), this::failed);
    }

    /**
     * Writes the run as set up now as a job folder for torchrun / accelerate / Slurm ({@code scalpel export-job}),
     * off the UI thread; {@link #status()} says where it went or why not. The job trains on the base model: the
     * session's other edits and head groups are not part of it.
     *
     * @return the job, or null when it was not started ({@link #problem()}, or something the job cannot run the same way)
     */
    public JobHandle exportJob(Path folder) {
        refresh();
        if (!problem.get().isEmpty()) {
            status.set(problem.get());
            return null;
        }
        TrainSpec run = trainSpec();
        String refusal = TrainingJobExport.refusal(session.model(), run);
        if (refusal != null) {
            status.set(refusal);
            return null;
        }
        FineTuner.Data data = data();
        var inputs = new TrainingJobExport.Inputs(data.target(), data.general(), data.retain(), Map.of("spec.json", run.toJson()));
        EditSpec.References maps = shownMap();
        Job<TrainingJobExport.Written> job = new Job<>() {
            @Override
            public String title() {
                return "Export job: " + run.edit().title();
            }

            @Override
            public TrainingJobExport.Written run(JobContext context) {
                return TrainingJobExport.write(session.model(), run, maps, inputs, folder);
            }
        };
        status.set("writing the job folder " + folder + " …");
        return jobs.submit(new LeasedJob<>(session::snapshot, job),
                written -> status.set("wrote the job folder " + written.folder() + " (" + written.description()
                        + "); run it with ./launch.sh there, then File ▸ Import job…"),
                error -> status.set("export of the job failed: " + error.getMessage()));
    }

    /** Recomputes the heads, the trainable-parameter count and the problem line from the inputs. */
    private void refresh() {
        heads.set(session.marked(HeadMark.TRAIN));
        perHeadLrMap.set(session.mapProperty().get() == null ? "" : mapName(session.mapProperty().get()));
        try {
            trainableParameters.set(recipe().parameterCount(session.model().model()));
        } catch (ScalpelException e) {
            trainableParameters.set(0);
            problem.set(e.getMessage());
            return;
        }
        try {
            checkSettings();
            trainSpec();
            data();
            problem.set("");
        } catch (ScalpelException e) {
            problem.set(e.getMessage());
        }
    }

    /** The edit as set up now. @throws ScalpelException naming what is missing */
    private EditSpec recipe() {
        TrainMethod m = method.get();
        if (m == null) {
            throw new ScalpelException("Choose a training method.");
        }
        if (m.usesLoraRank() && rank.get() < 1) {
            throw new ScalpelException("The LoRA rank must be at least 1.");
        }
        return switch (m) {
            case HEAD_LORA -> new EditSpec.HeadLora(markedHeads().toString(), projectionNames(), rank.get(), alpha.get(), dropout.get(),
                    null);
            case HEAD_LORA_PER_HEAD_LR -> {
                HeadSet trained = headsTrainedAtMapRates();
                yield new EditSpec.HeadLora(trained.toString(), projectionNames(), rank.get(), alpha.get(), dropout.get(), mapRates());
            }
            case MODULE_LORA -> new EditSpec.ModuleLora(moduleNames(), layerNumbers(), rank.get(), ranksByModule(), alpha.get(),
                    dropout.get());
            case HEAD_FINETUNE -> new EditSpec.HeadFinetune(markedHeads().toString(), projectionNames(), null);
            case HEAD_FINETUNE_PER_HEAD_LR -> new EditSpec.HeadFinetune(headsTrainedAtMapRates().toString(), projectionNames(),
                    mapRates());
            case DELTANET_DECAY -> new EditSpec.DeltaNetDecay(markedHeads().toString());
            case FULL -> new EditSpec.FullFinetune();
            case PREFACTOR -> {
                Session.ComponentChoice c = session.componentProperty().get();
                if (c == null) {
                    throw new ScalpelException("Choose a component in the Components view first.");
                }
                yield c.decomposition() == null ? new EditSpec.Prefactor(c.module(), c.indices(), c.rank(), null, start.get())
                        : new EditSpec.Prefactor(c.module(), c.indices(), null, c.decomposition().toString(), start.get());
            }
        };
    }

    private HeadSet markedHeads() {
        HeadSet marked = heads.get();
        if (marked.isEmpty()) {
            throw new ScalpelException("Mark at least one head for training (click heads on the heatmap).");
        }
        return marked;
    }

    /**
     * The marked heads that train under per-head rates from the shown map, as {@code scalpel train}'s per_head_lr sets
     * them: rank-normalised (1 = most important), heads above the freeze threshold frozen, the others at
     * lr × ((1 − rank) + floor). Frozen heads are left out of the edit, so the count shows what really trains.
     */
    private HeadSet headsTrainedAtMapRates() {
        HeadSet marked = markedHeads();
        ToDoubleFunction<HeadId> scale = PerHeadRates.fromMap(shownMapOrRefuse(), config, freezeAbove.get(), lrFloor.get());
        HeadSet trained = HeadSet.of(marked.heads().stream().filter(h -> scale.applyAsDouble(h) > 0).toList());
        if (trained.isEmpty()) {
            throw new ScalpelException(String.format(Locale.ROOT, "Every marked head ranks above %.2f in the map, so all are frozen; "
                    + "mark weaker heads or raise 'freeze above'.", freezeAbove.get()));
        }
        return trained;
    }

    /** The spec's per_head_lr: the shown map with the dialog's freeze threshold and floor. */
    private EditSpec.PerHeadLr mapRates() {
        return new EditSpec.PerHeadLr(mapName(shownMapOrRefuse()), freezeAbove.get(), lrFloor.get());
    }

    private ImportanceMap shownMapOrRefuse() {
        ImportanceMap map = session.mapProperty().get();
        if (map == null) {
            throw new ScalpelException("Per-head learning rates come from the importance map: compute or open a map first.");
        }
        return map;
    }

    /** The name the spec gives the shown map, e.g. "de · gradient". */
    private static String mapName(ImportanceMap map) {
        return map.domain() + " · " + map.method();
    }

    /** Resolves a spec's map reference to the map the heatmap shows (the only one the dialog offers). */
    private EditSpec.References shownMap() {
        ImportanceMap map = session.mapProperty().get();
        return reference -> {
            if (map == null || !mapName(map).equals(reference)) {
                throw new ScalpelException("The importance map '" + reference + "' is no longer shown; launch the run again.");
            }
            return map;
        };
    }

    /**
     * The run as set up now, as the engine's {@link TrainSpec}: the same record {@code scalpel train --spec} reads, with
     * the same defaults and checks (texts are named by their session names).
     *
     * @throws ScalpelException naming what is missing or wrong
     */
    public TrainSpec trainSpec() {
        FineTuner.Objective o = objective.get();
        TrainSpec.TeacherSteer teacher = null;
        if (o == FineTuner.Objective.MATCH_TEACHER) {
            String vector = teacherSteerVector.get() == null ? "" : teacherSteerVector.get().trim();
            if (vector.isEmpty() || !Files.isRegularFile(Path.of(vector))) {
                throw new ScalpelException("match-teacher needs the teacher's steering vector: choose a .gguf control vector file.");
            }
            teacher = new TrainSpec.TeacherSteer(vector, teacherSteerCoefficient.get());
        }
        return new TrainSpec(recipe(), o, target.get(), general.get(), retain.get(), generalRatio.get(), retainWeight.get(),
                tokenBudget.get(), steps.get(), batchSize.get(), context.get(), optimizer.get(), lr.get(), seed.get(),
                frozenContext.get(), teacher, apolloSettings());
    }

    /** The spec's "apollo" for an APOLLO optimizer (rank and scale 0 left to the variant), null for AdamW. */
    private TrainSpec.ApolloSettings apolloSettings() {
        if (optimizer.get() == null || !optimizer.get().startsWith("apollo")) {
            return null;
        }
        return new TrainSpec.ApolloSettings(apolloRank.get() > 0 ? apolloRank.get() : null, apolloScale.get() > 0 ? apolloScale.get() : null,
                apolloRefreshPeriod.get(), apolloNormGrowthLimit.get(), apolloWeightDecay.get());
    }

    private List<String> projectionNames() {
        List<String> names = Arrays.stream(projections.get() == null ? new String[0] : projections.get().split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).toList();
        for (String name : names) {
            if (!EditSpec.ALL_PROJECTIONS.contains(name)) {
                throw new ScalpelException("Projections are some of q,k,v,o; '" + name + "' is not one.");
            }
        }
        if (names.isEmpty()) {
            throw new ScalpelException("Choose the projections to train, e.g. q,k,v,o.");
        }
        return names;
    }

    /** "v_proj=8,o_proj=2" → {v_proj: 8, o_proj: 2}; blank → none. */
    private Map<String, Integer> ranksByModule() {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        String text = rankPattern.get() == null ? "" : rankPattern.get().trim();
        for (String item : text.isEmpty() ? new String[0] : text.split(",")) {
            String[] parts = item.split("=");
            try {
                ranks.put(parts[0].trim(), Integer.parseInt(parts[1].trim()));
            } catch (RuntimeException e) {
                throw new ScalpelException("Rank pattern entries are module=rank, e.g. v_proj=8; '" + item.trim() + "' is not.");
            }
        }
        return ranks;
    }

    private List<String> moduleNames() {
        List<String> names = Arrays.stream(modules.get() == null ? new String[0] : modules.get().split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).toList();
        if (names.isEmpty()) {
            throw new ScalpelException("Name the modules for LoRA, e.g. q_proj,v_proj.");
        }
        return names;
    }

    /** The layers of module LoRA, or null for all. */
    private List<Integer> layerNumbers() {
        String text = layers.get() == null ? "" : layers.get().trim();
        if (text.isEmpty()) {
            return null;
        }
        List<Integer> numbers = new ArrayList<>();
        for (String item : text.split(",")) {
            int layer;
            try {
                layer = Integer.parseInt(item.trim());
            } catch (NumberFormatException e) {
                throw new ScalpelException("Layers must be numbers separated by commas, e.g. 0,2 (blank: every layer); '"
                        + item.trim() + "' is not.");
            }
            if (layer < 0 || layer >= config.numLayers()) {
                throw new ScalpelException("Layer " + layer + " does not exist: the model has layers 0 to " + (config.numLayers() - 1) + ".");
            }
            numbers.add(layer);
        }
        return numbers;
    }

    /** What only the workbench checks; the rest is the engine spec's ({@link #trainSpec()}). */
    private void checkSettings() {
        if (context.get() < 2 || context.get() > config.maxPositions()) {
            throw new ScalpelException("The context must be between 2 and the model's " + config.maxPositions() + " positions.");
        }
        if (evalEvery.get() < 0) {
            throw new ScalpelException("'Evaluate every' must be 0 (off) or a number of steps.");
        }
        if (objective.get() == null) {
            throw new ScalpelException("Choose an objective: learn, unlearn, unlearn-uniform or match-teacher.");
        }
    }

    /** The session texts training reads. @throws ScalpelException when a needed one is missing */
    private FineTuner.Data data() {
        long[] targetIds = text(target.get(), "Choose the target text: a language, or a file you add.");
        long[] retainIds = retainWeight.get() > 0 ? text(retain.get(), "Choose a retain text, or set the retain weight to 0.") : null;
        long[] generalIds = general.get() != null ? text(general.get(), null) : null;
        Integer bos = config.bosTokenId();
        return new FineTuner.Data(targetIds, generalIds, retainIds, bos != null ? bos : 0);
    }

    private long[] text(String name, String whenNone) {
        if (name == null || name.isBlank()) {
            throw new ScalpelException(whenNone);
        }
        long[] ids = session.texts().get(name);
        if (ids == null) {
            throw new ScalpelException("No text named '" + name + "'.");
        }
        if (ids.length < 2) {
            throw new ScalpelException("The text '" + name + "' has fewer than 2 tokens; choose a longer one.");
        }
        return ids;
    }

    private void finished(EditSpec recipe, long totalSteps, TrainJob.Outcome outcome) {
        running.set(false);
        FineTuner.Result r = outcome.result();
        String reason = r.stopReason();
        // a cancelled run keeps its completed steps; a diverged one adds nothing (its status says why)
        boolean keep = r.stop() == FineTuner.Stop.COMPLETED || (r.stop() == FineTuner.Stop.CANCELLED && r.steps() > 0);
        if (keep) {
            session.addEdit(outcome.edit());
        } else {
            outcome.edit().close();
        }
        lastWeightsKey.set(outcome.weightsKey());
        String on = outcome.weightsKey().equals(session.modelHash()) ? ""
                : " (on the weights with head groups swapped in, " + ModelHash.shortHash(outcome.weightsKey()) + ")";
        if (reason == null) {
            status.set(String.format(Locale.ROOT, "trained %s in %.1f s, last loss %.2f%s", recipe.title(), outcome.seconds(),
                    r.lastLoss(), on));
        } else {
            status.set(String.format(Locale.ROOT, "stopped after %d of %d steps: %s; %s", r.steps(), totalSteps, reason,
                    keep ? String.format(Locale.ROOT, "kept %s, last loss %.2f", recipe.title(), r.lastLoss()) : "nothing was added"));
        }
    }

    private void failed(Throwable e) {
        running.set(false);
        status.set("training failed: " + (e instanceof ScalpelException ? e.getMessage()
                : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())));
    }

    /** Hands what the job reports to the UI thread. */
    private final class ToUi implements TrainJob.Listener {
        @Override
        public void started(LiveEdit live) {
            ui.execute(() -> session.liveProperty().set(live));
        }

        @Override
        public void step(TrainingProgress progress) {
            ui.execute(() -> lossHistory.add(progress));
        }

        @Override
        public void evaluated(EvalPoint point) {
            ui.execute(() -> evalHistory.add(point));
        }

        @Override
        public void ended(LiveEdit live) {
            ui.execute(() -> {
                if (session.liveProperty().get() == live) {
                    session.liveProperty().set(null);
                }
                live.close();
            });
        }
    }
}
