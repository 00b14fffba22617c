package dev.scalpel.app.ui;

import dev.scalpel.app.ui.export.ExportDialog;
import dev.scalpel.app.ui.export.ExportViewModel;
import dev.scalpel.app.ui.jobs.FxJobRunner;
import dev.scalpel.app.ui.workspace.Autosave;
import dev.scalpel.app.ui.workspace.Workspace;
import dev.scalpel.engine.api.ScalpelException;
import java.util.function.Consumer;
import javafx.scene.control.ToggleGroup;
import javafx.scene.control.RadioMenuItem;
import javafx.animation.KeyFrame;
import javafx.animation.Timeline;
import javafx.scene.control.Separator;
import javafx.stage.FileChooser;
import dev.scalpel.app.ui.jobs.Job;
import dev.scalpel.app.ui.jobs.JobContext;
import dev.scalpel.engine.importance.ImportanceCache;
import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.engine.model.LoadedModel;
import dev.scalpel.icons.Glyph;
import dev.scalpel.icons.Icons;
import dev.scalpel.views.common.GlyphNodes;
import dev.scalpel.engine.api.HeadMark;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javafx.beans.property.ReadOnlyObjectProperty;
import javafx.beans.property.ReadOnlyObjectWrapper;
import javafx.beans.property.SimpleStringProperty;
import javafx.beans.property.StringProperty;
import javafx.beans.value.ObservableValue;
import javafx.collections.ListChangeListener;
import javafx.collections.MapChangeListener;
import javafx.concurrent.Task;
import javafx.geometry.Orientation;
import javafx.scene.Scene;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.Menu;
import javafx.scene.control.MenuBar;
import javafx.scene.control.MenuItem;
import javafx.scene.control.SeparatorMenuItem;
import javafx.scene.control.SplitPane;
import javafx.scene.control.ToolBar;
import javafx.scene.control.Tooltip;
import javafx.scene.image.Image;
import javafx.scene.input.KeyCombination;
import javafx.scene.input.TransferMode;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.StackPane;
import javafx.scene.layout.VBox;
import javafx.scene.paint.Color;
import javafx.stage.DirectoryChooser;
import dev.scalpel.app.ui.jobs.LeasedJob;
import dev.scalpel.app.ui.train.JobImport;
import javafx.stage.Stage;
import org.controlsfx.control.TaskProgressView;

/**
 * The workbench window: menus with keyboard shortcuts, the main toolbar, the open model's {@link SessionView} in the
 * centre, the jobs panel on the right (a ControlsFX TaskProgressView: progress, message and cancel for every long
 * job) and the status bar. Opening a model (File ▸ Open, a recent model, or a folder dropped on the window) loads it as
 * a job and swaps the centre when it is ready.
 */
public final class WorkbenchWindow {
    private final Stage stage;
    private final FxJobRunner jobs;
    private final UserFolders folders;
    private final RecentModels recent;
    private final ImportanceCache cache;
    private final BorderPane root = new BorderPane();
    private final SplitPane centre = new SplitPane();
    private final TaskProgressView<Task<?>> jobsPanel = new TaskProgressView<>();
    private final StatusBar statusBar = new StatusBar();
    private final StringProperty status = new SimpleStringProperty(this, "status", "ready");
    private final ReadOnlyObjectWrapper<SessionView> view = new ReadOnlyObjectWrapper<>(this, "view");
    private final Menu recentMenu = new Menu("Recent models");
    private final MenuItem undo = new MenuItem("Undo");
    private final MenuItem redo = new MenuItem("Redo");
    /** The jobs panel above the live training chart. */
    private final VBox right = new VBox();
    private final Autosave autosave;
    private final Timeline autosaveTimer;
    /** The workspace file opened or last saved, for File ▸ Save; null before either. */
    private Path workspaceFile;
    /** Where models are opened: the CPU unless chosen otherwise (--device, or Model ▸ Device). */
    private ComputeDevice device = ComputeDevice.CPU;

