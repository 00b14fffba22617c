package dev.scalpel.app.ui;

import dev.scalpel.app.ui.jobs.FxJobRunner;
import dev.scalpel.app.ui.workspace.Workspace;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.importance.ImportanceCache;
import dev.scalpel.engine.model.ComputeDevice;
import java.nio.file.Files;
import java.nio.file.Path;
import javafx.application.Application;
import javafx.stage.Stage;

/** The JavaFX application: one {@link WorkbenchWindow}, opened on the model folder or workspace given to {@link #open}. */
public final class Workbench extends Application {
    /** Set by {@link #open} before launch: the model folder or workspace file to show first, and the device. */
    private static Path first;
    private static ComputeDevice firstDevice = ComputeDevice.CPU;

    private final FxJobRunner jobs = new FxJobRunner();
    private WorkbenchWindow window;

    /** Opens the window on a model folder or a workspace file (models on the CPU) and returns when it is closed. */
    public static void open(Path modelOrWorkspace) {
        open(modelOrWorkspace, ComputeDevice.CPU);
    }

    /** As {@link #open(Path)}, opening models on {@code device}. */
    public static void open(Path modelOrWorkspace, ComputeDevice device) {
        if (Files.isRegularFile(modelOrWorkspace)) {
            Workspace.read(modelOrWorkspace);   // a file that is no workspace: refused before any window
        }
        first = modelOrWorkspace;
        firstDevice = device;
        try {
            Application.launch(Workbench.class);
        } catch (UnsupportedOperationException noDisplay) {   // glass: "Unable to open DISPLAY"
            throw new ScalpelException("The workbench cannot open a window here (" + noDisplay.getMessage()
                    + "); the CLI works without a display: ./scalpel --help");
        }
    }

    @Override
    public void start(Stage stage) {
        window = new WorkbenchWindow(stage, jobs, UserFolders.standard(), new ImportanceCache(ImportanceCache.defaultDir()));
        window.useDevice(firstDevice);
        window.show();
        if (Files.isRegularFile(first)) {
            window.startAutosave();
            window.openWorkspace(first);
        } else {
            window.openFirst(first);
        }
    }

    @Override
    public void stop() {
        if (window != null) {
            window.close();
        }
        jobs.close();
    }
}
