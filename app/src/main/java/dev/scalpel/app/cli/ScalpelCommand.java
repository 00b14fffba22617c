package dev.scalpel.app.cli;

import dev.scalpel.engine.api.ScalpelException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code scalpel}: the root command of the CLI (the Launcher opens the workbench when there are no arguments). */
@Command(name = "scalpel",
        mixinStandardHelpOptions = true,
        versionProvider = ScalpelCommand.Version.class,
        description = "Head-level surgery on transformer language models.",
        subcommands = {OpenCommand.class, InfoCommand.class, GenerateCommand.class, EvalCommand.class, ImportanceCommand.class, DecomposeCommand.class, TrainCommand.class, DemoCommand.class, ExportCommand.class, HeadsCommand.class, VectorsCommand.class,
                BenchCommand.class,
                BuildSampleCommand.class,
                CommandLine.HelpCommand.class})
public final class ScalpelCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * Runs the CLI with {@code args}, writing to {@code out} / {@code err}, and returns the exit status.
     * User errors ({@link ScalpelException}) print one "error:" line and return 1; other failures print their
     * message (the stack trace only with SCALPEL_DEBUG=1) and return 2.
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cli = new CommandLine(new ScalpelCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ScalpelException) {
                commandLine.getErr().println("error: " + e.getMessage());
                return 1;
            }
            commandLine.getErr().println("internal error: " + e + " (rerun with SCALPEL_DEBUG=1 for details, and report it)");
            if (System.getenv("SCALPEL_DEBUG") != null) {
                e.printStackTrace(commandLine.getErr());
            }
            return 2;
        });
        return cli.execute(args);
    }

    /** Reads the version Maven wrote into version.properties. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = ScalpelCommand.class.getResourceAsStream("/dev/scalpel/app/version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"scalpel " + p.getProperty("version", "unknown")};
        }
    }
}