    /**
     * @param cache importance maps kept between runs, or null for none
     */
    public WorkbenchWindow(Stage stage, FxJobRunner jobs, UserFolders folders, ImportanceCache cache) {
        this.stage = stage;
        this.jobs = jobs;
        this.folders = folders;
        this.recent = new RecentModels(folders.recentModels());
        this.cache = cache;
        this.autosave = new Autosave(folders.autosave());
        this.autosaveTimer = new Timeline(new KeyFrame(Autosave.INTERVAL, e -> autosaveNow()));
        autosaveTimer.setCycleCount(Timeline.INDEFINITE);
        autosaveTimer.play();
        jobs.running().addListener((ListChangeListener<Task<?>>) c -> {
            while (c.next()) {
                jobsPanel.getTasks().addAll(c.getAddedSubList());
            }
        });
        jobsPanel.setId("jobs");
        Label jobsTitle = new Label("Jobs");
        jobsTitle.setStyle("-fx-font-weight: bold; -fx-font-size: 13px; -fx-padding: 8 0 4 8;");
        right.getChildren().setAll(jobsTitle, jobsPanel, new StackPane());
        jobsPanel.setPrefHeight(260);
        jobsPanel.setMinHeight(120);
        right.setMinWidth(240);
        right.setPrefWidth(300);
        SplitPane.setResizableWithParent(right, false);
        centre.setOrientation(Orientation.HORIZONTAL);
        centre.getItems().setAll(new StackPane(), new StackPane(new Label("opening the model …")), right);
        centre.setDividerPositions(0.2, 0.79);

        statusBar.follow(status);
        root.setTop(new VBox(menuBar(), toolBar()));
        root.setCenter(centre);
        root.setBottom(statusBar);
        acceptDroppedFolders();

        stage.setTitle("Scalpel");
        stage.getIcons().add(new Image(Icons.resource(Icons.APP_PNG).toExternalForm()));
        Scene scene = new Scene(root, 1440, 900);
        scene.getStylesheets().add(WorkbenchWindow.class.getResource("workbench.css").toExternalForm());
        stage.setScene(scene);
    }

    public void show() {
        stage.show();
    }

    /** The view of the open model, null until one is open. */
    public ReadOnlyObjectProperty<SessionView> viewProperty() {
        return view.getReadOnlyProperty();
    }

    /** The open model's session, or null. */
    public Session session() {
        return view.get() == null ? null : view.get().session();
    }

    /** Opens the model folder {@code dir} as a job; the window switches to it when it is loaded. */
    public void openModel(Path dir) {
        openModel(dir, session -> {});
    }

    /**
     * The first thing shown: after a crash (the last run did not stop cleanly) the autosaved workspace, if the user
     * wants it back; otherwise {@code dir}.
     */
    public void openFirst(Path dir) {
        boolean crashed = autosave.previousRunCrashed();
        startAutosave();
        if (crashed && Alerts.confirm(stage, "Restore the last session?", "Scalpel did not close cleanly last time. "
                + "Restore the workspace autosaved at " + autosave.autosaveFile() + "?")) {
            openWorkspace(autosave.autosaveFile());
        } else {
            openModel(dir);
        }
    }

    /** Marks this run as started for crash detection (the autosave timer runs from the start). */
    public void startAutosave() {
        autosave.start();
    }

    /** File ▸ Open workspace: opens the model it names, then restores marks, maps, edits and head groups. */
    public void openWorkspace(Path file) {
        Workspace workspace;
        Path dir;
        try {
            workspace = Workspace.read(file);
            dir = workspace.modelToOpen();
        } catch (ScalpelException e) {
            status.set("cannot open the workspace: " + e.getMessage());
            Alerts.error(stage, "Cannot open the workspace", e.getMessage());
            return;
        }
        openModel(dir, session -> {
            try {
                workspace.restoreInto(session);
                workspaceFile = file.equals(autosave.autosaveFile()) ? null : file;
                status.set("restored workspace " + file);
            } catch (ScalpelException e) {
                status.set("opened the model, but not the workspace: " + e.getMessage());
                Alerts.error(stage, "Cannot restore the workspace", e.getMessage());
            }
        });
    }

    /** File ▸ Save workspace: to the file it was opened from or last saved to, else asks where. */
    public void saveWorkspace(Path file) {
        if (session() == null) {
            return;
        }
        try {
            Workspace.capture(session()).write(file);
            workspaceFile = file;
            status.set("saved workspace " + file);
        } catch (ScalpelException e) {
            status.set("cannot save the workspace: " + e.getMessage());
            Alerts.error(stage, "Cannot save the workspace", e.getMessage());
        }
    }

