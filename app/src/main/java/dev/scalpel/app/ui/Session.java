package dev.scalpel.app.ui;

import dev.scalpel.engine.session.ModelSession;
import dev.scalpel.engine.session.Snapshot;
import dev.scalpel.engine.api.HeadId;
import dev.scalpel.engine.api.HeadSet;
import dev.scalpel.engine.api.ImportanceMap;
import dev.scalpel.engine.api.ModelSummary;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.edit.Edit;
import dev.scalpel.engine.edit.EditOverlay;
import dev.scalpel.engine.edit.LiveEdit;
import dev.scalpel.engine.groups.HeadGroup;
import dev.scalpel.engine.groups.HeadGroupRegistry;
import dev.scalpel.engine.model.LinearOverlay;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.engine.model.ModelSummaries;
import dev.scalpel.engine.api.HeadMark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javafx.beans.property.ObjectProperty;
import javafx.beans.property.SimpleObjectProperty;
import javafx.collections.FXCollections;
import javafx.collections.ListChangeListener;
import javafx.collections.MapChangeListener;
import javafx.collections.ObservableList;
import javafx.collections.ObservableMap;

/**
 * The workbench's observable view of the model it has open, over the engine's {@link ModelSession}, which owns the model
 * and its state (edit stack, head groups swapped in, texts): this adds what only the UI needs (head marks, importance
 * maps, the head-group library, the component chosen for a prefactor run, the undo stack) and observable lists and maps
 * that mirror the engine's state. Mutated on the UI thread; jobs never read it, they read a {@link Snapshot} taken with
 * {@link #snapshot()}. A head-group swap is refused while jobs hold snapshots (the UI never waits for them).
 * The base checkpoint on disk is never written.
 */
public final class Session implements AutoCloseable {
    /** Bundled texts are cut to this many tokens: enough for maps and evals that take seconds, not minutes. */
    public static final int TEXT_TOKENS = 4096;

    /**
     * The rank-1 components of one weight picked for a scalar-prefactor run (one scalar each): components
     * {@code indices} of a rank-{@code rank} SVD, or subcomponents of {@code decomposition} when it is not null.
     */
    public record ComponentChoice(String module, List<Integer> indices, int rank, Path decomposition) {
        public ComponentChoice {
            if (indices.isEmpty()) {
                throw new IllegalArgumentException("a prefactor run needs at least one component");
            }
            indices = List.copyOf(indices);
        }

        /** Component {@code index} of the top-{@code rank} SVD of {@code module}. */
        public ComponentChoice(String module, int index, int rank) {
            this(module, List.of(index), rank, null);
        }

        /** "#3" or "#3, #7". */
        public String label() {
            return indices.stream().map(i -> "#" + i).collect(java.util.stream.Collectors.joining(", "));
        }
    }

    /** A saved head group in the library, with the file it came from. */
    public record LibraryGroup(Path file, HeadGroup group) {
        public String name() {
            return group.name();
        }
    }

    private final ModelSession core;
    private final ModelSummary summary;
    private final ObservableMap<HeadId, HeadMark> marks = FXCollections.observableHashMap();
    private final ObservableMap<String, ImportanceMap> maps = FXCollections.observableMap(new LinkedHashMap<>());
    private final ObjectProperty<ImportanceMap> map = new SimpleObjectProperty<>(this, "map");
    private final ObservableList<Edit> edits = FXCollections.observableArrayList();
    /** One read-only view for everyone: listeners on a view die with it, so it must live as long as the session. */
    private final ObservableList<Edit> editsView = FXCollections.unmodifiableObservableList(edits);
    private final List<Edit> everyEdit = new ArrayList<>();
    private final ObjectProperty<LiveEdit> live = new SimpleObjectProperty<>(this, "live");
    private final ObjectProperty<ComponentChoice> component = new SimpleObjectProperty<>(this, "component");
    private final ObservableList<LibraryGroup> library = FXCollections.observableArrayList();
    private final ObservableMap<String, HeadSet> loadedGroups = FXCollections.observableMap(new LinkedHashMap<>());
    private final ObservableMap<String, HeadSet> loadedGroupsView = FXCollections.unmodifiableObservableMap(loadedGroups);
    private final UndoStack undo = new UndoStack();
    private final ObservableList<String> textNames = FXCollections.observableArrayList();
    private final ObservableList<String> textNamesView = FXCollections.unmodifiableObservableList(textNames);

