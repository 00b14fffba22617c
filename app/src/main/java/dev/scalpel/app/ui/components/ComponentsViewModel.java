package dev.scalpel.app.ui.components;

import dev.scalpel.app.ui.jobs.LeasedJob;
import dev.scalpel.app.ui.Session;
import dev.scalpel.app.ui.Session.ComponentChoice;
import dev.scalpel.app.ui.jobs.JobStatus;
import dev.scalpel.app.ui.jobs.JobRunner;
import dev.scalpel.engine.components.ModuleNames;
import dev.scalpel.engine.importance.HeadImportance;
import dev.scalpel.engine.spec.ComponentsSpec;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.ReadOnlyBooleanProperty;
import javafx.beans.property.ReadOnlyIntegerProperty;
import javafx.beans.property.ReadOnlyIntegerWrapper;
import javafx.beans.property.ReadOnlyObjectProperty;
import javafx.beans.property.ReadOnlyStringProperty;
import javafx.beans.property.ReadOnlyStringWrapper;
import javafx.beans.property.SimpleObjectProperty;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.collections.FXCollections;
import javafx.collections.ObservableList;

/**
 * State and actions of the Components view, without UI: pick a weight matrix inside a block, a rank (or a
 * decomposition file), a target text (what a prefactor run should remove) and a retain text (what it should keep) —
 * the engine's {@link ComponentsSpec}, as {@code scalpel importance --components} takes it; {@link #compute()} scores
 * the matrix's rank-1 components (top SVD directions, or the file's subcomponents) on both texts; {@link #choose} hands one to the prefactor run
 * ({@link Session#componentProperty()}); {@link #inspect} lists where a component fires. Lives on the UI thread.
 */
public final class ComponentsViewModel {
    /** Each text is cut to this many tokens: a computation takes seconds, not minutes. */
    public static final int TEXT_TOKENS = 1024;
    /** Components scored by default: the spec's. */
    public static final int DEFAULT_RANK = new ComponentsSpec("*", null, null, null).rank();
    private static final int CONTEXT = 256;
    private static final int BATCH = 4;

    /** What the rows shown were computed for. */
    private record Computed(String module, int rank, Path decomposition, String target, String retain) {}

    private final Session session;
    private final JobRunner jobs;
    private final ObservableList<String> modules;
    private final ObservableList<String> texts;
    private final StringProperty module = new SimpleStringProperty(this, "module");
    private final ObjectProperty<Integer> rank = new SimpleObjectProperty<>(this, "rank", DEFAULT_RANK);
    private final ReadOnlyIntegerWrapper maxRank = new ReadOnlyIntegerWrapper(this, "maxRank");
    private final StringProperty target = new SimpleStringProperty(this, "target");
    private final StringProperty retain = new SimpleStringProperty(this, "retain");
    private final ObjectProperty<Path> spd = new SimpleObjectProperty<>(this, "spd");
    private final ObservableList<ComponentRow> rows = FXCollections.observableArrayList();
    private final ObservableList<String> inspection = FXCollections.observableArrayList();
    private final ReadOnlyStringWrapper shown = new ReadOnlyStringWrapper(this, "shown", "");
    private final JobStatus job = new JobStatus("Choose a module and two texts, then Compute.");
    private Computed computed;

    public ComponentsViewModel(Session session, JobRunner jobs) {
        this.session = session;
        this.jobs = jobs;
        this.modules = FXCollections.unmodifiableObservableList(FXCollections.observableArrayList(decomposableModules(session)));
        this.texts = session.textNames();   // texts added later (e.g. a user's file in the Train dialog) appear here too
        module.addListener((obs, old, now) -> maxRank.set(maxRank(now)));
        module.set(modules.isEmpty() ? null : modules.get(0));
        target.set(defaultText("de", 0));
        retain.set(defaultText("en", 1));
    }

    /** Matrices inside the blocks (attention and MLP projections), in the model's weight order. */
    private static List<String> decomposableModules(Session session) {
        return ModuleNames.matching(session.model().model().weights(), "*").stream()
                .filter(m -> ModuleNames.layerOf(m).isPresent())
                .toList();
    }

