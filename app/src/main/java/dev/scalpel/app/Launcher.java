package dev.scalpel.app;

import dev.scalpel.app.cli.ScalpelCommand;

/**
 * The process entry point (it must not extend a JavaFX Application). Runs the CLI and exits with its status; the
 * only place in Scalpel that calls System.exit.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) {
        System.exit(ScalpelCommand.run(args, System.out, System.err));
    }
}
