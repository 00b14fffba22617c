package dev.scalpel.app.ui;

import dev.scalpel.engine.model.ComputeDevice;
import dev.scalpel.app.ui.jobs.FxJobRunner;
import dev.scalpel.engine.importance.ImportanceCache;
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
        first = modelOrWorkspace;
        firstDevice = device;
        Application.launch(Workbench.class);
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