    private void openModel(Path dir, Consumer<Session> afterInstall) {
        if (!jobs.running().isEmpty()) {
            status.set("finish or cancel the running jobs before opening another model");
            return;
        }
        status.set("opening " + dir + " …");
        jobs.submit(new Job<Session>() {
            @Override
            public String title() {
                return "Open " + dir.getFileName();
            }

            @Override
            public Session run(JobContext context) {
                context.progress(-1, "loading weights and tokenizer");
                return new Session(LoadedModel.open(dir, device));
            }
        }, session -> {
            install(session);
            afterInstall.accept(session);
            if (session.mapProperty().get() == null && !session.texts().isEmpty()) {
                view.get().computeMap();
            }
        }, error -> {
            status.set("could not open " + dir + ": " + error.getMessage());
            Alerts.error(stage, "Cannot open the model", error.getMessage());
        });
    }

    private void install(Session session) {
        SessionView previous = view.get();
        SessionView next = new SessionView(session, jobs, cache, stage, this::followStatus);
        view.set(next);
        SplitPane.setResizableWithParent(next.modelPanel(), false);
        double[] dividers = centre.getDividerPositions();
        centre.getItems().set(0, next.modelPanel());
        centre.getItems().set(1, next.tabs());
        VBox.setVgrow(next.trainingChart(), javafx.scene.layout.Priority.ALWAYS);
        right.getChildren().set(2, next.trainingChart());
        centre.setDividerPositions(dividers);
        undo.disableProperty().bind(session.undo().canUndoProperty().not());
        redo.disableProperty().bind(session.undo().canRedoProperty().not());
        undo.textProperty().bind(javafx.beans.binding.Bindings.concat("Undo ", session.undo().undoNameProperty()));
        redo.textProperty().bind(javafx.beans.binding.Bindings.concat("Redo ", session.undo().redoNameProperty()));
        session.marks().addListener((MapChangeListener<Object, HeadMark>) c -> statusBar.showMarks(
                session.marked(HeadMark.TRAIN).size(), session.marked(HeadMark.FREEZE).size()));
        statusBar.showMarks(0, 0);
        statusBar.showDevice(session.model().model().device().toString().toLowerCase(java.util.Locale.ROOT));
        stage.setTitle("Scalpel — " + session.modelDir().getFileName());
        recent.opened(session.modelDir());
        refreshRecentMenu();
        status.set("opened " + session.modelDir() + " (" + session.summary().architecture() + ", "
                + String.format(java.util.Locale.ROOT, "%,d", session.summary().parameters()) + " parameters)");
        if (previous != null) {
            previous.session().close();
        }
    }

    /** Autosave (every minute): a failure is a status line, never an interruption. */
    private void autosaveNow() {
        if (session() != null) {
            try {
                autosave.save(session());
            } catch (RuntimeException e) {
                status.set("autosave failed: " + e.getMessage());
            }
        }
    }

    /** The status bar shows the latest message of any view model. */
    private void followStatus(ObservableValue<String> source) {
        source.addListener((obs, old, now) -> status.set(now));
    }

    private MenuBar menuBar() {
        MenuItem open = item("Open model…", "Shortcut+O", this::chooseModel);
        MenuItem addGroup = item("Add head group to library…", "Shortcut+G", () -> {
            if (view.get() != null) {
                view.get().chooseGroupFile();
            }
        });
        Menu file = new Menu("_File", null, open, recentMenu, new SeparatorMenuItem(),
                item("Open workspace…", "Shortcut+Shift+O", this::chooseWorkspace),
                item("Save workspace", "Shortcut+S", () -> {
                    if (workspaceFile != null) {
                        saveWorkspace(workspaceFile);
                    } else {
                        chooseWorkspaceTarget();
                    }
                }),
                item("Save workspace as…", "Shortcut+Shift+S", this::chooseWorkspaceTarget), new SeparatorMenuItem(),
                addGroup, item("Export…", "Shortcut+E", this::showExport),
                item("Import job…", null, this::chooseJobToImport), new SeparatorMenuItem(),
                item("Quit", "Shortcut+Q", stage::close));
        refreshRecentMenu();
        undo.setAccelerator(KeyCombination.keyCombination("Shortcut+Z"));
        undo.setOnAction(e -> undoOrRedo(true));
        redo.setAccelerator(KeyCombination.keyCombination("Shortcut+Shift+Z"));
        redo.setOnAction(e -> undoOrRedo(false));
        undo.setDisable(true);
        redo.setDisable(true);
        Menu edit = new Menu("_Edit", null, undo, redo, new SeparatorMenuItem(),
                item("Clear head marks", "Shortcut+Shift+M", () -> withSession(s -> s.marks().clear())));
        Menu heads = new Menu("_Heads", null, item("Compute importance map", "Shortcut+I", () -> withView(SessionView::computeMap)));
        Menu train = new Menu("_Train", null, item("Train…", "Shortcut+T", () -> withView(SessionView::showTrainDialog)),
                item("Evaluate languages", "Shortcut+L", () -> withView(SessionView::evaluateLanguages)));
        MenuBar bar = new MenuBar(file, edit, heads, train, deviceMenu());
        bar.setId("menu");
        return bar;
    }