    private String defaultText(String preferred, int fallback) {
        if (texts.contains(preferred)) {
            return preferred;
        }
        return texts.size() > fallback ? texts.get(fallback) : null;
    }

    /** Weight matrices that can be decomposed, e.g. {@code model.layers.3.self_attn.o_proj}. */
    public ObservableList<String> modules() {
        return modules;
    }

    /** Names of the session's texts, the choices for target and retain. */
    public ObservableList<String> texts() {
        return texts;
    }

    public StringProperty moduleProperty() {
        return module;
    }

    /** The most components the chosen module has: the smaller side of its matrix (0 with none chosen). */
    public ReadOnlyIntegerProperty maxRankProperty() {
        return maxRank.getReadOnlyProperty();
    }

    /** How many top SVD components to score (default {@value #DEFAULT_RANK}). */
    public ObjectProperty<Integer> rankProperty() {
        return rank;
    }

    /** A decomposition file to take the components from, or null for the SVD (spec {@code spd}). */
    public ObjectProperty<Path> spdProperty() {
        return spd;
    }

    /** The state of a Decompose dialog for the chosen matrix; a finished decomposition becomes {@link #spdProperty()}. */
    public DecomposeViewModel decomposer() {
        return new DecomposeViewModel(session, jobs, module.get(), spd::set);
    }

    /** The text whose loss removing a component should raise (default "de"). */
    public StringProperty targetProperty() {
        return target;
    }

    /** The text whose loss should stay (default "en"). */
    public StringProperty retainProperty() {
        return retain;
    }

    /** The scored components of the last computation, largest contrast first. */
    public ObservableList<ComponentRow> rows() {
        return rows;
    }

    /** Lines describing where the last inspected component fires. */
    public ObservableList<String> inspection() {
        return inspection;
    }

    /** What {@link #rows()} were computed for, e.g. "model.layers.3.self_attn.o_proj, top 8, de vs en"; "" before. */
    public ReadOnlyStringProperty shownProperty() {
        return shown.getReadOnlyProperty();
    }

    /** The component chosen for the prefactor run (the session's), or null. */
    public ReadOnlyObjectProperty<ComponentChoice> chosenProperty() {
        return session.componentProperty();
    }

    /** One line on what happened last. */
    public ReadOnlyStringProperty statusProperty() {
        return job.statusProperty();
    }

    /** What is wrong with the input or the last job, with what to do about it; "" when nothing is. */
    public ReadOnlyStringProperty problemProperty() {
        return job.problemProperty();
    }

    /** True while a computation or inspection runs. */
    public ReadOnlyBooleanProperty busyProperty() {
        return job.busyProperty();
    }

    /** Scores the chosen module's components on target and retain, off the UI thread. */
    public void compute() {
        if (job.refuseIfBusy()) {
            return;
        }
        String problem = inputProblem();
        if (problem != null) {
            job.problem(problem);
            return;
        }
        String m = module.get();
        int k = rank.get();
        var options = new HeadImportance.Options(Math.min(CONTEXT, session.summary().maxPositions()), BATCH);
        Computed request = new Computed(m, k, spd.get(), target.get(), retain.get());
        long started = System.nanoTime();
        job.submit(jobs, new LeasedJob<>(session::snapshot,
                new ComponentContrastJob(session.model(), spec(request), text(target.get()), text(retain.get()), options)), result -> {
            rows.setAll(result);
            inspection.clear();
            computed = request;
            shown.set(m + (request.decomposition() == null ? ", top " + k : ", decomposition " + request.decomposition().getFileName())
                    + ", " + request.target() + " vs " + request.retain());
            ComponentRow best = result.get(0);
            job.status(String.format(Locale.ROOT, "%d components of %s on %s vs %s in %.1f s; highest contrast #%d (%+.4f nats)",
                    result.size(), m, request.target(), request.retain(), (System.nanoTime() - started) / 1e9,
                    best.index(), best.contrast()));
        });
    }