    /** Opens a session on {@code model}, reading its bundled {@code eval/*.txt} texts if it has them. */
    public Session(LoadedModel model) {
        this.core = new ModelSession(model);
        this.summary = ModelSummaries.of(model.dir());
        edits.addListener((ListChangeListener<Edit>) c -> core.setEdits(edits));
        marks.addListener((MapChangeListener<HeadId, HeadMark>) c -> core.setMarks(marks));
        Path evalDir = model.dir().resolve("eval");
        if (Files.isDirectory(evalDir)) {
            try (var files = Files.list(evalDir)) {
                for (Path f : files.sorted().toList()) {
                    String name = f.getFileName().toString();
                    if (name.endsWith(".txt")) {
                        addText(name.substring(0, name.length() - 4), Files.readString(f));
                    }
                }
            } catch (IOException e) {
                throw new ScalpelException("Cannot read the model's eval texts in " + evalDir + ": " + e.getMessage(), e);
            }
        }
    }

    public LoadedModel model() {
        return core.model();
    }

    public Path modelDir() {
        return core.model().dir();
    }

    public String modelHash() {
        return core.modelHash();
    }

    /**
     * The state now for a job, with a lease on the weights; take it on the job's thread and close it when the job ends
     * (head-group swaps are refused until then).
     */
    public Snapshot snapshot() {
        return core.snapshot();
    }

    public ModelSummary summary() {
        return summary;
    }

    /** Named texts (bundled languages and any the user added) as token ids, at most {@link #TEXT_TOKENS} each. */
    public Map<String, long[]> texts() {
        return core.texts();
    }

    /** Adds (or replaces) a named text, e.g. a user's file. */
    public void addText(String name, String text) {
        long[] ids = core.model().tokenizer().encode(text);
        core.putText(name, Arrays.copyOf(ids, Math.min(ids.length, TEXT_TOKENS)));
        textNames.remove(name);
        textNames.add(name);
    }

    /** The names of {@link #texts()}, observable: views that offer texts (components, train, compare) follow it. */
    public ObservableList<String> textNames() {
        return textNamesView;
    }

    /** ln V: the cross-entropy of a uniform guess over the vocabulary, in nats. */
    public double uniformCe() {
        return Math.log(summary.vocabSize());
    }

    /** The user's head marks (absent = none). */
    public ObservableMap<HeadId, HeadMark> marks() {
        return marks;
    }

    /** Heads marked with {@code mark}. */
    public HeadSet marked(HeadMark mark) {
        return HeadSet.of(marks.entrySet().stream().filter(e -> e.getValue() == mark).map(Map.Entry::getKey).toList());
    }

    /** Every importance map computed or opened in this session, by "domain · method". */
    public ObservableMap<String, ImportanceMap> maps() {
        return maps;
    }

    /** The map the heatmap shows. */
    public ObjectProperty<ImportanceMap> mapProperty() {
        return map;
    }

    /** Shows {@code m} and keeps it among {@link #maps()}. */
    public void showMap(ImportanceMap m) {
        maps.put(m.domain() + " · " + m.method(), m);
        map.set(m);
    }

    /** The active edits, oldest first (read-only; change it with {@link #addEdit} / {@link #removeEdit}). */
    public ObservableList<Edit> edits() {
        return editsView;
    }

    /** The overlay of the active edits, or null when there are none (the base model). */
    public LinearOverlay overlay() {
        return edits.isEmpty() ? null : new EditOverlay(List.copyOf(edits));
    }

    /** Adds a trained or loaded edit on top of the stack (undoable). The session owns it from now on. */
    public void addEdit(Edit edit) {
        everyEdit.add(edit);
        edits.add(edit);
        undo.done(new UndoStack.Action("add " + edit.describe(), () -> edits.remove(edit), () -> edits.add(edit)));
    }