    private ToolBar toolBar() {
        Button open = toolButton(Glyph.OPEN, "Open a model folder (Ctrl+O)", this::chooseModel);
        Button undoButton = toolButton(Glyph.UNDO, "Undo (Ctrl+Z)", () -> undoOrRedo(true));
        undoButton.disableProperty().bind(undo.disableProperty());
        Button redoButton = toolButton(Glyph.REDO, "Redo (Ctrl+Shift+Z)", () -> undoOrRedo(false));
        redoButton.disableProperty().bind(redo.disableProperty());
        Button save = toolButton(Glyph.SAVE, "Save the workspace (Ctrl+S)", () -> {
            if (workspaceFile != null) {
                saveWorkspace(workspaceFile);
            } else {
                chooseWorkspaceTarget();
            }
        });
        Button export = toolButton(Glyph.EXPORT, "Export an HF checkpoint, PEFT adapter, head group or edits file (Ctrl+E)", this::showExport);
        Button train = toolButton(Glyph.TRAIN, "Train on the marked heads or the chosen component (Ctrl+T)",
                () -> withView(SessionView::showTrainDialog));
        Button evaluate = toolButton(Glyph.EVAL, "Evaluate base and edited per language (Ctrl+L)", () -> withView(SessionView::evaluateLanguages));
        return new ToolBar(open, save, new Separator(), undoButton, redoButton, new Separator(), train, evaluate, export);
    }

    private static Button toolButton(Glyph glyph, String tip, Runnable action) {
        Button b = new Button(null, GlyphNodes.of(glyph, 18, Color.web("#333333")));
        b.setTooltip(new Tooltip(tip));
        b.setOnAction(e -> action.run());
        b.setId("tool-" + glyph.name().toLowerCase(java.util.Locale.ROOT));
        return b;
    }

    private static MenuItem item(String text, String accelerator, Runnable action) {
        MenuItem item = new MenuItem(text);
        if (accelerator != null) {
            item.setAccelerator(KeyCombination.keyCombination(accelerator));
        }
        item.setOnAction(e -> action.run());
        return item;
    }

    private void withView(Consumer<SessionView> action) {
        if (view.get() != null) {
            action.accept(view.get());
        }
    }

    /** Edit ▸ Undo / Redo; a step that cannot be taken now (a head-group swap while jobs run) says why and stays. */
    private void undoOrRedo(boolean undo) {
        withSession(s -> {
            try {
                if (undo) {
                    s.undo().undo();
                } else {
                    s.undo().redo();
                }
            } catch (ScalpelException e) {
                Alerts.error(stage, undo ? "Cannot undo now" : "Cannot redo now", e.getMessage());
            }
        });
    }

    /** The Device menu: CPU or CUDA; choosing one reopens the open model there. */
    private Menu deviceMenu() {
        ToggleGroup choice = new ToggleGroup();
        Menu menu = new Menu("_Device");
        for (String spec : List.of("cpu", "cuda")) {
            RadioMenuItem item = new RadioMenuItem(spec.equals("cpu") ? "CPU" : "CUDA (GPU)");
            item.setId("device-" + spec);
            item.setToggleGroup(choice);
            item.setSelected(device.spec().startsWith(spec));
            item.setOnAction(e -> {
                try {
                    useDevice(ComputeDevice.parse(spec));
                } catch (ScalpelException ex) {
                    Alerts.error(stage, "Cannot use " + item.getText(), ex.getMessage());
                    choice.getToggles().stream().filter(t -> ((RadioMenuItem) t).getId().equals("device-" + device.spec().replaceFirst(":.*", "")))
                            .findFirst().ifPresent(t -> t.setSelected(true));
                }
            });
            menu.getItems().add(item);
        }
        return menu;
    }