    /**
     * Hands {@code chosen}'s components to the prefactor run, one scalar each (sets {@link Session#componentProperty()}).
     * Nothing is chosen unless every row is in the shown table.
     */
    public void choose(List<ComponentRow> chosen) {
        if (chosen.isEmpty() || !chosen.stream().allMatch(this::isShown)) {
            isShown(null);   // says what to do
            return;
        }
        List<Integer> indices = chosen.stream().map(ComponentRow::index).toList();
        var choice = new ComponentChoice(computed.module(), indices, computed.rank(), computed.decomposition());
        session.componentProperty().set(choice);
        job.problem("");
        job.status((indices.size() == 1 ? "Component " : "Components ") + choice.label() + " of " + computed.module()
                + (computed.decomposition() == null ? " (rank " + computed.rank() + ")" : " (" + computed.decomposition().getFileName() + ")")
                + " will be used for the prefactor run" + (indices.size() == 1 ? "." : ", one scalar each."));
    }

    /** Lists the tokens where {@code row}'s component activates most on the target and retain texts. */
    public void inspect(ComponentRow row) {
        if (job.refuseIfBusy() || !isShown(row)) {
            return;
        }
        Computed of = computed;
        job.submit(jobs, new LeasedJob<>(session::snapshot, new ComponentInspectionJob(session.model(), spec(of), row.index(),
                List.of(text(of.target()), text(of.retain())), Math.min(CONTEXT, session.summary().maxPositions()))), lines -> {
            inspection.setAll(lines);
            job.status("Top activations of component #" + row.index() + " of " + of.module() + " on " + of.target()
                    + " and " + of.retain() + ".");
        });
    }

    /** The engine's spec of a computation: one module, its rank or decomposition. */
    private static ComponentsSpec spec(Computed c) {
        return new ComponentsSpec(c.module(), c.rank(), c.decomposition() == null ? null : c.decomposition().toString(), null);
    }

    /** Whether {@code row} is one of the rows shown; if not, the problem line says to select one. */
    private boolean isShown(ComponentRow row) {
        if (row == null || computed == null || !rows.contains(row)) {
            job.problem("Select a component in the table first (Compute fills it).");
            return false;
        }
        return true;
    }

    /** Why {@link #compute()} cannot run with the current choices, or null when it can. */
    private String inputProblem() {
        String m = module.get();
        if (m == null || !modules.contains(m)) {
            return "Choose a module to decompose, e.g. " + (modules.isEmpty() ? "model.layers.0.self_attn.o_proj" : modules.get(0)) + ".";
        }
        Integer k = rank.get();
        if (spd.get() == null && (k == null || k < 1 || k > maxRank.get())) {
            return "Rank must be between 1 and " + maxRank.get() + " for " + m + " (its smaller dimension); got " + k + ".";
        }
        for (String[] choice : new String[][] {{"target", target.get()}, {"retain", retain.get()}}) {
            if (choice[1] == null || !texts.contains(choice[1])) {
                return texts.isEmpty() ? "This model ships no texts; add a text to compare components on."
                        : "Choose a " + choice[0] + " text among " + String.join(", ", texts) + ".";
            }
        }
        if (target.get().equals(retain.get())) {
            return "Target and retain are both '" + target.get() + "'; choose two different texts so that the contrast means something.";
        }
        return null;
    }

    private int maxRank(String m) {
        if (m == null || !modules.contains(m)) {
            return 0;
        }
        long[] shape = session.model().model().weights().shape(m + ".weight");                   // [out, in]
        return (int) Math.min(shape[0], shape[1]);
    }

    /** A session text, cut to {@value #TEXT_TOKENS} tokens. */
    private ComponentContrastJob.Text text(String name) {
        long[] ids = session.texts().get(name);
        return new ComponentContrastJob.Text(name, Arrays.copyOf(ids, Math.min(ids.length, TEXT_TOKENS)));
    }
}