    /** Takes an edit off the stack (undoable). */
    public void removeEdit(Edit edit) {
        int at = edits.indexOf(edit);
        if (at < 0) {
            return;
        }
        edits.remove(at);
        undo.done(new UndoStack.Action("remove " + edit.describe(), () -> edits.add(at, edit), () -> edits.remove(edit)));
    }

    /** While a training job runs: its live edit, whose latest weights a reader can lease (train while serving); else null. */
    public ObjectProperty<LiveEdit> liveProperty() {
        return live;
    }

    /** The component chosen for a scalar-prefactor run, or null. */
    public ObjectProperty<ComponentChoice> componentProperty() {
        return component;
    }

    /** The head-group library: groups read from files, loaded or not. */
    public ObservableList<LibraryGroup> library() {
        return library;
    }

    /** Reads a head-group file into the library (checked against this model) and returns its entry. */
    public LibraryGroup addToLibrary(Path file) {
        HeadGroup group = HeadGroup.read(file, core.model().model().device());
        group.checkCompatible(core.model().config());
        Optional<LibraryGroup> same = library.stream().filter(g -> g.name().equals(group.name())).findFirst();
        if (same.isPresent()) {
            group.close();
            return same.get();
        }
        LibraryGroup entry = new LibraryGroup(file, group);
        library.add(entry);
        return entry;
    }

    /** The groups swapped in now: name → the heads each took. */
    public ObservableMap<String, HeadSet> loadedGroups() {
        return loadedGroupsView;
    }

    /** Heads {@code group} would take that loaded groups own, with their owner (empty: no conflict). */
    public Map<HeadId, String> conflicts(LibraryGroup group) {
        return core.conflicts(group.group());
    }

    /**
     * Swaps {@code group} into the model (undoable: undo swaps it out and restores any group it replaced).
     *
     * @throws HeadGroupRegistry.ConflictException with {@link HeadGroupRegistry.OnConflict#CANCEL} and a conflict
     * @throws ScalpelException while jobs read the weights (nothing is changed)
     */
    public HeadSet applyGroup(LibraryGroup group, HeadGroupRegistry.OnConflict onConflict) {
        List<String> replaced = onConflict == HeadGroupRegistry.OnConflict.REPLACE
                ? core.conflicts(group.group()).values().stream().distinct().toList() : List.of();
        HeadSet taken = swapIn(group, onConflict);
        undo.done(new UndoStack.Action("apply head group " + group.name(), () -> {
            swapOut(group.name());
            replaced.forEach(name -> swapIn(libraryGroup(name), HeadGroupRegistry.OnConflict.CANCEL));
        }, () -> swapIn(group, onConflict)));
        return taken;
    }

    /** Swaps a loaded group out, restoring the weights it displaced (undoable). @throws ScalpelException while jobs run */
    public void swapOutGroup(String name) {
        LibraryGroup group = libraryGroup(name);
        swapOut(name);
        undo.done(new UndoStack.Action("swap out head group " + name,
                () -> swapIn(group, HeadGroupRegistry.OnConflict.CANCEL), () -> swapOut(name)));
    }

    private HeadSet swapIn(LibraryGroup group, HeadGroupRegistry.OnConflict onConflict) {
        HeadSet taken = core.applyGroup(group.group(), onConflict, ModelSession.Busy.REFUSE);
        syncLoaded();
        return taken;
    }

    private void swapOut(String name) {
        core.swapOutGroup(name, ModelSession.Busy.REFUSE);
        syncLoaded();
    }

    private LibraryGroup libraryGroup(String name) {
        return library.stream().filter(g -> g.name().equals(name)).findFirst()
                .orElseThrow(() -> new ScalpelException("No head group named '" + name + "' is in the library."));
    }

    private void syncLoaded() {
        loadedGroups.clear();
        loadedGroups.putAll(core.loadedGroups());
    }

    /** Edit ▸ Undo / Redo. */
    public UndoStack undo() {
        return undo;
    }

    @Override
    public void close() {
        core.close();
        everyEdit.forEach(Edit::close);
        library.forEach(g -> g.group().close());
    }
}
