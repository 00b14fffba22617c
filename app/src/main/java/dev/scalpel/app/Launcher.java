package dev.scalpel.app;

import dev.scalpel.app.cli.ModelOptions;
import dev.scalpel.app.cli.ScalpelCommand;
import dev.scalpel.app.ui.Workbench;
import dev.scalpel.engine.api.ScalpelException;

/**
 * The process entry point (it must not extend a JavaFX Application). With no arguments it opens the workbench on the
 * sample model; otherwise it runs the CLI and exits with its status. The only place in Scalpel that calls System.exit.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) {
        PackagedRuntime.applyDefaults(System.getProperties(), System.getenv());   // before any native library loads
        if (args.length == 0) {
            System.exit(openWorkbench());
        }
        System.exit(ScalpelCommand.run(args, System.out, System.err));
    }

    /** No arguments: the workbench on the sample model; without a display, a one-line hint to the CLI (see Workbench#open). */
    private static int openWorkbench() {
        try {
            Workbench.open(ModelOptions.sampleModel());
            return 0;
        } catch (ScalpelException e) {   // no display, or a model the workbench cannot open
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }
}