    /** Opens models on {@code chosen} from now on, and reopens the open model there. */
    public void useDevice(ComputeDevice chosen) {
        if (chosen.equals(device)) {
            return;
        }
        device = chosen;
        if (session() != null) {
            openModel(session().modelDir());
        }
    }

    /** Where models are opened. */
    public ComputeDevice device() {
        return device;
    }

    private void withSession(java.util.function.Consumer<Session> action) {
        if (session() != null) {
            action.accept(session());
        }
    }

    private void chooseModel() {
        DirectoryChooser chooser = new DirectoryChooser();
        chooser.setTitle("Open a Hugging Face model folder (config.json, *.safetensors, tokenizer.json)");
        File dir = chooser.showDialog(stage);
        if (dir != null) {
            openModel(dir.toPath());
        }
    }

    private void chooseWorkspace() {
        FileChooser chooser = workspaceChooser("Open a Scalpel workspace");
        File file = chooser.showOpenDialog(stage);
        if (file != null) {
            openWorkspace(file.toPath());
        }
    }

    private void chooseWorkspaceTarget() {
        FileChooser chooser = workspaceChooser("Save the workspace (marks, maps, edits, head groups)");
        chooser.setInitialFileName("workspace.json");
        File file = chooser.showSaveDialog(stage);
        if (file != null) {
            saveWorkspace(file.toPath());
        }
    }

    private static FileChooser workspaceChooser(String title) {
        FileChooser chooser = new FileChooser();
        chooser.setTitle(title);
        chooser.getExtensionFilters().add(new FileChooser.ExtensionFilter("Scalpel workspace", "*.json"));
        return chooser;
    }

    /**
     * File ▸ Import job…: a job folder's trained edit onto the edit stack (undoable), then the per-language losses; or
     * its importance map onto the heatmap.
     */
    private void chooseJobToImport() {
        Session s = session();
        if (s == null) {
            return;
        }
        DirectoryChooser chooser = new DirectoryChooser();
        chooser.setTitle("Import a job folder (scalpel export-job, run with torchrun)");
        File dir = chooser.showDialog(stage);
        if (dir != null) {
            importJob(s, dir.toPath());
        }
    }

    void importJob(Session s, Path jobDir) {
        jobs.submit(new LeasedJob<>(s::snapshot, new JobImport(s, jobDir)), imported -> {
            status.set(imported.applyTo(s));
            if (imported.edit() != null) {
                withView(SessionView::evaluateLanguages);
            }
        }, error -> Alerts.error(stage, "Cannot import the job", error.getMessage()));
    }

    private void showExport() {
        if (session() != null) {
            ExportViewModel vm = new ExportViewModel(session(), jobs);
            followStatus(vm.statusProperty());
            new ExportDialog(vm, stage).show();
        }
    }

    private void refreshRecentMenu() {
        List<Path> dirs = recent.list();
        recentMenu.getItems().setAll(dirs.stream().map(d -> item(d.getFileName() + "  —  " + d.getParent(), null, () -> openModel(d))).toList());
        recentMenu.setDisable(dirs.isEmpty());
    }

    /** A folder dragged from the file manager onto the window opens as a model. */
    private void acceptDroppedFolders() {
        root.setOnDragOver(e -> {
            if (e.getDragboard().hasFiles() && e.getDragboard().getFiles().stream().anyMatch(File::isDirectory)) {
                e.acceptTransferModes(TransferMode.LINK);
            }
            e.consume();
        });
        root.setOnDragDropped(e -> {
            var dir = e.getDragboard().getFiles().stream().map(File::toPath).filter(Files::isDirectory).findFirst();
            dir.ifPresent(this::openModel);
            e.setDropCompleted(dir.isPresent());
            e.consume();
        });
    }

    /** Closes the open model and stops background refreshes; the caller closes the job runner. */
    public void close() {
        autosaveTimer.stop();
        autosave.stop();
        statusBar.stop();
        if (session() != null) {
            session().close();
        }
    }

    UserFolders folders() {
        return folders;
    }
}
